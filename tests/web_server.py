"""Real servers for the tests and benchmarks: a console (uvicorn in a thread, on a free loopback port) for the
browser and stream tests, `openfr serve` as a process of its own for the crash and signal tests, waiting on a
condition with a deadline, and the summary of an alert as the alert store announces it (for publishing on the
bus by hand)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import httpx

from openfr.services import Application

T = TypeVar("T")


def free_port() -> int:
    """A loopback port nothing listens on (until something is started there)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def until(condition: Callable[[], T], seconds: float, what: str) -> T:
    """`condition()`'s first true value, asked every tenth of a second; fails naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, f"not within {seconds:g} s: {what}"
        time.sleep(0.1)
    return found


def healthy(port: int) -> bool:
    """Whether an openfr server answers its health check on this loopback port."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def serve(home: Path, port: int, **env: str) -> subprocess.Popen:
    """`openfr serve` on `port` as a process of its own (one a test may kill), over the installation at
    `home` with the settings `env` (OPENFR_...), once it answers; what it wrote is shown if it exits instead."""
    variables = {**os.environ, "OPENFR_HOME": str(home), **env}
    command = [sys.executable, "-m", "openfr", "serve", "--port", str(port)]
    # A file, not a pipe: a server writing more than a pipe holds would block. The server keeps writing to it
    # after this copy is closed; it is read only if the server exits before it answers.
    with tempfile.TemporaryFile() as errors:
        server = subprocess.Popen(command, env=variables, stdout=subprocess.DEVNULL, stderr=errors)
        until(lambda: healthy(port) or server.poll() is not None, 90, "the server answers")
        if server.poll() is not None:
            errors.seek(0)
            raise AssertionError(f"openfr serve exited {server.returncode}: {errors.read().decode()[-2000:]}")
    return server


@contextlib.contextmanager
def running_console(app: Application) -> Iterator[str]:
    import uvicorn

    from openfr.web.app import create_app

    port = free_port()
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
