"""Consistency under concurrency, through a running server, on SQLite and on PostgreSQL: parallel logins,
searches, enrolments, deployment starts and stops and audit reads never give a server error, the audit chain
stays whole with exactly one event per successful action; a deleted subject is never returned by a server
that searched before the deletion; re-embedding keeps an enrolment made meanwhile; a deployment stopped or
closed from the command line stops its cameras in the server within seconds."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

import burst_data
from actors import cli_login, make_app, openfr, staff
from live_data import a_plan, team_clip
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST, DeploymentPlan
from openfr.settings import LiveSettings
from openfr.store import Template
from web_server import running_console

CONFIRMED = dict.fromkeys(AUTHORISATION_CHECKLIST, True)  # every checklist item answered yes


@pytest.fixture(scope="module")
def faces(engine, samples, sample_paths) -> list[bytes]:
    """One JPEG per usable face of the team photo: different people, real faces."""
    photos = burst_data.face_photos(engine, samples, sample_paths["players"])
    assert len(photos) >= 8
    return photos


@pytest.fixture(scope="module")
def clip(tmp_path_factory, samples) -> Path:
    return team_clip(tmp_path_factory.mktemp("clip") / "team.mp4", samples)


def _server_app(home: Path, database_url: str | None, clip: Path, heartbeat_s: float = 2.0):
    # The server's own admission settings (the defaults): a burst of 50 must all be answered, none refused.
    app = make_app(home, database_url, live=LiveSettings(heartbeat_s=heartbeat_s, allow_loopback_cameras=True))
    people = staff(app)
    (app.runtime.home / "videos").mkdir()
    shutil.copy(clip, app.runtime.home / "videos" / clip.name)
    return app, people


def _plan(name: str, camera: str) -> DeploymentPlan:
    return a_plan({"cam": camera}, name=name, grounds="concurrency test")


def test_fifty_parallel_requests_give_no_server_error_and_one_audit_event_per_success(
    database_url, tmp_path, faces, clip
):
    """The server's default admission settings answer the whole burst: nothing refused (no 503), nothing
    failed; the audit chain verifies and holds exactly one event per successful action."""
    app, people = _server_app(tmp_path / "home", database_url, clip)
    burst_data.prepare(app, people, faces[0], clip.name)
    with app.runtime.db.read() as session:
        start_events = len(audit.events(session))
    with running_console(app) as base, httpx.Client(base_url=base, timeout=300) as client:
        headers = {name: burst_data.token(client, name) for name in burst_data.SIGNED_IN}
        answers = burst_data.burst(client, faces, headers)
        last_stop = client.post(f"/api/deployments/{burst_data.DEPLOYMENT}/stop", headers=headers["operator"])
        assert last_stop.status_code in (200, 409)
    statuses = Counter((a.kind, a.response.status_code) for a in answers)
    assert all(code < 500 for _, code in statuses), statuses
    ok = Counter(a.kind for a in answers if a.response.status_code == 200)
    started = sum(1 for a in answers if a.kind == "start" and a.response.json().get("started"))
    assert ok["search"] == 10 and ok["enrol"] == 10 and ok["audit"] == 10 and ok["login"] == 5, statuses
    assert statuses[("login", 401)] == 5 and started >= 1
    assert {code for (kind, code) in statuses if kind == "stop"} <= {200, 409}  # 409: it was not running
    with app.runtime.db.read() as session:
        report = audit.verify(session)
        events = audit.events(session)[start_events:]
    assert report.ok, report.problems  # no collision, no gap
    actions = Counter(e["action"] for e in events)
    assert actions["search"] == ok["search"] and actions["enrol"] == ok["enrol"]
    assert actions["login.failed"] == 5 and actions["login"] == ok["login"] + 3  # +3: the fixture's own logins
    starts = [(a.response.status_code, a.response.text[:100]) for a in answers if a.kind == "start"]
    assert actions["deployment.start"] == started, (starts, [e for e in events if e["action"].startswith("deploy")])
    assert actions["deployment.stop"] == ok["stop"] + (last_stop.status_code == 200)
    assert actions["deployment.live"] == 1  # it went live once, however many Starts raced
    app.close()


def test_a_server_never_returns_a_deleted_subject(database_url, tmp_path, faces, clip):
    """Enrol A and B, search B, delete B, enrol C with as many images as B had, search B again: C is not
    returned at B's score, and B is not returned (the index is keyed on the gallery's generation, not on
    template counts and ids that the database hands out again)."""
    app, people = _server_app(tmp_path / "home", database_url, clip)
    app.galleries.create(people[Role.INVESTIGATOR], "custody", "test gallery")
    with running_console(app) as base, httpx.Client(base_url=base, timeout=120) as client:
        investigator, admin = burst_data.token(client, "investigator"), burst_data.token(client, "administrator")

        def enrol(subject: str, photo: bytes) -> None:
            files = {"image": ("p.jpg", photo, "image/jpeg")}
            data = {"subject": subject, "source": "regression test"}
            done = client.post("/api/galleries/custody/enrol", data=data, files=files, headers=investigator)
            assert done.status_code == 200 and done.json()["enrolled"] == 1, done.text

        def search(photo: bytes) -> list[dict]:
            data = {"gallery": "custody", "reason": "regression test", "show_all": "true"}  # A and C score low
            done = client.post(
                "/api/search", data=data, files={"image": ("p.jpg", photo, "image/jpeg")}, headers=investigator
            )
            assert done.status_code == 200, done.text
            return done.json()["candidates"]

        enrol("A", faces[1])
        enrol("B", faces[2])
        first = search(faces[2])
        assert first[0]["subject"] == "B" and first[0]["score"] > 0.99
        gone = client.delete("/api/galleries/custody/subjects/B", params={"reason": "acquitted"}, headers=admin)
        assert gone.status_code == 200, gone.text
        enrol("C", faces[3])
        again = search(faces[2])
    assert "B" not in [c["subject"] for c in again]
    assert all(c["score"] < 0.9 for c in again), again  # C is a different person: no score near B's 1.0
    assert {c["subject"] for c in again} == {"A", "C"}
    app.close()


def test_reembedding_keeps_an_enrolment_made_while_it_ran(tmp_path, faces, monkeypatch):
    from openfr.gallery import reembed
    from openfr.services.galleries import EnrolFields

    app = make_app(tmp_path / "home")
    admin = staff(app)[Role.ADMINISTRATOR]
    app.galleries.create(admin, "custody", "test gallery")
    for i in range(3):
        app.galleries.enrol_upload(admin, EnrolFields("custody", f"S{i}", "test"), filename="p.jpg", data=faces[i])
    original, calls = reembed.embed, []

    def embed_then_someone_enrols(home, images, settings, pack_id, into):
        original(home, images, settings, pack_id, into)
        calls.append(len(images))
        if len(calls) == 1:  # after the bulk pass, before the swap: another officer enrols a new image
            app.galleries.enrol_upload(admin, EnrolFields("custody", "LATE", "test"), filename="p.jpg", data=faces[4])

    monkeypatch.setattr(reembed, "embed", embed_then_someone_enrols)
    result = app.galleries.reembed(admin, "custody")
    assert calls == [3, 1] and result["templates"] == 4 and result["rejected"] == 0
    with app.runtime.db.read() as session:
        subjects = {row.subject_id for row in session.query(Template.subject_id)}
        assert len(subjects) == 4  # the late subject has its template in the gallery's (new) space
    app.close()


def test_stop_and_close_from_the_command_line_reach_the_cameras_in_the_server(tmp_path, clip, faces):
    from openfr.services.galleries import EnrolFields

    home = tmp_path / "home"
    app, people = _server_app(home, None, clip, heartbeat_s=0.5)
    fields = EnrolFields("custody", "wanted-1", "test", category="wanted-serious-offence")
    app.galleries.create(people[Role.ADMINISTRATOR], "custody", "test gallery", ["rfr", "live"])
    app.galleries.enrol_upload(people[Role.ADMINISTRATOR], fields, filename="w.jpg", data=faces[0])
    # The cameras below never connect: the deployments run (reconnecting) until they are told to stop.
    for name in ("first", "second"):
        app.deployments.plan(people[Role.ADMINISTRATOR], _plan(name, "rtsp://127.0.0.1:9/none"))
        app.deployments.authorise(people[Role.AUTHORISING_OFFICER], name, "ok", CONFIRMED)
    env = {"OPENFR_HOME": str(home), "OPENFR_LIVE__HEARTBEAT_S": "0.5"}
    cli_login(env, "operator")
    with running_console(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        headers = burst_data.token(client, "operator")
        commands = {
            "first": ["deployment", "stop", "first"],
            "second": ["deployment", "close", "second", "--reason", "x"],
        }
        for name, command in commands.items():
            assert client.post(f"/api/deployments/{name}/start", headers=headers).json()["started"] is True
            assert client.get(f"/api/deployments/{name}", headers=headers).json()["running"] is True
            # Another process: it reaches the server through the database.
            done = openfr(*command, env=env, process=True)
            assert done.returncode == 0, done.stderr
            ended_at = time.monotonic()
            while app.runtime.cameras.is_running(app.deployments.get(people[Role.OPERATOR], name).id):
                assert time.monotonic() - ended_at < 5, f"{name}: cameras still running 5 s after {command[1]}"
                time.sleep(0.1)
            assert client.get(f"/api/deployments/{name}", headers=headers).json()["running"] is False
    with app.runtime.db.read() as session:
        actions = [(e["actor"], e["action"], e["resource"]) for e in audit.events(session, action="deployment")]
    assert ("operator", "deployment.stop", "deployment:first") in actions
    assert ("operator", "deployment.close", "deployment:second") in actions
    app.close()
