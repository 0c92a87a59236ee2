"""Photos as officers and investigators take them: is every face found, does `compare` decide right, and
what does a 12-megapixel phone photo cost?

Part 1: every photo of `../shared/data/deepface_pairs` (65 photos of about a dozen public figures, some of
them large close-ups up to 2903x4352): faces found per photo.
Part 2: `master.csv` (299 labelled pairs): the verdict of compare's rule (main face of each photo, score
against the pack's calibrated threshold) against the label; pairs where a photo has no face count as wrong.
Part 3: each photo resized up to 4032x3024 (12 MP, the shape of a phone photo), then detection + embedding of
the main face, on one core (onnxruntime with one thread, OpenCV with one thread): wall time per photo.

    .venv/bin/python benchmarks/photos.py [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from openfr.engine.pipeline import load_engine
from openfr.imageio import load_image
from openfr.settings import EngineSettings, Settings

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "deepface_pairs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"needs {DATA} (../shared/data beside the repository)")
    cv2.setNumThreads(1)
    engine = load_engine(Settings(home=Path("unused"), engine=EngineSettings(threads=1)))
    photos = sorted(p for p in DATA.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    images = {p.name: load_image(p) for p in photos}
    found, main_face = {}, {}
    for name, image in images.items():
        faces = engine.analyse(image)
        found[name] = len(faces)
        main_face[name] = faces[0] if faces else None
    missed = sorted(n for n, k in found.items() if k == 0)
    with (DATA / "master.csv").open() as fh:
        pairs = [(r["file_x"], r["file_y"], r["Decision"] == "Yes") for r in csv.DictReader(fh)]
    right = 0
    for a, b, same in pairs:
        fa, fb = main_face.get(a), main_face.get(b)
        if fa is None or fb is None:
            continue
        right += (engine.similarity(fa, fb) >= engine.threshold) == same
    timings = []
    engine.analyse(cv2.resize(next(iter(images.values())), (4032, 3024)))  # warm-up: first-call allocations
    for name, image in images.items():
        big = cv2.resize(image, (4032, 3024) if image.shape[1] >= image.shape[0] else (3024, 4032))
        start = time.perf_counter()
        faces = engine.analyse(big)
        timings.append(((time.perf_counter() - start) * 1000, name))
        if not faces:
            missed.append(f"{name} at 12 MP")
    result = {
        "command": "python benchmarks/photos.py",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "photos": len(photos),
        "photos_with_a_face": sum(1 for k in found.values() if k),
        "missed": missed,
        "pairs": len(pairs),
        "compare_right": right,
        "compare_accuracy": round(right / len(pairs), 4),
        "twelve_mp_detect_embed_ms_one_core": {
            "p50": round(statistics.median(t for t, _ in timings), 1),
            "p95": round(float(np.percentile([t for t, _ in timings], 95)), 1),
            "max": round(max(timings)[0], 1),
            "slowest": max(timings)[1],
        },
    }
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
