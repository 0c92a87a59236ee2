"""Live facial recognition: deployments (safeguards, snapshot, lifecycle, erasure), camera workers, alerts
and adjudication, privacy of passers-by, camera faults. Self-contained: clips are made from the wheel's
sample photos."""

from __future__ import annotations

import json
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from actors import add_user, cli_login, make_app, openfr, staff
from live_data import ClipServer, a_plan, closed_port, team_clip, wanted_gallery
from openfr.errors import BadInputError, ConflictError, PermissionDeniedError
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.live import lifecycle
from openfr.live.decision import DecisionPolicy
from openfr.live.runner import RunResult
from openfr.live.setup import camera_worker
from openfr.live.watchlist import WatchEntry, Watchlist
from openfr.services import Application
from openfr.settings import LiveSettings, Settings
from openfr.store import Alert, Deployment, WatchlistEntry

OPERATOR, AUTHORISER, ADMIN = Role.OPERATOR, Role.AUTHORISING_OFFICER, Role.ADMINISTRATOR
CONFIRMED = dict.fromkeys(lifecycle.AUTHORISATION_CHECKLIST, True)  # every checklist item answered yes


@pytest.fixture(scope="module")
def clip(tmp_path_factory, samples) -> Path:
    return team_clip(tmp_path_factory.mktemp("clips") / "team.mp4", samples)


@pytest.fixture
def app(tmp_path, engine, samples, clip) -> Application:
    application = make_app(tmp_path / "home")
    application.people = staff(application)
    people, manifest = wanted_gallery(tmp_path / "gallery", samples, engine)
    application.galleries.enrol_folder(
        application.people[ADMIN], "custody", people, manifest=manifest, create="test gallery", uses=["rfr", "live"]
    )
    videos = application.runtime.home / "videos"  # deployments may read video files from here only
    videos.mkdir()
    shutil.copy(clip, videos / clip.name)
    return application


def _plan(clip: Path, **changes) -> lifecycle.DeploymentPlan:
    return a_plan({"north": clip.name}, **{"threshold": 0.3, **changes})


def _authorised(app: Application, clip: Path, **changes) -> str:
    view = app.deployments.plan(app.people[ADMIN], _plan(clip, **changes))
    app.deployments.authorise(app.people[AUTHORISER], view.name, "necessary and proportionate", CONFIRMED)
    return view.name


def _run(app: Application, name: str, **kw) -> RunResult:
    return app.deployments.run(app.people[OPERATOR], name, **kw)


def test_a_deployment_without_its_safeguards_is_refused(app, clip):
    plan = _plan(clip, public_notice={}, categories=["anyone"], location_rationale=" ", threshold=0.1, name="12")
    with pytest.raises(BadInputError) as refused:
        app.deployments.plan(app.people[ADMIN], plan)
    message = str(refused.value)
    for problem in ("public notice", "categories", "choosing the location", "below the model's calibrated", "digits"):
        assert problem in message
    for bad in (float("nan"), float("inf"), 1.5, app.deployments.floor - 0.001):
        with pytest.raises(BadInputError, match="threshold"):
            app.deployments.plan(app.people[ADMIN], _plan(clip, threshold=bad))
    with pytest.raises(BadInputError, match="video file in"):  # no door can make openfr open any file
        app.deployments.plan(app.people[ADMIN], _plan(clip, cameras={"north": str(clip)}))
    with pytest.raises(PermissionDeniedError):
        app.deployments.plan(app.people[OPERATOR], _plan(clip))
    with app.runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Deployment)) == 0


def test_authorisation_needs_another_officer_and_freezes_the_approved_categories(app, clip):
    own = app.deployments.plan(app.people[AUTHORISER], _plan(clip, name="own-plan"))
    with pytest.raises(PermissionDeniedError, match="other than the one who created it"):
        app.deployments.authorise(app.people[AUTHORISER], own.name, "")
    view = app.deployments.plan(app.people[ADMIN], _plan(clip))
    with pytest.raises(lifecycle.DeploymentStateError, match="only an authorised one"):
        _run(app, view.name)
    with pytest.raises(PermissionDeniedError):  # administrators plan; they never authorise
        app.deployments.authorise(app.people[ADMIN], view.name, "")
    authorised = app.deployments.authorise(app.people[AUTHORISER], view.name, "ok", CONFIRMED)
    with app.runtime.db.read() as session:
        snapshot = session.scalars(sa.select(WatchlistEntry)).all()
    assert authorised.watchlist_size == 1 and [e.subject_ref for e in snapshot] == ["yao"]  # not 'gdp' nor 'other'
    entry = snapshot[0]
    assert entry.category == "wanted-serious-offence" and entry.legal_basis == "warrant 1/2026"
    assert entry.image_provenance == "PND" and (app.runtime.home / entry.image_path).is_file()
    with pytest.raises(ConflictError, match="not a draft"):
        app.deployments.authorise(app.people[AUTHORISER], view.name, "again")


def test_a_deployment_runs_only_inside_its_window(app, clip):
    later = datetime.now(UTC) + timedelta(hours=2)
    name = _authorised(app, clip, starts_at=later, ends_at=later + timedelta(hours=1))
    with pytest.raises(lifecycle.DeploymentStateError, match="may only run from"):
        _run(app, name)
    with app.runtime.db.read() as session:
        assert [d.name for d in lifecycle.expired(session, now=later + timedelta(hours=1))] == [name]


def test_deployment_alerts_once_stores_before_announcing_and_records_adjudication(app, clip):
    name = _authorised(app, clip)
    seen_in_store: list[bool] = []
    frames_when_alerted: list[int] = []
    subscription = app.runtime.bus.subscribe("alert.")
    live = RunResult()  # filled as the cameras run: what the console's statistics read meanwhile

    def console():
        event = subscription.get(timeout=120)
        if event is not None:  # the console looks the alert up as soon as it hears of it
            with app.runtime.db.read() as session:
                seen_in_store.append(session.get(Alert, event.data["id"]) is not None)
            frames_when_alerted.append(live.counters["north"].frames)

    listener = threading.Thread(target=console)
    listener.start()
    result = _run(app, name, result=live)
    listener.join(timeout=5)
    assert seen_in_store == [True]
    assert result is live and 0 < frames_when_alerted[0] <= result.counters["north"].frames
    assert result.errors == {} and result.counters["north"].frames > 40
    operator = app.people[OPERATOR]
    stored = app.alerts.of_deployment(operator, name)
    assert len(stored) == 1  # 16 faces in view for 2 s: one alert, for the one wanted person
    alert = stored[0]
    assert (alert["subject"], alert["state"], alert["camera"]) == ("yao", "pending", "north")
    assert alert["score"] >= 0.3 and alert["time_to_alert_ms"] > 0
    assert app.alerts.image(operator, alert["id"], "crop").is_file()
    with pytest.raises(ConflictError, match="follows a confirmed alert"):
        app.alerts.outcome(operator, alert["id"], "engaged-arrest")
    with pytest.raises(PermissionDeniedError):  # auditors read; they never decide
        app.alerts.decide(app.people[Role.AUDITOR], alert["id"], confirmed=True)
    app.alerts.decide(operator, alert["id"], confirmed=True, note="same person")
    with pytest.raises(ConflictError, match="already confirmed"):
        app.alerts.decide(operator, alert["id"], confirmed=False)
    app.alerts.outcome(operator, alert["id"], "engaged-arrest", "arrested on warrant")
    stats = app.deployments.statistics(app.people[AUTHORISER], name)[0]
    assert stats["alerts"] == stats["confirmed"] == 1 and stats["false_alerts"] == 0
    assert stats["outcomes"] == {"engaged-arrest": 1}
    assert stats["detections"] > 100 and stats["faces_seen"] == stats["tracks"] >= 10  # people, not detections
    assert stats["time_to_alert_ms"]["p50"] is not None
    from openfr.live import alerting

    with app.runtime.db.read() as session:  # a run in progress adds its counters to the stored ones
        running = alerting.statistics(
            session, lifecycle.get(session, name), {"north": {"frames": 5, "faces": 7, "tracks": 2}}
        )
    assert (running["frames"], running["detections"]) == (stats["frames"] + 5, stats["detections"] + 7)
    assert running["faces_seen"] == stats["faces_seen"] + 2
    with app.runtime.db.read() as session:
        trail = [(e["actor"], e["action"]) for e in audit.events(session, resource=f"deployment:{name}")]
    assert trail == [
        ("administrator", "deployment.create"),
        ("authorising_officer", "deployment.authorise"),
        ("operator", "deployment.live"),
        ("operator", "deployment.start"),
    ]


def test_snapshot_is_erased_after_retention_but_alerts_keep_their_evidence(app, clip):
    name = _authorised(app, clip)
    _run(app, name)
    closed = app.deployments.close(app.people[OPERATOR], name, "test over")
    folder = lifecycle.snapshot_dir(app.runtime.home, closed.id)
    assert any(folder.iterdir())
    retention = timedelta(hours=24)
    with app.runtime.db.read() as session:  # within the retention: nothing is due
        assert lifecycle.snapshots_due(session, retention, now=closed.closed_at + timedelta(hours=23)) == []
        assert len(lifecycle.snapshots_due(session, retention, now=closed.closed_at + timedelta(hours=25))) == 1
    assert app.deployments.purge(app.people[ADMIN])["snapshots_erased"] == []  # not yet, by the real clock
    with pytest.raises(PermissionDeniedError):
        app.deployments.purge(app.people[OPERATOR])
    later = make_app(
        app.runtime.home, live=LiveSettings(snapshot_retention_hours=0, allow_loopback_cameras=True)
    )  # a day on, in effect
    assert later.deployments.purge(app.people[ADMIN])["snapshots_erased"] == [name]
    with app.runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(WatchlistEntry)) == 0
        alert = session.scalars(sa.select(Alert)).one()
        assert alert.entry_id is None and alert.subject_ref == "yao" and (app.runtime.home / alert.crop_path).is_file()
    assert not folder.exists()


def test_faces_that_match_no_one_leave_no_trace(app, clip, monkeypatch):
    """The clip shows 16 people; the watchlist holds one person who is not among them. After the run, no
    alert exists, no file was added, and none of the embeddings the worker computed is in any file."""
    from openfr.engine.embed import ArcFaceEmbedder

    computed: list[np.ndarray] = []
    original = ArcFaceEmbedder.embed

    def spy(self, crops):
        vectors = original(self, crops)
        computed.extend(vectors.copy())
        return vectors

    monkeypatch.setattr(ArcFaceEmbedder, "embed", spy)
    name = _authorised(app, clip, categories=["missing-person"])  # the 'gdp' subject, not in the team photo
    computed.clear()  # the snapshot's own template was not computed by the camera
    home = app.runtime.home
    before = {p: p.stat().st_size for p in home.rglob("*") if p.is_file()}
    result = _run(app, name)
    assert result.counters["north"].faces > 100 and result.counters["north"].embeddings > 5
    with app.runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 0
        counters = lifecycle.get(session, name).counters["north"]
        assert set(counters) == {"frames", "faces", "tracks", "alerts", "embeddings"}  # numbers only
    app.runtime.db.purge_freed_pages()
    after = {p for p in home.rglob("*") if p.is_file()}
    assert after - set(before) <= {p for p in after if p.name.startswith("openfr.db")}  # no new file but the DB's
    assert len(computed) == result.counters["north"].embeddings
    needles = [v.astype("<f4").tobytes()[:64] for v in computed] + [v.astype("<f2").tobytes()[:32] for v in computed]
    for path in after:
        blob = path.read_bytes()
        assert not any(n in blob for n in needles), f"a passer-by's embedding is in {path}"


def _watchlist(engine, samples, subject="yao") -> Watchlist:
    face = engine.probe(samples["yaoming"])
    return Watchlist([WatchEntry(subject, None, "watch", None)], face.embedding.vector[None, :], engine.space)


@pytest.mark.parametrize("fault", ["drop", "stall"])
def test_a_camera_that_drops_or_freezes_mid_stream_is_reconnected(tmp_path, samples, engine, fault):
    ts = team_clip(tmp_path / "team.ts", samples)
    settings = Settings(
        home=tmp_path, live=LiveSettings(open_timeout_s=5, stall_timeout_s=2, allow_loopback_cameras=True)
    )
    health: list[str] = []
    found = []
    with ClipServer(ts, mode=fault) as server:
        worker = camera_worker(
            "door",
            server.url,
            settings,
            _watchlist(engine, samples),
            DecisionPolicy(threshold=0.3),
            found.append,
            on_health=lambda state, detail: health.append(state),
        )
        source = worker.source
        counters = worker.run(until=lambda: source.connections >= 2 and worker.counters.frames >= 60)
    assert counters.connections >= 2 and server.state["requests"] >= 2
    assert health[0] == "healthy" and "reconnecting" in health and health.count("healthy") >= 2
    assert counters.frames >= 60 and len(found) == 1  # the cool-down keeps it to one alert across reconnections


def test_corrupt_data_is_skipped_and_the_scan_goes_on(tmp_path, samples):
    ts = team_clip(tmp_path / "team.ts", samples)
    data = bytearray(ts.read_bytes())
    rng = np.random.default_rng(1)
    middle = len(data) // 2
    data[middle : middle + 20_000] = rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    broken = tmp_path / "broken.ts"
    broken.write_bytes(bytes(data))
    (tmp_path / "wl").mkdir()
    save_image(samples["yaoming"], tmp_path / "wl" / "yao.jpg")
    done = openfr("watch", str(broken), "--watchlist", str(tmp_path / "wl"), "--json", env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["frames"] >= 40  # of 50: frames after the damage decode
    assert [line["subject"] for line in lines if line["type"] == "alert"] == ["yao"]


def test_a_camera_that_never_connects_fails_clearly_or_is_marked_unhealthy(tmp_path, samples, app, clip):
    url = f"http://127.0.0.1:{closed_port()}/camera.ts"
    (tmp_path / "wl").mkdir()
    save_image(samples["yaoming"], tmp_path / "wl" / "yao.jpg")
    done = openfr("watch", url, "--watchlist", str(tmp_path / "wl"), "--json", env=_env(tmp_path))
    assert done.returncode == 2 and "could not read from" in done.stderr
    # In a deployment the dead camera is retried and reported; the good camera carries on regardless.
    name = _authorised(app, clip, cameras={"north": clip.name, "dead": url})
    stop = threading.Event()
    health = app.runtime.bus.subscribe("camera.health")
    timer = threading.Timer(8, stop.set)
    timer.start()
    result = _run(app, name, stop=stop)
    timer.cancel()
    states = []
    while (event := health.get(timeout=0)) is not None:
        states.append((event.data["camera"], event.data["state"]))
    assert ("dead", "unhealthy") in states
    assert result.counters["north"].alerts == 1 and result.counters["dead"].frames == 0


def _env(home: Path) -> dict:
    return {
        "OPENFR_HOME": str(home / "home"),
        "OPENFR_LIVE__OPEN_TIMEOUT_S": "2",
        "OPENFR_LIVE__BACKOFF_MAX_S": "1",
    }


def save_image(array: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(array).save(path)


def test_deployment_commands_from_draft_to_statistics(tmp_path, app, clip):
    """The same lifecycle through the CLI, as a force's scripts would drive it: each step signed in as the
    account whose role may take it."""
    env = {"OPENFR_HOME": str(app.runtime.home), "OPENFR_ENGINE__WORKERS": "1"}
    add_user(app, app.people[ADMIN], "authorising_officer_2", "authorising-officer")
    base = [
        "deployment",
        "create",
        "market-day",
        "--grounds",
        "wanted offenders expected",
        "--category",
        "wanted-serious-offence",
        "--gallery",
        "custody",
        "--location",
        "market square",
        "--location-reason",
        "intelligence of offenders attending",
        "--camera",
        f"north={clip.name}",
        "--notice",
        "signage=signs at each entrance",
        "--end",
        (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        "--json",
    ]
    assert openfr(*base, env=env).returncode == 2  # nobody signed in: nothing happens
    cli_login(env, "authorising_officer")
    missing_notice = openfr(*[a for a in base if a not in ("--notice", "signage=signs at each entrance")], env=env)
    assert missing_notice.returncode == 2 and "public notice" in missing_notice.stderr
    assert openfr(*base, env=env).returncode == 0
    same = openfr("deployment", "authorise", "market-day", env=env)
    assert same.returncode == 2 and "other than the one who created it" in same.stderr
    cli_login(env, "operator")
    refused = openfr("deployment", "authorise", "market-day", env=env)
    assert refused.returncode == 2 and "may not deployment.authorise" in refused.stderr
    cli_login(env, "authorising_officer_2")
    confirm = [arg for key in lifecycle.AUTHORISATION_CHECKLIST for arg in ("--confirm", key)]
    ok = openfr("deployment", "authorise", "market-day", "--note", "approved", *confirm, "--json", env=env)
    assert json.loads(ok.stdout)["watchlist_entries"] == 1
    cli_login(env, "operator")
    run = openfr("deployment", "run", "market-day", "--json", env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["cameras"]["north"]["alerts"] == 1
    listed = [json.loads(line) for line in openfr("alert", "list", "market-day", env=env).stdout.splitlines()]
    assert [(a["subject"], a["state"]) for a in listed] == [("yao", "pending")]
    alert_id = str(listed[0]["id"])
    assert openfr("alert", "decide", alert_id, "--confirm", env=env).returncode == 0
    assert openfr("alert", "outcome", alert_id, "engaged-no-further-action", env=env).returncode == 0
    bad = openfr("alert", "outcome", alert_id, "shot-on-sight", env=env)
    assert bad.returncode == 2 and "outcome must be one of" in bad.stderr
    assert openfr("deployment", "stats", "market-day", env=env).returncode == 2  # operators do not read statistics
    cli_login(env, "auditor")
    stats = json.loads(openfr("deployment", "stats", "market-day", env=env).stdout)
    assert (stats["alerts"], stats["confirmed"], stats["outcomes"]) == (1, 1, {"engaged-no-further-action": 1})
    cli_login(env, "operator")
    assert openfr("deployment", "close", "market-day", env=env).returncode == 2  # a reason is required
    assert openfr("deployment", "close", "market-day", "--reason", "market over", env=env).returncode == 0
    assert json.loads(openfr("deployment", "list", "--json", env=env).stdout)["deployments"][0]["state"] == "closed"
    with app.runtime.db.read() as session:
        actors = {(e["actor"], e["action"]) for e in audit.events(session, resource="deployment:market-day")}
    assert actors == {
        ("authorising_officer", "deployment.create"),
        ("authorising_officer_2", "deployment.authorise"),
        ("operator", "deployment.live"),
        ("operator", "deployment.start"),
        ("operator", "deployment.close"),
    }


def test_watch_is_for_evaluation_skips_unusable_watchlist_images_and_keeps_the_threshold_floor(tmp_path, samples, clip):
    (tmp_path / "wl").mkdir()
    save_image(samples["yaoming"], tmp_path / "wl" / "yao.jpg")
    save_image(np.full((200, 200, 3), 128, np.uint8), tmp_path / "wl" / "blank.png")  # no face: skipped, reported
    args = ["watch", str(clip), "--watchlist", str(tmp_path / "wl"), "--json"]
    done = openfr(*args, env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["image"].endswith("blank.png") for line in lines if line["type"] == "skipped"] == [True]
    assert [line["subject"] for line in lines if line["type"] == "alert"] == ["yao"]
    assert lines[-1]["watchlist_skipped"] == 1
    for bad in ("0.05", "nan", "inf", "1.5"):
        low = openfr(*args, "--threshold", bad, env=_env(tmp_path))
        assert low.returncode == 2 and "threshold" in low.stderr, bad
    operational = {**_env(tmp_path), "OPENFR_OPERATIONAL": "true", "OPENFR_ALLOW_RESEARCH_LICENCE": "true"}
    refused = openfr(*args, env=operational)
    assert refused.returncode == 2 and "authorised deployments" in refused.stderr and refused.stdout == ""
    lowered = openfr(*args, env={**_env(tmp_path), "OPENFR_MATCH_THRESHOLD": "0.05"})
    assert lowered.returncode == 2 and "below" in lowered.stderr
