"""Live facial recognition: deployments (safeguards, snapshot, lifecycle, erasure), camera workers, alerts
and adjudication, privacy of passers-by, camera faults. Self-contained: clips are made from the wheel's
sample photos."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from live_data import ClipServer, closed_port, team_clip, wanted_gallery
from openfr.bus import InProcessBus
from openfr.errors import BadInputError
from openfr.gallery.enrol import import_directory
from openfr.live import alerts, deployments
from openfr.live.runner import RunResult, run_deployment
from openfr.live.setup import live_engine, open_source
from openfr.live.watchlist import WatchEntry, Watchlist
from openfr.live.worker import CameraWorker
from openfr.runtime import Services
from openfr.settings import EngineSettings, LiveSettings, Settings
from openfr.store import Alert, Deployment, WatchlistEntry


@pytest.fixture(scope="module")
def clip(tmp_path_factory, samples) -> Path:
    return team_clip(tmp_path_factory.mktemp("clips") / "team.mp4", samples)


@pytest.fixture
def svc(tmp_path, engine, samples) -> Services:
    settings = Settings(home=tmp_path / "home", engine=EngineSettings(workers=1))
    services = Services(settings)
    people, manifest = wanted_gallery(tmp_path / "gallery", samples, engine)
    import_directory(
        services.db,
        services.home,
        settings,
        space=engine.space,
        gallery_name="custody",
        directory=people,
        manifest=manifest,
    )
    return services


def _plan(clip: Path, **changes) -> deployments.DeploymentPlan:
    now = datetime.now(UTC)
    fields = dict(
        name="test-deployment",
        grounds="test of the deployment lifecycle",
        categories=["wanted-serious-offence"],
        source_gallery="custody",
        location="test square",
        location_rationale="test",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
        cameras={"north": str(clip)},
        threshold=0.3,
        public_notice={"signage": "two signs at the entrances"},
        created_by="officer-a",
    )
    return deployments.DeploymentPlan(**{**fields, **changes})


def _authorised(svc: Services, clip: Path, **changes) -> str:
    with svc.db.transaction() as session:
        deployment = deployments.create(session, _plan(clip, **changes), min_threshold=svc.engine.threshold)
        deployments.authorise(
            session, svc.home, deployment, "inspector-b", "necessary and proportionate", svc.engine.space
        )
        return deployment.name


def test_a_deployment_without_its_safeguards_is_refused(svc, clip):
    plan = _plan(clip, public_notice={}, categories=["anyone"], location_rationale=" ", threshold=0.1)
    with svc.db.transaction() as session, pytest.raises(BadInputError) as refused:
        deployments.create(session, plan, min_threshold=svc.engine.threshold)
    message = str(refused.value)
    for problem in ("public notice", "categories", "choosing the location", "below the model's calibrated"):
        assert problem in message
    with svc.db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Deployment)) == 0


def test_authorisation_needs_another_officer_and_freezes_the_approved_categories(svc, clip):
    with svc.db.transaction() as session:
        deployment = deployments.create(session, _plan(clip), min_threshold=svc.engine.threshold)
        with pytest.raises(BadInputError, match="other than the one who created it"):
            deployments.authorise(session, svc.home, deployment, "officer-a", "", svc.engine.space)
        with pytest.raises(deployments.DeploymentStateError, match="only an authorised one"):
            deployments.go_live(deployment)
        entries = deployments.authorise(session, svc.home, deployment, "inspector-b", "ok", svc.engine.space)
        snapshot = session.scalars(sa.select(WatchlistEntry)).all()
    assert entries == 1 and [e.subject_ref for e in snapshot] == ["yao"]  # not 'gdp' (missing) nor 'other'
    entry = snapshot[0]
    assert entry.category == "wanted-serious-offence" and entry.legal_basis == "warrant 1/2026"
    assert entry.image_provenance == "PND" and (svc.home / entry.image_path).is_file()


def test_a_deployment_runs_only_inside_its_window(svc, clip):
    later = datetime.now(UTC) + timedelta(hours=2)
    name = _authorised(svc, clip, starts_at=later, ends_at=later + timedelta(hours=1))
    with pytest.raises(deployments.DeploymentStateError, match="may only run from"):
        run_deployment(svc, name)
    with svc.db.transaction() as session:
        assert deployments.close_expired(session, now=later + timedelta(hours=1)) == [name]
        assert deployments.get(session, name).state == "closed"


def test_deployment_alerts_once_stores_before_announcing_and_records_adjudication(svc, clip):
    name = _authorised(svc, clip)
    bus = InProcessBus()
    seen_in_store: list[bool] = []
    frames_when_alerted: list[int] = []
    subscription = bus.subscribe("alert.")
    live = RunResult()  # filled as the cameras run: what the console's statistics read meanwhile

    def console():
        event = subscription.get(timeout=120)
        if event is not None:  # the console looks the alert up as soon as it hears of it
            with svc.db.transaction() as session:
                seen_in_store.append(session.get(Alert, event.data["id"]) is not None)
            frames_when_alerted.append(live.counters["north"].frames)

    listener = threading.Thread(target=console)
    listener.start()
    result = run_deployment(svc, name, bus=bus, result=live)
    listener.join(timeout=5)
    assert seen_in_store == [True]
    assert result is live and 0 < frames_when_alerted[0] <= result.counters["north"].frames
    assert result.errors == {} and result.counters["north"].frames > 40
    with svc.db.transaction() as session:
        stored = session.scalars(sa.select(Alert)).all()
        assert len(stored) == 1  # 16 faces in view for 2 s: one alert, for the one wanted person
        alert = stored[0]
        assert (alert.subject_ref, alert.state, alert.camera) == ("yao", "pending", "north")
        assert alert.score >= 0.3 and alert.time_to_alert_ms > 0
        assert (svc.home / alert.crop_path).is_file()
        with pytest.raises(BadInputError, match="follows a confirmed alert"):
            alerts.record_outcome(session, alert.id, outcome="engaged-arrest", user="pc-c")
        alerts.adjudicate(session, alert.id, confirmed=True, user="operator-d", note="same person")
        with pytest.raises(BadInputError, match="already confirmed"):
            alerts.adjudicate(session, alert.id, confirmed=False, user="operator-e")
        alerts.record_outcome(session, alert.id, outcome="engaged-arrest", user="pc-c", note="arrested on warrant")
        stats = alerts.statistics(session, deployments.get(session, name))
    assert stats["alerts"] == stats["confirmed"] == 1 and stats["false_alerts"] == 0
    assert stats["outcomes"] == {"engaged-arrest": 1}
    assert stats["faces_seen"] > 100 and stats["tracks"] >= 10
    assert stats["time_to_alert_ms"]["p50"] is not None
    with svc.db.transaction() as session:  # a run in progress adds its counters to the stored ones
        running = alerts.statistics(session, deployments.get(session, name), {"north": {"frames": 5, "faces": 7}})
    assert (running["frames"], running["faces_seen"]) == (stats["frames"] + 5, stats["faces_seen"] + 7)


def test_snapshot_is_erased_after_retention_but_alerts_keep_their_evidence(svc, clip):
    name = _authorised(svc, clip)
    run_deployment(svc, name)
    with svc.db.transaction() as session:
        deployment = deployments.get(session, name)
        deployments.close(deployment, "test over")
        closed_at, folder = deployments.aware(deployment.closed_at), deployments.snapshot_dir(svc.home, deployment.id)
    assert any(folder.iterdir())
    with svc.db.transaction() as session:  # within the retention: nothing erased
        assert (
            deployments.purge_snapshots(session, svc.home, timedelta(hours=24), now=closed_at + timedelta(hours=23))
            == []
        )
    with svc.db.transaction() as session:
        erased = deployments.purge_snapshots(
            session, svc.home, timedelta(hours=24), now=closed_at + timedelta(hours=25)
        )
        assert erased == [name]
        assert session.scalar(sa.select(sa.func.count()).select_from(WatchlistEntry)) == 0
        alert = session.scalars(sa.select(Alert)).one()
        assert alert.entry_id is None and alert.subject_ref == "yao" and (svc.home / alert.crop_path).is_file()
    assert not folder.exists()


def test_faces_that_match_no_one_leave_no_trace(svc, clip, monkeypatch):
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
    name = _authorised(svc, clip, categories=["missing-person"])  # the 'gdp' subject, not in the team photo
    computed.clear()  # the snapshot's own template was not computed by the camera
    before = {p: p.stat().st_size for p in svc.home.rglob("*") if p.is_file()}
    result = run_deployment(svc, name)
    assert result.counters["north"].faces > 100 and result.counters["north"].embeddings > 5
    with svc.db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 0
        counters = deployments.get(session, name).counters["north"]
        assert set(counters) == {"frames", "faces", "tracks", "alerts", "embeddings"}  # numbers only
    svc.db.purge_freed_pages()
    after = {p for p in svc.home.rglob("*") if p.is_file()}
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
    from openfr.live.decision import DecisionPolicy

    ts = team_clip(tmp_path / "team.ts", samples)
    settings = Settings(home=tmp_path, live=LiveSettings(open_timeout_s=5, stall_timeout_s=2))
    health: list[str] = []
    found = []
    with ClipServer(ts, mode=fault) as server:
        source = open_source(server.url, settings, lambda state, detail: health.append(state))
        worker = CameraWorker(
            "door",
            source,
            live_engine(settings),
            _watchlist(engine, samples),
            DecisionPolicy(threshold=0.3),
            found.append,
        )
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
    done = subprocess.run(
        [sys.executable, "-m", "openfr", "watch", str(broken), "--watchlist", str(tmp_path / "wl"), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["frames"] >= 40  # of 50: frames after the damage decode
    assert [line["subject"] for line in lines if line["type"] == "alert"] == ["yao"]


def test_a_camera_that_never_connects_fails_clearly_or_is_marked_unhealthy(tmp_path, samples, svc, clip):
    url = f"http://127.0.0.1:{closed_port()}/camera.ts"
    (tmp_path / "wl").mkdir()
    save_image(samples["yaoming"], tmp_path / "wl" / "yao.jpg")
    done = subprocess.run(
        [sys.executable, "-m", "openfr", "watch", url, "--watchlist", str(tmp_path / "wl"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(tmp_path),
    )
    assert done.returncode == 2 and "could not read from" in done.stderr
    # In a deployment the dead camera is retried and reported; the good camera carries on regardless.
    name = _authorised(svc, clip, cameras={"north": str(clip), "dead": url})
    stop = threading.Event()
    bus = InProcessBus()
    health = bus.subscribe("camera.health")
    timer = threading.Timer(8, stop.set)
    timer.start()
    result = run_deployment(svc, name, bus=bus, stop=stop)
    timer.cancel()
    states = []
    while (event := health.get(timeout=0)) is not None:
        states.append((event.data["camera"], event.data["state"]))
    assert ("dead", "unhealthy") in states
    assert result.counters["north"].alerts == 1 and result.counters["dead"].frames == 0


def _env(home: Path) -> dict:
    import os

    return {
        **os.environ,
        "OPENFR_HOME": str(home / "home"),
        "OPENFR_LIVE__OPEN_TIMEOUT_S": "2",
        "OPENFR_LIVE__BACKOFF_MAX_S": "1",
    }


def save_image(array: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(array).save(path)


def test_deployment_commands_from_draft_to_statistics(tmp_path, svc, clip):
    """The same lifecycle through the CLI, as a force's scripts would drive it."""
    import os

    env = {**os.environ, "OPENFR_HOME": str(svc.home), "OPENFR_ENGINE__WORKERS": "1"}

    def openfr(*args: str, user: str = "officer-a") -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "openfr", *args], capture_output=True, text=True, timeout=300, env=env
        )
        return done

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
        f"north={clip}",
        "--notice",
        "signage=signs at each entrance",
        "--hours",
        "2",
        "--json",
    ]
    missing_notice = openfr(*[a for a in base if a not in ("--notice", "signage=signs at each entrance")])
    assert missing_notice.returncode == 2 and "public notice" in missing_notice.stderr
    assert openfr(*base, "--user", "officer-a").returncode == 0
    same = openfr("deployment", "authorise", "market-day", "--user", "officer-a")
    assert same.returncode == 2 and "other than the one who created it" in same.stderr
    ok = openfr("deployment", "authorise", "market-day", "--user", "inspector-b", "--note", "approved", "--json")
    assert json.loads(ok.stdout)["watchlist_entries"] == 1
    run = openfr("deployment", "run", "market-day", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["cameras"]["north"]["alerts"] == 1
    listed = [json.loads(line) for line in openfr("alert", "list", "market-day").stdout.splitlines()]
    assert [(a["subject"], a["state"]) for a in listed] == [("yao", "pending")]
    alert_id = str(listed[0]["id"])
    assert openfr("alert", "decide", alert_id, "--confirm", "--user", "operator-d").returncode == 0
    assert openfr("alert", "outcome", alert_id, "engaged-no-further-action", "--user", "pc-c").returncode == 0
    bad = openfr("alert", "outcome", alert_id, "shot-on-sight", "--user", "pc-c")
    assert bad.returncode == 2 and "outcome must be one of" in bad.stderr
    stats = json.loads(openfr("deployment", "stats", "market-day").stdout)
    assert (stats["alerts"], stats["confirmed"], stats["outcomes"]) == (1, 1, {"engaged-no-further-action": 1})
    assert openfr("deployment", "close", "market-day").returncode == 0
    assert json.loads(openfr("deployment", "list", "--json").stdout)["deployments"][0]["state"] == "closed"
