"""False alerts against a big watchlist: a 1080p crowd of strangers must raise none, the targets must still alert.

    .venv/bin/python benchmarks/watchlist_fpir.py [--identities 2000] [--json]

Watchlist: the first usable photo of each of 2,000 LFW View 1 identities (alphabetical, Joseph Biden left
out) plus two real targets, Joe Biden and Lin-Manuel Miranda (their reference photos from
../shared/data/video). Threshold: the live threshold openfr sets for that many people
(`thresholds.live_floor`, target `live.target_fpir`), and, for comparison, the 1:1 threshold every live
deployment used before.

Crowd: a 1920x1080, 25 frames/s clip of strangers, 32 faces a frame (8 x 4, each face about 150 px, panning
slowly for a second, then 1.5 s of empty street before the next group): the UTKFace sample faces and the
centre of one photo of each LFW identity not on the watchlist, less those scoring 0.38 or more against any
other LFW identity (set aside as probably the same person, as the calibration does). Targets: the Biden clip
upscaled to 1080p (as benchmarks/live.py) and the Hamilton clip.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live import DATA, VIDEO, lfw_identities, make_1080p, watchlist
from openfr.imageio import load_image
from openfr.live.setup import camera_worker, decision_policy, live_engine
from openfr.live.watchlist import Watchlist
from openfr.settings import Settings
from openfr.thresholds import expected_false_alerts, live_floor

GRID, SIDE, FPS, GAP_S = (8, 4), 150, 25, 1.5


def crowd_clip(target: Path, faces: list[np.ndarray], seconds_each: float = 1.0) -> Path:
    """Groups of 32 faces on a grey 1080p canvas, each group drifting sideways for `seconds_each`."""
    import av

    per = GRID[0] * GRID[1]
    blank = np.full((1080, 1920, 3), 128, np.uint8)
    with av.open(str(target), mode="w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"crf": "20", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        for start in range(0, len(faces), per):
            canvas = np.full((1080, 1920, 3), 128, np.uint8)
            for k, image in enumerate(faces[start : start + per]):
                face = cv2.resize(image, (SIDE, SIDE), interpolation=cv2.INTER_AREA)
                row, col = divmod(k, GRID[0])
                y, x = 80 + row * 240, 40 + col * 225
                canvas[y : y + SIDE, x : x + SIDE] = face
            for i in range(int(seconds_each * FPS)):
                frame = np.roll(canvas, 2 * i, axis=1)  # people move: the tracker follows them
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    out.mux(packet)
            for _ in range(int(GAP_S * FPS)):  # an empty street: every track ends before the next group
                for packet in stream.encode(av.VideoFrame.from_ndarray(blank, format="rgb24")):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return target


def strangers(on_watchlist: set[str], engine, set_aside_above: float, pool: Watchlist) -> list[np.ndarray]:
    """UTKFace faces and the centre (the labelled face) of one photo of each LFW identity not on the
    watchlist; any whose best score against every other LFW identity reaches `set_aside_above` is set aside
    as probably someone in LFW, as the calibration does. LFW news photos often show a second person; the
    centre crop leaves them out."""
    candidates = [(p, None) for p in sorted((DATA / "utkface_sample" / "images").glob("*.jpg"))]
    for person in sorted((DATA / "lfw_view1" / "images").iterdir()):
        if person.name not in on_watchlist and person.name != "Joseph_Biden":
            candidates.append((sorted(person.glob("*.jpg"))[0], person.name))
    chosen = []
    for path, identity in candidates:
        image = load_image(path)
        if identity is not None:
            image = np.ascontiguousarray(image[55:195, 55:195])
        try:
            face = engine.probe(image)
        except Exception:
            continue
        scores = [s for e, s in pool.best_per_subject(face.embedding.vector, engine.space) if e.subject != identity]
        if max(scores) < set_aside_above:
            chosen.append(image)
    return chosen


def scan(clip: Path, targets: Watchlist, settings: Settings, engine, threshold: float) -> dict:
    found = []
    worker = camera_worker(
        "bench", str(clip), settings, targets, decision_policy(settings, threshold), found.append, engine=engine
    )
    counters = worker.run()
    return {
        "frames": counters.frames,
        "faces": counters.faces,
        "tracks": counters.tracks,
        "alerts": [(e.entry.subject, round(e.score, 3)) for e in found],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"skipped: {DATA} is absent (real face data is needed)")
    settings = Settings.from_environment()
    engine = live_engine(settings)
    people = lfw_identities(engine, args.identities + 1)
    people.pop("Joseph_Biden", None)
    people = dict(list(people.items())[: args.identities])
    people["biden"] = VIDEO / "biden" / "biden_reference.jpg"
    people["miranda"] = VIDEO / "hamilton" / "lin-manuel-miranda.png"
    # Every LFW identity and the targets: a "stranger" who is one of them is set aside (UTKFace holds a photo
    # of Lin-Manuel Miranda himself, which the first run found at 0.499).
    full_lfw = watchlist(
        engine, {**lfw_identities(engine, 10_000), "biden": people["biden"], "miranda": people["miranda"]}
    )
    targets = watchlist(engine, people)
    n = len(targets.subjects)
    live = live_floor(engine.card, n, settings.live.target_fpir, at_least=engine.threshold)
    with tempfile.TemporaryDirectory() as tmp:
        faces = strangers(set(people), engine, 0.38, full_lfw)
        crowd = crowd_clip(Path(tmp) / "crowd.mp4", faces)
        biden = make_1080p(Path(tmp) / "biden_1080p.mp4")
        result = {
            "command": "python benchmarks/watchlist_fpir.py",
            "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores",
            "watchlist_subjects": n,
            "strangers_in_crowd": len(faces),
            "live_threshold": live,
            "expected_false_alerts_in_crowd": round(
                (expected_false_alerts(engine.card, live, n, len(faces)) or 0.0), 2
            ),
        }
        for label, t in (("live threshold", live), ("1:1 threshold", engine.card.threshold)):
            result[label] = {
                "threshold": t,
                "crowd": scan(crowd, targets, settings, engine, t),
                "biden_1080p": scan(biden, targets, settings, engine, t),
                "hamilton": scan(VIDEO / "hamilton" / "short_hamilton_clip.mp4", targets, settings, engine, t),
            }
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
