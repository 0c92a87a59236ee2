"""Reliability: a crashed server resumes its deployments (or reports them interrupted) with their counters;
a failing camera is restarted; an alert that cannot be stored is retried, never dropped; a failed enrolment
leaves no file and a crash's orphans are swept; a deleted subject leaves running watchlists at once; a
camera that comes back is reconnected within seconds; unexpected CLI failures are one line; heavy requests
beyond the server's budget are told to come back (503)."""

from __future__ import annotations

import errno
import re
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
import sqlalchemy as sa

from actors import PASSWORD, make_app, openfr, staff
from live_data import ClipServer, a_plan, team_clip, wanted_gallery
from openfr.bus import InProcessBus
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.live import lifecycle
from openfr.live.alerting import AlertStore
from openfr.live.egress import CameraRules
from openfr.live.sources import SourcePolicy, SourceSpec, VideoSource
from openfr.live.watchlist import WatchEntry
from openfr.live.worker import AlertEvidence
from openfr.settings import LiveSettings
from openfr.store import Alert, Deployment, WatchlistEntry
from web_server import free_port, serve, until

ADMIN, AUTHORISER, OPERATOR = Role.ADMINISTRATOR, Role.AUTHORISING_OFFICER, Role.OPERATOR
CONFIRMED = dict.fromkeys(lifecycle.AUTHORISATION_CHECKLIST, True)  # every checklist item answered yes


@pytest.fixture(scope="module")
def stream_clip(tmp_path_factory, samples) -> Path:
    return team_clip(tmp_path_factory.mktemp("stream") / "team.ts", samples)


def _live_app(tmp_path, engine, samples, camera_url: str, database_url: str | None = None, **live):
    """An application with the wanted gallery and an authorised deployment reading `camera_url`."""
    app = make_app(
        tmp_path / "home", database_url, live=LiveSettings(heartbeat_s=0.5, allow_loopback_cameras=True, **live)
    )
    people = staff(app)
    folder, manifest = wanted_gallery(tmp_path / "gallery", samples, engine)
    app.galleries.enrol_folder(
        people[ADMIN], "custody", folder, manifest=manifest, create="test gallery", uses=["rfr", "live"]
    )
    plan = a_plan(
        {"north": camera_url},
        name="market",
        grounds="reliability test",
        categories=["wanted-serious-offence", "missing-person"],
    )
    app.deployments.plan(people[ADMIN], plan)
    app.deployments.authorise(people[AUTHORISER], "market", "ok", CONFIRMED)
    return app, people


def _serve(home: Path, port: int, database_url: str, **env: str):
    return serve(home, port, OPENFR_DATABASE_URL=database_url, OPENFR_LIVE__HEARTBEAT_S="0.5", **env)


def _deployment(app) -> Deployment:
    with app.runtime.db.read() as session:
        return session.scalars(sa.select(Deployment).where(Deployment.name == "market")).one()


def test_a_killed_server_resumes_its_deployment_with_its_counters_or_reports_it_interrupted(
    tmp_path, engine, samples, stream_clip, database_url
):
    with ClipServer(stream_clip) as camera:
        app, _ = _live_app(tmp_path, engine, samples, camera.url, database_url)
        home, port = app.runtime.home, free_port()
        server = _serve(home, port, database_url)
        token = httpx.post(
            f"http://127.0.0.1:{port}/api/login", json={"username": "operator", "password": PASSWORD}
        ).json()["token"]
        started = httpx.post(
            f"http://127.0.0.1:{port}/api/deployments/market/start", headers={"Authorization": f"Bearer {token}"}
        )
        assert started.json()["started"] is True
        checkpoint = until(
            lambda: (_deployment(app).run_counters or {}).get("north", {}).get("frames", 0), 60, "a checkpoint"
        )
        server.send_signal(signal.SIGKILL)  # a crash: no clean shutdown, no final save
        server.wait()
        crashed = _deployment(app)
        assert crashed.run_wanted and crashed.run_owner and crashed.run_counters["north"]["frames"] >= checkpoint
        server = _serve(home, port, database_url)
        resumed = until(lambda: (d := _deployment(app)).run_owner not in (None, crashed.run_owner) and d, 30, "resume")
        assert resumed.counters["north"]["frames"] >= checkpoint  # the crashed run's checkpoint was kept
        server.send_signal(signal.SIGKILL)
        server.wait()
        # The same crash, with a server set to put a person back in the loop instead.
        server = _serve(home, port, database_url, OPENFR_LIVE__ON_RESTART="interrupt")
        interrupted = until(lambda: not (d := _deployment(app)).run_wanted and d, 30, "interrupted")
        assert interrupted.run_owner is None
        server.terminate()
        server.wait(30)
    with app.runtime.db.read() as session:
        trail = [(e["actor"], e["action"]) for e in audit.events(session, resource="deployment:market")]
    assert ("system", "deployment.resume") in trail and ("system", "deployment.interrupted") in trail
    with app.runtime.db.read() as session:
        assert audit.verify(session).ok


def test_a_failing_camera_is_restarted_and_its_counters_carry_on(tmp_path, engine, samples, stream_clip, monkeypatch):
    from openfr.engine.pipeline import FaceEngine

    original, calls = FaceEngine.detect, {"n": 0}

    def detector_fails_once(self, image):
        calls["n"] += 1
        if calls["n"] == 20:
            raise RuntimeError("detector fault (injected)")
        return original(self, image)

    monkeypatch.setattr(FaceEngine, "detect", detector_fails_once)
    with ClipServer(stream_clip) as camera:
        app, people = _live_app(tmp_path, engine, samples, camera.url)
        health = app.runtime.bus.subscribe("camera.health")
        run = app.deployments.start(people[OPERATOR], "market")
        until(lambda: run.result.restarts.get("north") == 1 and run.result.counters["north"].frames > 60, 60, "restart")
        app.deployments.stop(people[OPERATOR], "market")
        until(lambda: not app.runtime.cameras.is_running(_deployment(app).id), 30, "the run has finished")
    states = []
    while (event := health.get(timeout=0)) is not None:
        states.append(event.data["state"])
    assert "failed" in states and states.index("failed") < len(states) - 1  # and it came back afterwards
    assert "RuntimeError" in run.result.errors.get("north", ""), (run.result.errors, run.result.restarts)
    final = _deployment(app)
    assert final.counters.get("north", {}).get("frames", 0) > 60, app.runtime.cameras.last_error(final.id)


def _evidence(samples, subject: str = "S-1") -> AlertEvidence:
    from openfr.types import Quality

    quality = Quality(80, 30, 100, 0, 0, 0, 0.9)
    return AlertEvidence("gate", 1, WatchEntry(subject, None, "missing-person", None), 0.9, 0.5, quality, 3, 0.1, 1,
                         time.monotonic(), np.ascontiguousarray(samples["yaoming"][:100, :100]))  # fmt: skip


def test_an_alert_that_cannot_be_stored_is_retried_never_dropped_and_leaves_no_orphan(tmp_path, samples, monkeypatch):
    from PIL import Image

    app = make_app(tmp_path / "home")
    with app.runtime.db.transaction() as session:
        d = Deployment(name="d", grounds="g", categories=["missing-person"], source_gallery="-", location="-",
                       location_rationale="-", starts_at=datetime.now(UTC), ends_at=datetime.now(UTC), cameras=[],
                       threshold=0.5, public_notice={"signage": "s"}, created_by="t", counters={})  # fmt: skip
        session.add(d)
        session.flush()
        deployment_id = d.id
    bus = InProcessBus()
    announced, health = bus.subscribe("alert."), bus.subscribe("camera.health")
    store = AlertStore(app.runtime.db, app.runtime.home, bus, deployment_id, retry_max_s=0.2)
    original, failures = Image.Image.save, {"left": 3}

    def disk_full(self, fp, *args, **kwargs):
        if failures["left"] > 0:
            failures["left"] -= 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", disk_full)
    assert store(_evidence(samples, "S-1")) is None and store.pending == 1  # not stored yet, not dropped
    assert store(_evidence(samples, "S-2")) is None and store.pending == 2  # queued behind, in order
    until(lambda: store.pending == 0, 10, "the backlog stored")
    assert store.close() == 0
    with app.runtime.db.read() as session:
        stored = session.scalars(sa.select(Alert).order_by(Alert.id)).all()
    assert [a.subject_ref for a in stored] == ["S-1", "S-2"]
    crops = {p.relative_to(app.runtime.home).as_posix() for p in (app.runtime.home / "alerts").rglob("*.jpg")}
    assert crops == {a.crop_path for a in stored}  # one crop per row, no orphan from the failed attempts
    assert [e.data["id"] for e in iter(lambda: announced.get(timeout=0), None)] == [a.id for a in stored]
    states = [e.data["state"] for e in iter(lambda: health.get(timeout=0), None)]
    assert states[0] == "failing" and states[-1] == "healthy"
    # A commit that fails removes the crop it wrote.
    monkeypatch.setattr(type(app.runtime.db), "transaction", _failing_transaction)
    store = AlertStore(app.runtime.db, app.runtime.home, bus, deployment_id, retry_max_s=0.2)
    assert store(_evidence(samples, "S-3")) is None
    assert store.close(wait_s=1) == 1  # still not storable: reported, and counted by the run
    assert {p.relative_to(app.runtime.home).as_posix() for p in (app.runtime.home / "alerts").rglob("*.jpg")} == crops


def _failing_transaction(self):
    raise sa.exc.OperationalError("COMMIT", {}, Exception("database is locked"))


def test_a_failed_enrolment_batch_leaves_no_file_and_start_up_sweeps_a_crash_s_orphans(
    tmp_path, sample_paths, monkeypatch
):
    from openfr.services import galleries as gallery_service
    from openfr.services.galleries import EnrolFields

    app = make_app(tmp_path / "home")
    admin = staff(app)[ADMIN]
    app.galleries.create(admin, "custody", "test gallery", ["rfr", "live"])
    photo = sample_paths["yaoming"].read_bytes()

    def refuse(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(gallery_service.audit, "record", refuse)
    with pytest.raises(sa.exc.OperationalError):
        app.galleries.enrol_upload(admin, EnrolFields("custody", "A-1", "test"), filename="a.jpg", data=photo)
    assert not list((app.runtime.home / "images").rglob("*.jpg")) if (app.runtime.home / "images").exists() else True
    monkeypatch.undo()
    app.galleries.enrol_upload(admin, EnrolFields("custody", "A-1", "test"), filename="a.jpg", data=photo)
    kept = list((app.runtime.home / "images").rglob("*.jpg"))
    # What a kill -9 between writing and committing leaves: files without rows.
    orphan = app.runtime.home / "images" / "ab" / "cd" / ("ab" * 32 + ".jpg")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(photo)
    crop = app.runtime.home / "alerts" / "7" / "deadbeef.jpg"
    crop.parent.mkdir(parents=True)
    crop.write_bytes(photo)
    assert app.start_up()["orphans_removed"] == {"images": 1, "crops": 1}
    assert list((app.runtime.home / "images").rglob("*.jpg")) == kept and not crop.exists()


def test_a_deleted_subject_leaves_every_snapshot_and_the_running_cameras_at_once(
    tmp_path, engine, samples, stream_clip
):
    with ClipServer(stream_clip) as camera:
        app, people = _live_app(tmp_path, engine, samples, camera.url)
        second = lifecycle.DeploymentPlan(
            name="later", grounds="g", categories=["wanted-serious-offence"], source_gallery="custody",
            location="l", location_rationale="r", cameras={"south": camera.url}, public_notice={"signage": "s"},
            starts_at=datetime.now(UTC), ends_at=datetime.now(UTC) + timedelta(hours=2),
        )  # fmt: skip
        app.deployments.plan(people[ADMIN], second)
        app.deployments.authorise(people[AUTHORISER], "later", "ok", CONFIRMED)
        run = app.deployments.start(people[OPERATOR], "market")
        until(lambda: run.result.counters.get("north") and run.result.counters["north"].frames > 10, 30, "running")
        assert run.result.watchlist_subjects == 2  # yao and gdp
        with app.runtime.db.read() as session:
            copies = [app.runtime.home / e.image_path for e in session.scalars(sa.select(WatchlistEntry))]
        done = app.galleries.delete_subject(people[ADMIN], "custody", "yao", "acquitted")
        assert done["deployments"] == 2
        until(lambda: run.result.watchlist_subjects == 1, 5, "the running cameras search without yao")
        app.deployments.stop(people[OPERATOR], "market")
        until(lambda: not app.runtime.cameras.is_running(_deployment(app).id), 30, "the run has finished")
    with app.runtime.db.read() as session:
        left = [(e.deployment_id, e.subject_ref) for e in session.scalars(sa.select(WatchlistEntry))]
        trail = [e["resource"] for e in audit.events(session, action="deployment.watchlist-remove")]
    assert all(ref != "yao" for _, ref in left) and ("gdp" in {r for _, r in left})
    assert sorted(trail) == ["deployment:later", "deployment:market"]
    assert sum(p.exists() for p in copies) == len(left)  # the image copies went with the entries


def test_a_camera_that_was_working_is_retried_at_the_healthy_cap_and_reconnects_when_it_comes_back(stream_clip, caplog):
    """Once a camera has delivered frames, its reconnection pauses stop growing at healthy_backoff_max_s (1 s
    here) instead of backoff_max_s (30 s): it is back within about a second of coming back. The pauses are read
    from the source's own log lines, so the test waits on attempts, never on the clock."""
    pauses = re.compile(r"reconnecting in ([\d.]+) s")
    with ClipServer(stream_clip) as camera, caplog.at_level("WARNING", logger="openfr.live.sources"):
        policy = SourcePolicy(
            open_timeout_s=2,
            stall_timeout_s=2,
            backoff_max_s=30,
            healthy_backoff_max_s=1,
            camera=CameraRules(allow_loopback=True),  # the test camera is on this machine
        )
        events: list[str] = []
        source = VideoSource(SourceSpec.parse(camera.url), policy, lambda state, _: events.append(state))
        frames = source.frames()
        next(frames)

        def waits() -> list[float]:
            return [float(m.group(1)) for r in caplog.records if (m := pauses.search(r.getMessage()))]

        before = len(waits())  # the clip's ends, reconnected at once (each one delivered frames)
        camera.state["down"] = True
        # Five refused attempts: uncapped, the pauses would have doubled to 0.5, 1, 2, 4, 8 s.
        until(lambda: len(waits()) >= before + 6, 30, "six reconnection attempts while the camera is down")
        camera.state["down"] = False
        healthy_before = events.count("healthy")
        until(lambda: events.count("healthy") > healthy_before, 10, "reconnected once the camera is back")
        source.stop()
    down = waits()[before + 1 : before + 6]
    assert down == [1.0] * 5  # capped; before: 1, 2, 4, 8, 16 (to 30 s)


def test_a_stopped_live_camera_ends_its_decoding_thread_at_once(stream_clip):
    """A live camera's frames queue is full whenever nobody reads (the newest frames replace the oldest); the
    decoding thread's end-of-stream marker then waited for room that never came: stop() waited its whole
    join timeout and the thread lived on, one more for every camera ever stopped in a server."""
    with ClipServer(stream_clip) as camera:
        policy = SourcePolicy(open_timeout_s=5, stall_timeout_s=2, camera=CameraRules(allow_loopback=True))
        source = VideoSource(SourceSpec.parse(camera.url), policy, lambda state, _: None)
        frames = source.frames()
        next(frames)
        until(lambda: source._queue.full(), 30, "the queue fills while nobody reads")
        source.stop()
        assert not source._thread.is_alive()


def test_an_unexpected_failure_is_one_line_with_the_details_in_the_log(tmp_path):
    env = {"OPENFR_HOME": str(tmp_path), "OPENFR_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    done = openfr("user", "create", "alice", "--role", "admin", "--password-stdin", env=env, stdin=PASSWORD)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("openfr: error: unexpected failure: OperationalError")
    log = (tmp_path / "logs" / "openfr.log").read_text()
    assert "Traceback" in log and PASSWORD not in log


def test_heavy_requests_beyond_the_budget_are_told_to_come_back(tmp_path):
    from fastapi.testclient import TestClient

    from openfr.settings import WebSettings
    from openfr.web.admission import RequestKind
    from openfr.web.app import create_app

    app = make_app(tmp_path, web=WebSettings(heavy_requests=1, heavy_queue=0, heavy_wait_s=0.2))
    staff(app)
    client = TestClient(create_app(app))
    admission = client.app.state.admission
    release = threading.Event()
    running = admission.submit(RequestKind.SIGN_IN, release.wait, 10)  # one under way: the budget is spent
    try:
        busy = client.post("/api/login", json={"username": "auditor", "password": PASSWORD})
        assert busy.status_code == 503 and int(busy.headers["Retry-After"]) >= 1
    finally:
        release.set()
        running.result()
    assert client.post("/api/login", json={"username": "auditor", "password": PASSWORD}).status_code == 200
    assert client.get("/api/health").status_code == 200  # light requests are never queued
