"""How fast an alert reaches an open live console (the promise: within a second), on a real server.

    .venv/bin/python benchmarks/console_sse.py [--events 200] [--runs 5]

Part 1, delivery: a signed-in client holds /console/events open on a uvicorn server on loopback while
alerts are published on the server's bus, as the alert store does after each commit; measured from publish
to the rendered card's last byte received by the client (rendering, SSE framing and HTTP included).
Part 2, end to end: the demo deployment (a clip made from the model wheel's team photo, paced in real time)
is started in the server `--runs` times; each alert is timed from its commit in SQLite (created_at) to its
card arriving at the client. Everything runs on this machine's two cores: the camera worker, the server and
the client compete for them, as they would on a small single-box installation.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np

from openfr.services import Application, boot, demo
from openfr.settings import Settings
from openfr.store import Alert

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from web_server import alert_summary, running_console  # the tests' real-server helper

PASSWORD = "benchmark password 1"


def signed_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
    cookie = f"csrftoken={page.cookies['csrftoken']}"
    done = client.post(
        "/login", data={"csrftoken": token, "username": username, "password": PASSWORD}, headers={"Cookie": cookie}
    )
    client.cookies.clear()  # Secure cookies: carried by hand over loopback http
    client.headers["Cookie"] = f"{cookie}; openfr_session={done.cookies['openfr_session']}"
    client.headers["x-csrftoken"] = token
    return client


class Listener(threading.Thread):
    """Reads the event stream; records when each alert card has fully arrived."""

    def __init__(self, client: httpx.Client):
        super().__init__(daemon=True)
        self.client, self.arrived, self.ready = client, {}, threading.Event()

    def run(self) -> None:
        with self.client.stream("GET", "/console/events", timeout=None) as stream:
            self.ready.set()
            event = {}
            for line in stream.iter_lines():
                if line.startswith("id:"):
                    event["id"] = int(line[3:].strip())
                elif line.startswith("event:"):
                    event["event"] = line[6:].strip()
                elif not line and event:
                    if event.get("event") == "alert":
                        self.arrived[event["id"]] = (time.perf_counter(), datetime.now(UTC))
                    event = {}


def summary(ms: list[float]) -> dict:
    values = np.array(ms)
    return {
        "n": len(values),
        "p50_ms": round(float(np.percentile(values, 50)), 1),
        "p95_ms": round(float(np.percentile(values, 95)), 1),
        "max_ms": round(float(values.max()), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = boot(Settings(home=Path(tempfile.mkdtemp(prefix="openfr-sse-"))))
    prepared = demo.prepare(app, password=PASSWORD)
    app.runtime.engine  # noqa: B018 - load the model before timing anything
    with running_console(app) as base:
        listener = Listener(signed_in(base, "demo-operator"))
        listener.start()
        listener.ready.wait(10)
        time.sleep(0.5)
        published = {}
        for i in range(args.events):
            alert_id = 10_000_000 + i
            published[alert_id] = time.perf_counter()
            app.runtime.bus.publish("alert.created", alert_summary(alert_id))
            time.sleep(0.05)
        time.sleep(1)
        delivery = [(listener.arrived[k][0] - t) * 1000 for k, t in published.items() if k in listener.arrived]
        missing = len(published) - len(delivery)

        operator = signed_in(base, "demo-operator")
        end_to_end = []
        for _ in range(args.runs):
            before = set(listener.arrived)
            started = operator.post(f"/deployments/{prepared.deployment}/start")
            assert "done=started" in started.headers.get("location", ""), started.text[:300]
            deadline = time.monotonic() + 60
            while (
                app.runtime.cameras.is_running(_deployment_id(app, prepared.deployment)) and time.monotonic() < deadline
            ):
                time.sleep(0.2)
            time.sleep(0.5)
            with app.runtime.db.read() as session:
                for alert_id in set(listener.arrived) - before:
                    alert = session.get(Alert, alert_id)
                    committed = alert.created_at if alert.created_at.tzinfo else alert.created_at.replace(tzinfo=UTC)
                    end_to_end.append((listener.arrived[alert_id][1] - committed).total_seconds() * 1000)
    result = {
        "command": "python benchmarks/console_sse.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}",
        "delivery_publish_to_card": {**summary(delivery), "missing": missing},
        "end_to_end_commit_to_card": summary(end_to_end) if end_to_end else None,
    }
    print(json.dumps(result, indent=2))


def _deployment_id(app: Application, name: str) -> int:
    from openfr.live import lifecycle

    with app.runtime.db.read() as session:
        return lifecycle.get(session, name).id


if __name__ == "__main__":
    main()
