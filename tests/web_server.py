"""A real console server (uvicorn in a thread, on a free loopback port) for the browser and stream tests,
and the summary of an alert as the alert store announces it (for publishing on the bus by hand)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from openfr.services import Application


@contextlib.contextmanager
def running_console(app: Application) -> Iterator[str]:
    import uvicorn

    from openfr.web.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(app), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the console server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        app.runtime.cameras.shutdown()
        thread.join(10)


def alert_summary(alert_id: int, subject: str = "S-1") -> dict:
    """What `live.alerting.alert_summary` announces for a pending alert (no image data)."""
    return {
        "id": alert_id,
        "deployment_id": 1,
        "subject": subject,
        "name": None,
        "category": "missing-person",
        "camera": "gate",
        "track": 1,
        "score": 0.5,
        "threshold": 0.3,
        "frame": 1,
        "stream_time": 0.1,
        "time_to_alert_ms": 10.0,
        "state": "pending",
        "outcome": None,
        "created_at": datetime.now(UTC).isoformat(),
    }
