"""Engine throughput on this machine: detection, embedding and end to end, beside face_recognition (dlib).

    .venv/bin/python benchmarks/engine.py [--images 1000] [--skip-face-recognition]

Images: the first N photos of ../shared/data/lfw_view1 (250x250), or, where that folder is absent, the
sample photos inside the model wheel repeated to N. Prints a Markdown table and writes JSON to
benchmarks/results/. Whole-process figures run `openfr embed` exactly as a user would, start-up included;
the naive baseline is the same engine configured the textbook way: 640x640 detector input, one image at a
time, one thread, one process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "data" / "lfw_view1" / "images"


def pick_images(n: int) -> tuple[list[Path], str]:
    if LFW.is_dir():
        paths = sorted(LFW.rglob("*.jpg"))[:n]
        return paths, f"LFW View 1, first {len(paths)} images (250x250)"
    from openfr.engine.packs.buffalo_s import SAMPLES

    samples = [s.locate() for s in SAMPLES.values()]
    return [samples[i % len(samples)] for i in range(n)], "model-wheel sample photos, repeated"


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def in_process_stages(paths: list[Path]) -> dict:
    """Per-stage throughput on one core (one process, one thread), adaptive detector input."""
    from openfr.engine.pipeline import load_engine
    from openfr.imageio import load_image
    from openfr.settings import EngineSettings, Settings

    settings = Settings(engine=EngineSettings(threads=1, workers=1))
    engine = load_engine(settings)
    images, t_load = timed(lambda: [load_image(p) for p in paths])
    faces, t_det = timed(lambda: [engine.detector.detect(im) for im in images])
    crops = [engine.embedder.crop(im, f) for im, fs in zip(images, faces, strict=True) for f in fs]
    _, t_emb = timed(engine.embedder.embed, crops)
    n_faces = len(crops)
    return {
        "decode_images_per_s": len(images) / t_load,
        "detect_images_per_s": len(images) / t_det,
        "detect_faces_per_s": n_faces / t_det,
        "embed_faces_per_s": n_faces / t_emb,
        "faces": n_faces,
    }


def whole_process(paths: list[Path], env: dict, args: list[str]) -> dict:
    cmd = [str(REPO / ".venv" / "bin" / "openfr"), "embed", *map(str, paths), *args]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env}, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 2):
        raise SystemExit(f"openfr embed failed: {proc.stderr}")
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    n_faces = sum(len(line.get("faces", [])) for line in lines)
    return {
        "seconds": elapsed,
        "images_per_s": len(lines) / elapsed,
        "faces_per_s": n_faces / elapsed,
        "faces": n_faces,
    }


def face_recognition_baseline(paths: list[Path]) -> dict | None:
    try:
        import face_recognition
    except ImportError:
        return None
    start = time.perf_counter()
    n_faces = 0
    for path in paths:
        image = face_recognition.load_image_file(str(path))
        boxes = face_recognition.face_locations(image)  # HOG, upsample 1 (its defaults)
        n_faces += len(face_recognition.face_encodings(image, boxes))
    elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "images_per_s": len(paths) / elapsed,
        "faces_per_s": n_faces / elapsed,
        "faces": n_faces,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--skip-face-recognition", action="store_true")
    args = parser.parse_args()
    paths, source = pick_images(args.images)
    naive_env = {
        "OPENFR_DETECTION__INPUT_SIZE": "640",
        "OPENFR_ENGINE__THREADS": "1",
        "OPENFR_ENGINE__BATCH_SIZE": "1",
    }
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "images": source,
        "in_process_one_core": in_process_stages(paths),
        "openfr_embed": whole_process(paths, {}, []),
        "naive_embed": whole_process(paths, naive_env, ["--workers", "1"]),
    }
    if not args.skip_face_recognition:
        fr_paths = paths[: max(1, len(paths) // 4)]  # it is slow; a quarter of the set gives a stable rate
        results["face_recognition"] = face_recognition_baseline(fr_paths)
        if results["face_recognition"]:
            results["face_recognition"]["images"] = len(fr_paths)
    results["speedup_vs_naive"] = results["openfr_embed"]["images_per_s"] / results["naive_embed"]["images_per_s"]
    out_dir = REPO / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"engine-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(results, indent=2))
    stages = results["in_process_one_core"]
    print(f"images: {source}; machine: {results['machine']}")
    print("| measurement | images/s | faces/s |\n|---|---|---|")
    print(
        f"| detection, one core (adaptive input) | {stages['detect_images_per_s']:.1f} "
        f"| {stages['detect_faces_per_s']:.1f} |"
    )
    print(f"| embedding, one core (batches of 32) | - | {stages['embed_faces_per_s']:.1f} |")
    for key, label in (
        ("openfr_embed", "`openfr embed`, whole process, defaults (2 workers)"),
        ("naive_embed", "naive: 640x640, one image at a time, one thread"),
        ("face_recognition", "face_recognition 1.3 (dlib HOG + ResNet), one process"),
    ):
        row = results.get(key)
        if row:
            print(f"| {label} | {row['images_per_s']:.1f} | {row['faces_per_s']:.1f} |")
    print(f"\nspeed-up of `openfr embed` over the naive pipeline: {results['speedup_vs_naive']:.2f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
