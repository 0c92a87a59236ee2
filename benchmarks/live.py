"""Live scanning on 2 cores: frames per second end to end (decode included), CPU per stream, alerts, and
time to alert, on the real clips of ../shared/data/video and a 1080p clip generated from one of them.

    .venv/bin/python benchmarks/live.py [--runs 5] [--fast-runs 3] [--detect-max-side 512]

Clips: Hamilton (640x360, 30 fps) against Lin-Manuel Miranda, Alex Lacamoire and 200 LFW View 1 identities
(the first usable photo of each, alphabetically); Biden (1280x720, 30 fps) against his reference photo; and
Biden upscaled to 1920x1080 at 25 fps, H.264 (libx264, CRF 20), generated once under
$OPENFR_HOME/bench/. Speed: the file decoded as fast as the worker takes frames (median of --fast-runs
runs). Time to alert: the same file
paced at its frame rate, as a camera delivers it, from the decoding of the first frame in which the
watchlisted face is usable to the alert committed in a SQLite store (crop on disk, row committed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from openfr.bus import InProcessBus
from openfr.errors import BadInputError
from openfr.imageio import load_image
from openfr.live.alerting import AlertStore
from openfr.live.setup import camera_worker, decision_policy, frame_rate, live_engine
from openfr.live.watchlist import WatchEntry, Watchlist
from openfr.settings import LiveSettings, Settings
from openfr.store import Deployment, open_database

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
VIDEO = DATA / "video"


def watchlist(engine, people: dict[str, Path]) -> Watchlist:
    entries, vectors = [], []
    for name, path in people.items():
        face = engine.probe(load_image(path), name=str(path))
        entries.append(WatchEntry(name, name, "watch", path))
        vectors.append(face.embedding.vector)
    return Watchlist(entries, np.stack(vectors), engine.space)


def lfw_identities(engine, count: int) -> dict[str, Path]:
    chosen: dict[str, Path] = {}
    for person in sorted((DATA / "lfw_view1" / "images").iterdir()):
        for photo in sorted(person.glob("*.jpg")):
            try:
                engine.probe(load_image(photo))
            except BadInputError:
                continue
            chosen[person.name] = photo
            break
        if len(chosen) == count:
            break
    return chosen


def make_1080p(target: Path) -> Path:
    """Biden's clip upscaled to 1920x1080 and resampled to 25 fps (H.264)."""
    import av
    import cv2

    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(VIDEO / "biden" / "biden_whitehouse.mp4")) as source:
        frames = [f.to_ndarray(format="rgb24") for f in source.decode(video=0)]
    picked = [frames[round(i * 30 / 25)] for i in range(int(len(frames) * 25 / 30))]
    tmp = target.with_suffix(".tmp.mp4")
    with av.open(str(tmp), mode="w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "20", "preset": "medium"})
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        for image in picked:
            big = cv2.resize(image, (1920, 1080), interpolation=cv2.INTER_CUBIC)
            for packet in stream.encode(av.VideoFrame.from_ndarray(big, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.rename(target)
    return target


def run_once(clip: Path, targets: Watchlist, settings: Settings, engine, store, *, realtime: bool) -> dict:
    """One camera worker, assembled exactly as a deployment's (openfr.live.setup.camera_worker)."""
    policy = decision_policy(settings, engine.threshold)
    alerts = []

    def on_alert(evidence):
        alerts.append(store(evidence))

    worker = camera_worker("bench", str(clip), settings, targets, policy, on_alert, engine=engine, realtime=realtime)
    cpu0 = _cpu()
    counters = worker.run()
    cpu = _cpu() - cpu0
    return {
        "frames": counters.frames,
        "fps": round(counters.fps, 1),
        "cpu_s": round(cpu, 2),
        "seconds": round(counters.seconds, 2),
        "faces": counters.faces,
        "tracks": counters.tracks,
        "embeddings": counters.embeddings,
        "alerts": [(a.subject_ref, round(a.score, 3), a.frame, a.first_usable_frame) for a in alerts],
        "time_to_alert_ms": [round(a.time_to_alert_ms, 1) for a in alerts],
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="paced runs per clip for time to alert")
    parser.add_argument("--fast-runs", type=int, default=3, help="speed runs per clip (the median is reported)")
    parser.add_argument("--detect-max-side", type=int, default=None)
    args = parser.parse_args()
    live = LiveSettings() if args.detect_max_side is None else LiveSettings(detect_max_side=args.detect_max_side)
    home = Path(os.environ.get("OPENFR_HOME", "openfr-data"))
    settings = Settings(home=home, live=live)
    engine = live_engine(settings)
    hamilton_people = {
        "lin-manuel-miranda": VIDEO / "hamilton" / "lin-manuel-miranda.png",
        "alex-lacamoire": VIDEO / "hamilton" / "alex-lacamoire.png",
        **lfw_identities(engine, 200),
    }
    biden = watchlist(engine, {"biden": VIDEO / "biden" / "biden_reference.jpg"})
    clips = {
        "hamilton 640x360 30 fps": (VIDEO / "hamilton" / "short_hamilton_clip.mp4", watchlist(engine, hamilton_people)),
        "biden 1280x720 30 fps": (VIDEO / "biden" / "biden_whitehouse.mp4", biden),
        "biden 1920x1080 25 fps (generated)": (make_1080p(home / "bench" / "biden-1080p25.mp4"), biden),
    }
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{tmp}/bench.db")
        with db.transaction() as session:
            deployment = Deployment(
                name="bench",
                grounds="benchmark",
                categories=["watch"],
                source_gallery="-",
                location="-",
                location_rationale="-",
                starts_at=datetime.now(UTC),
                ends_at=datetime.now(UTC) + timedelta(hours=1),
                cameras=[],
                threshold=engine.threshold,
                public_notice={"web-page": "benchmark"},
                created_by="bench",
                counters={},
            )
            session.add(deployment)
            session.flush()
            store = AlertStore(db, Path(tmp), InProcessBus(), deployment.id)
        results = {}
        for label, (clip, targets) in clips.items():
            # The speed run is repeated (--fast-runs) and the median reported: on a shared 2-core VM one run
            # can be 15% off the next.
            fast_runs = [
                run_once(clip, targets, settings, engine, store, realtime=False) for _ in range(args.fast_runs)
            ]
            fast = sorted(fast_runs, key=lambda r: r["fps"])[len(fast_runs) // 2]
            paced = [run_once(clip, targets, settings, engine, store, realtime=True) for _ in range(args.runs)]
            ttas = [t for run in paced for t in run["time_to_alert_ms"]]
            import av

            with av.open(str(clip)) as container:
                duration = float(container.streams.video[0].frames / container.streams.video[0].average_rate)
            results[label] = {
                **fast,
                "fps_of_each_speed_run": [r["fps"] for r in fast_runs],
                "realtime_factor": round(fast["frames"] / fast["seconds"] / frame_rate(str(clip)), 2),
                "cores_per_realtime_stream": round(fast["cpu_s"] / duration, 2),
                "paced_runs": len(paced),
                "paced_alerts": [run["alerts"] for run in paced],
                "time_to_alert_ms": {
                    "samples": ttas,
                    "p50": round(float(np.percentile(ttas, 50)), 1) if ttas else None,
                    "p95": round(float(np.percentile(ttas, 95)), 1) if ttas else None,
                },
            }
            print(json.dumps({label: results[label]}), flush=True)
    print(json.dumps({"machine": platform.machine(), "cpus": os.cpu_count(), "detect_max_side": live.detect_max_side}))


if __name__ == "__main__":
    main()
