"""Live scanning acceptance on the real clips of ../shared/data/video (skipped where it is absent)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from actors import openfr
from conftest import shared
from openfr.errors import BadInputError
from openfr.imageio import load_image


def _watch(clip: Path, watchlist: Path, home: Path) -> list[dict]:
    done = openfr("watch", str(clip), "--watchlist", str(watchlist), "--json", env={"OPENFR_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_hamilton_against_200_identities_alerts_once_for_miranda(tmp_path, engine):
    clip_dir = shared("video", "hamilton")
    watchlist = tmp_path / "watchlist"
    watchlist.mkdir()
    for name in ("lin-manuel-miranda.png", "alex-lacamoire.png"):  # Lacamoire is not in the clip
        shutil.copy(clip_dir / name, watchlist / name)
    added = 0
    for person in sorted(shared("lfw_view1", "images").iterdir()):
        for photo in sorted(person.glob("*.jpg")):
            try:
                engine.probe(load_image(photo))  # the watchlist takes usable photos only
            except BadInputError:
                continue
            (watchlist / f"{person.name}.jpg").symlink_to(photo)
            added += 1
            break
        if added == 200:
            break
    lines = _watch(clip_dir / "short_hamilton_clip.mp4", watchlist, tmp_path / "home")
    alerts = [line for line in lines if line["type"] == "alert"]
    summary = lines[-1]
    assert [a["subject"] for a in alerts] == ["lin-manuel-miranda"]
    assert summary["type"] == "summary" and summary["frames"] > 250 and summary["alerts"] == 1
    assert summary["tracks"] > 1  # other people were seen, and dropped


def test_biden_against_his_reference_alerts_once(tmp_path):
    clip_dir = shared("video", "biden")
    watchlist = tmp_path / "watchlist"
    watchlist.mkdir()
    shutil.copy(clip_dir / "biden_reference.jpg", watchlist / "biden.jpg")
    lines = _watch(clip_dir / "biden_whitehouse.mp4", watchlist, tmp_path / "home")
    assert [line["subject"] for line in lines if line["type"] == "alert"] == ["biden"]
    assert lines[-1]["frames"] > 200
