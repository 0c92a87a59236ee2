"""A control room's burst against a running server: latency per kind of request, and how many were refused.

    .venv/bin/python benchmarks/burst.py [--rounds 5] [--officers 5] [--json]

Each round sends tests/test_concurrency.py's burst at once (50 requests: sign-ins, retrospective searches,
enrolments, deployment starts and stops, audit reads; tests/burst_data.py) plus `--officers` OIFR searches
from an officer's phone, to a fresh installation's server (uvicorn on loopback, SQLite, the default admission
settings) whose deployment runs a camera from a clip while it is started. Reports per kind: answers by
status, p50, p95 and the slowest, in milliseconds from sending to the whole answer, and the machine's load
average (other work on the same cores slows the heavy pool first: it runs at nice 10).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the shared burst, the accounts and the uvicorn helper

import burst_data  # noqa: E402
from actors import make_app, staff  # noqa: E402
from live_data import team_clip  # noqa: E402
from openfr.engine.packs.base import verify  # noqa: E402
from openfr.engine.packs.buffalo_s import SAMPLES  # noqa: E402
from openfr.engine.pipeline import load_engine  # noqa: E402
from openfr.imageio import load_image  # noqa: E402
from openfr.settings import LiveSettings, Settings, WebSettings  # noqa: E402
from web_server import running_console  # noqa: E402


def summary(answers: list[burst_data.Answer]) -> dict:
    kinds = sorted({a.kind for a in answers})
    table = {}
    for kind in kinds:
        mine = [a for a in answers if a.kind == kind]
        times = sorted(a.seconds * 1000 for a in mine)
        table[kind] = {
            "requests": len(mine),
            "statuses": dict(sorted(Counter(a.response.status_code for a in mine).items())),
            "p50_ms": round(statistics.median(times)),
            "p95_ms": round(float(np.percentile(times, 95))),
            "max_ms": round(times[-1]),
        }
    return table


def one_round(home: Path, clip: Path, photos: list[bytes], officers: int) -> list[burst_data.Answer]:
    """A fresh installation (so that one round's wrong passwords do not lock the next round's sign-ins out),
    its server, and one burst."""
    app = make_app(home, live=LiveSettings(heartbeat_s=2.0, allow_loopback_cameras=True))
    people = staff(app)
    (app.runtime.home / "videos").mkdir()
    shutil.copy(clip, app.runtime.home / "videos" / clip.name)
    burst_data.prepare(app, people, photos[0], clip.name)
    with running_console(app) as base, httpx.Client(base_url=base, timeout=600) as client:
        names = (*burst_data.SIGNED_IN, "officer") if officers else burst_data.SIGNED_IN
        headers = {name: burst_data.token(client, name) for name in names}
        answers = burst_data.burst(client, photos, headers, officers=officers)
        client.post(f"/api/deployments/{burst_data.DEPLOYMENT}/stop", headers=headers["operator"])
    app.close()
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--officers", type=int, default=5, help="OIFR searches sent with each burst")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    samples = {name: verify(pinned.locate(), pinned.sha256) for name, pinned in SAMPLES.items()}
    images = {name: load_image(path) for name, path in samples.items()}
    web = WebSettings()  # what each round's server runs with: the defaults
    load_before = os.getloadavg()
    answers: list[burst_data.Answer] = []
    with tempfile.TemporaryDirectory(prefix="openfr-burst-") as tmp:
        root = Path(tmp)
        clip = team_clip(root / "team.mp4", images)
        photos = burst_data.face_photos(load_engine(Settings(home=root / "engine")), images, samples["players"])
        for n in range(args.rounds):
            answers += one_round(root / f"round-{n}", clip, photos, args.officers)
    results = {
        "command": "python benchmarks/burst.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_1_5_15min": {"before": load_before, "after": os.getloadavg()},  # others' work on the cores
        "settings": {"heavy_requests": web.heavy_requests, "heavy_queue": web.heavy_queue, "wait_s": web.heavy_wait_s},
        "rounds": args.rounds,
        "requests_per_round": 50 + args.officers,
        "server_errors": sum(1 for a in answers if a.response.status_code >= 500),
        "per_kind": summary(answers),
    }
    print(json.dumps(results, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
