"""Cameras in deployments (issue 21, findings 2 and 6): an operational installation names its camera networks
before planning or starting anything, and a camera's password is sealed at rest and never written in clear
(the log, the health reports, the database file, the audit trail)."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest

from actors import make_app, sign_in, staff, username
from camera_servers import HttpCamera
from live_data import a_plan, wanted_gallery
from openfr.errors import ConfigurationError
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.governance.secretbox import is_sealed
from openfr.live import lifecycle
from openfr.live.runner import RunResult
from openfr.logs import configure
from openfr.services import Application
from openfr.settings import LiveSettings
from openfr.store import Deployment

OPERATOR, AUTHORISER, ADMIN = Role.OPERATOR, Role.AUTHORISING_OFFICER, Role.ADMINISTRATOR
CONFIRMED = dict.fromkeys(lifecycle.AUTHORISATION_CHECKLIST, True)
SECRET, TOKEN = "Tr0ub4dor-x93", "Q2FtZXJhVG9rZW4"  # the camera's password, and a token in its URL's query
CAMERAS = LiveSettings(allow_loopback_cameras=True, open_timeout_s=2, unhealthy_after=1, backoff_max_s=1)


def _app(home: Path, **settings) -> Application:
    application = make_app(home, live=settings.pop("live", CAMERAS), **settings)
    application.people = staff(application)
    return application


@pytest.fixture
def app(tmp_path, engine, samples) -> Application:
    application = _app(tmp_path / "home")
    people, manifest = wanted_gallery(tmp_path / "gallery", samples, engine)
    admin = application.people[ADMIN]
    application.galleries.enrol_folder(admin, "custody", people, manifest=manifest, create="test", uses=["live"])
    return application


def _plan(url: str, name: str = "door-watch") -> lifecycle.DeploymentPlan:
    return a_plan({"door": url}, name=name, grounds="test of camera credentials", threshold=0.3)


def test_a_camera_password_is_sealed_at_rest_and_never_written_in_clear(app):
    camera = HttpCamera("127.0.0.1", b"")  # answers 404: FFmpeg's error then repeats the URL it was given
    port = camera.base.rsplit(":", 1)[1]
    url = f"http://admin:{SECRET}@127.0.0.1:{port}/missing?auth={TOKEN}"
    log_path = configure(app.runtime.home)  # openfr's log file, as `openfr serve` sets it up
    handler = next(h for h in logging.getLogger("openfr").handlers if getattr(h, "baseFilename", "") == str(log_path))
    result, stop = RunResult(), threading.Event()
    try:
        view = app.deployments.plan(app.people[ADMIN], _plan(url))
        preview = app.deployments.preview(app.people[AUTHORISER], view.name)
        app.deployments.authorise(app.people[AUTHORISER], view.name, "necessary and proportionate", CONFIRMED)
        health = app.runtime.bus.subscribe("camera.health")
        run = threading.Thread(
            target=app.deployments.run, args=(app.people[OPERATOR], view.name), kwargs={"stop": stop, "result": result}
        )
        run.start()
        events = []
        while (event := health.get(timeout=60)) is not None:
            events.append(event.data)
            if event.data["state"] == "unhealthy":
                break
        stop.set()
        run.join(60)
    finally:
        stop.set()
        logging.getLogger("openfr").removeHandler(handler)
        handler.close()
        camera.close()
    assert events and events[-1]["state"] == "unhealthy", events
    assert any(path.startswith("/missing") for path in camera.requests)  # the sealed URL opened where it connects
    assert view.cameras == [{"name": "door", "where": f"http://127.0.0.1:{port}"}] == preview["cameras"]
    log = log_path.read_text()
    assert "http://***@127.0.0.1:" in log and "auth=***" in log  # the failure was logged, with its URL ...
    with app.runtime.db.read() as session:
        trail = json.dumps(audit.events(session), default=str)
        [stored] = session.get(Deployment, view.id).cameras
    assert is_sealed(stored["source"]) and stored["where"] == f"http://127.0.0.1:{port}"
    after = app.deployments.get(app.people[AUTHORISER], view.name).detail()
    reports = json.dumps([events, result.health, result.errors, after, preview], default=str)
    for text, where in ((log, "log"), (trail, "audit trail"), (reports, "health and views")):
        assert SECRET not in text and TOKEN not in text, where  # ... without the password or the token
    for path in app.runtime.home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in data and TOKEN.encode() not in data, path  # the SQLite file included


def test_camera_urls_stored_in_clear_before_are_sealed_when_the_store_opens(app, tmp_path):
    url = f"rtsp://admin:{SECRET}@127.0.0.1:8554/live"
    view = app.deployments.plan(app.people[ADMIN], _plan(url))
    with app.runtime.db.transaction() as session:  # a row as openfr stored it before sealing existed
        session.get(Deployment, view.id).cameras = [{"name": "door", "source": url}]
    app.close()
    reopened = make_app(tmp_path / "home", live=CAMERAS)
    with reopened.runtime.db.read() as session:
        [stored] = session.get(Deployment, view.id).cameras
    assert is_sealed(stored["source"]) and stored["where"] == "rtsp://127.0.0.1:8554"
    assert reopened.deployments.camera_source(stored["source"]) == url


def test_an_operational_installation_plans_and_starts_nothing_until_its_camera_networks_are_set(app, tmp_path):
    url = "rtsp://127.0.0.1:8554/live"
    name = app.deployments.plan(app.people[ADMIN], _plan(url)).name
    app.deployments.authorise(app.people[AUTHORISER], name, "necessary and proportionate", CONFIRMED)
    app.close()
    home = tmp_path / "home"
    operational = make_app(home, live=CAMERAS, operational=True, allow_research_licence=True)
    admin, operator = sign_in(operational, username(ADMIN)), sign_in(operational, username(OPERATOR))
    with pytest.raises(ConfigurationError, match=r"operational: set live.camera_networks"):
        operational.deployments.plan(admin, _plan(url, "second"))
    with pytest.raises(ConfigurationError, match=r"operational: set live.camera_networks"):
        operational.deployments.start(operator, name)
    with operational.runtime.db.read() as session:
        assert lifecycle.get(session, name).state == "authorised"  # refused before going live
        assert not audit.events(session, action="deployment.start")
    operational.close()
    networked = LiveSettings(allow_loopback_cameras=True, camera_networks=["127.0.0.0/8"])
    configured = make_app(home, live=networked, operational=True, allow_research_licence=True)
    admin = sign_in(configured, username(ADMIN))
    assert configured.deployments.plan(admin, _plan(url, "second")).name == "second"
