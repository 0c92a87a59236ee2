"""The server's lifecycle belongs to the app, not to `openfr serve` (issue 21, finding 10): uvicorn started
directly with the app factory records its start, runs the retention schedule as openfr itself, and on
SIGTERM stops its cameras cleanly (their run released, still wanted, so a restart resumes it) and exits.
In-process, the lifespan does the same; an app over an Application someone else built (the tests' servers)
leaves its lifecycle to them. Importing the web app builds nothing.

Before issue 21 start-up, the housekeeper and shutdown lived in `cli/serve_cmd.py`, and the module had no
factory: an app served by uvicorn or gunicorn directly never purged anything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from actors import PASSWORD, demo_installation, make_app
from live_data import closed_port
from openfr.governance import audit
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST, DeploymentPlan
from openfr.services import demo
from openfr.services.searches import SearchRequest
from openfr.store import Deployment, SearchRecord
from openfr.web.app import create_app
from web_server import free_port, healthy, running_console, until

FACTORY = "openfr.web.app:from_environment"


def _record_gone(app, search_id: int) -> bool:
    with app.runtime.db.read() as session:
        return session.get(SearchRecord, search_id) is None


def _events(app, action: str) -> list[dict]:
    with app.runtime.db.read() as session:
        return audit.events(session, action=action)


def _deployment(app, name: str) -> Deployment:
    with app.runtime.db.read() as session:
        return session.scalars(sa.select(Deployment).where(Deployment.name == name)).one()


def _plan_a_deployment(app, name: str) -> None:
    """Authorised, on a camera that never answers: it runs (reconnecting) until it is told to stop."""
    plan = DeploymentPlan(
        name=name, grounds="lifecycle test", categories=["wanted-serious-offence"], source_gallery=demo.GALLERY,
        location="test square", location_rationale="test", cameras={"gate": f"rtsp://127.0.0.1:{closed_port()}/x"},
        public_notice={"signage": "signs"},
    )  # fmt: skip
    app.deployments.plan(demo.sign_in(app, "demo-admin", PASSWORD), plan)
    confirmed = dict.fromkeys(AUTHORISATION_CHECKLIST, True)
    app.deployments.authorise(demo.sign_in(app, "demo-authoriser", PASSWORD), name, "ok", confirmed)


COMMANDS = {
    "uvicorn --factory": lambda port: ["-m", "uvicorn", "--factory", FACTORY, "--host", "127.0.0.1", "--port", port],
    "openfr serve": lambda port: ["-m", "openfr", "serve", "--port", port],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_server_purges_on_schedule_and_stops_its_cameras_cleanly_on_sigterm(tmp_path, sample_paths, command):
    """Also `openfr serve`: before issue 21 uvicorn re-raised SIGTERM once it had stopped serving, which ended
    the process before serve's own clean-up ran, so the cameras were never stopped cleanly."""
    home = tmp_path / "home"
    app = make_app(home)
    demo_installation(app, password=PASSWORD, deployment=False)
    investigator = demo.sign_in(app, "demo-investigator", PASSWORD)
    photo = sample_paths["yaoming"].read_bytes()
    before = app.search.search(investigator, SearchRequest(demo.GALLERY, "made before the server started"), photo)
    _plan_a_deployment(app, "lifecycle")
    port = free_port()
    env = {
        **os.environ,
        "OPENFR_HOME": str(home),
        "OPENFR_RETENTION__INTERVAL_MINUTES": "0.005",  # every 0.3 s
        "OPENFR_RETENTION__SEARCH_DAYS": "0",  # every search record is past its retention
    }
    argv = [sys.executable, *COMMANDS[command](str(port))]
    server = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        until(lambda: healthy(port) or server.poll() is not None, 120, "the server to answer")
        assert server.poll() is None, server.stderr.read().decode()[-2000:]
        until(lambda: _record_gone(app, before.search_id), 60, "the purge at start-up")
        # Made after the first purge: only a later run of the schedule can erase it.
        after = app.search.search(investigator, SearchRequest(demo.GALLERY, "made while the server ran"), photo)
        until(lambda: _record_gone(app, after.search_id), 60, "a scheduled purge")

        base = f"http://127.0.0.1:{port}"
        login = httpx.post(f"{base}/api/login", json={"username": "demo-operator", "password": PASSWORD})
        operator = {"Authorization": f"Bearer {login.json()['token']}"}
        started = httpx.post(f"{base}/api/deployments/lifecycle/start", headers=operator, timeout=60)
        assert started.status_code == 200 and started.json()["started"] is True, started.text
        running = until(lambda: (d := _deployment(app, "lifecycle")).run_owner and d, 30, "the run to start")

        server.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully (the lifespan's shutdown included), then re-raises the signal.
        assert server.wait(60) in (0, -signal.SIGTERM), server.stderr.read().decode()[-2000:]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    stopped = _deployment(app, "lifecycle")
    # Cameras stopped by the shutdown, not killed: the run was released (a crash leaves its owner set) and is
    # still wanted, so the next start resumes it.
    assert running.run_owner and stopped.run_owner is None and stopped.run_wanted is True
    purges = [e for e in _events(app, "search.purge") if e["actor"] == "system"]
    assert len(purges) >= 2 and all(e["details"]["count"] >= 1 for e in purges)
    (start,) = _events(app, "server.start")
    assert start["actor"] == "system" and len(start["details"]["settings_sha256"]) == 64
    app.close()


def test_importing_the_web_app_builds_nothing(tmp_path):
    code = "import openfr.web.app, os, sys; sys.exit(1 if os.listdir(os.environ['OPENFR_HOME']) else 0)"
    home = tmp_path / "empty-home"
    home.mkdir()
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "OPENFR_HOME": str(home)}, timeout=120)
    assert done.returncode == 0 and list(home.iterdir()) == []


def _housekeepers() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "housekeeper" and t.is_alive())


def test_the_lifespan_records_the_start_runs_the_schedule_and_closes_the_application(tmp_path):
    app = make_app(tmp_path / "home")
    closed, close = [], app.close
    app.close = lambda: (closed.append("closed"), close())
    before = _housekeepers()
    with TestClient(create_app(app, lifecycle=True)) as client:  # as a context manager, it runs the lifespan
        assert [e["actor"] for e in _events(app, "server.start")] == ["system"]  # before the first request
        assert client.get("/api/health").status_code == 200
        assert _housekeepers() == before + 1
    assert _housekeepers() == before and closed == ["closed"]


def test_a_server_sharing_the_tests_application_leaves_its_lifecycle_to_the_test(tmp_path):
    """The test built the Application and runs its lifecycle: the server neither purges what the test prepared
    (often back-dated) nor closes the Application under it."""
    app = make_app(tmp_path / "home")
    closed = []
    app.close = lambda: closed.append("closed")
    before = _housekeepers()
    with running_console(app) as base:
        assert httpx.get(f"{base}/api/health").status_code == 200
        assert _housekeepers() == before and _events(app, "server.start") == []
    assert closed == []
    del app.close
    app.close()
