"""Accountability in the store, on SQLite and PostgreSQL: the live threshold follows the watchlist's size
(and authorisation raises it if the watchlist grew), two-person verification, a replaced alert is marked
superseded, and who was on a watchlist is kept without biometrics after the snapshot is erased."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from actors import add_user, from_template, make_app, staff
from live_data import a_plan, wanted_gallery
from openfr.bus import InProcessBus
from openfr.errors import BadInputError, ConflictError, PermissionDeniedError
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.live.alerting import AlertStore
from openfr.live.lifecycle import AUTHORISATION_CHECKLIST, DeploymentPlan
from openfr.live.watchlist import WatchEntry
from openfr.live.worker import AlertEvidence
from openfr.services import Application
from openfr.services.reports import as_csv
from openfr.services.searches import SearchRequest
from openfr.services.subject_access import AccessRequest
from openfr.settings import LiveSettings
from openfr.store import Alert, Deployment, SearchRecord, WatchlistEntry, WatchlistMember
from openfr.types import Quality

ADMIN, AUTHORISER, OPERATOR = Role.ADMINISTRATOR, Role.AUTHORISING_OFFICER, Role.OPERATOR
CONFIRMED = dict.fromkeys(AUTHORISATION_CHECKLIST, True)  # every checklist item answered yes


def _plan(**kw) -> DeploymentPlan:
    fields = dict(name="market", categories=["wanted-serious-offence", "missing-person"], location="square",
                  location_rationale="footfall")  # fmt: skip
    return a_plan({"north": "rtsp://10.0.0.9/north"}, **{**fields, **kw})


@pytest.fixture
def world(tmp_path, engine, samples, database_url):

    def staffed_with_a_watchlist_gallery(app: Application) -> dict:
        people = staff(app)
        folder, manifest = wanted_gallery(tmp_path / "gallery", samples, engine)
        app.galleries.enrol_folder(
            people[ADMIN], "custody", folder, manifest=manifest, create="test gallery", uses=["rfr", "live"]
        )
        people["second"] = add_user(app, people[ADMIN], "second-operator", "operator")
        return people

    app = make_app(tmp_path / "home", database_url, live=LiveSettings(snapshot_retention_hours=0))
    people = from_template(app, "accountability world", staffed_with_a_watchlist_gallery)
    people = dict(people) if people is not None else staffed_with_a_watchlist_gallery(app)
    yield app, people
    app.close()


def _evidence(samples, subject: str, track: int = 1, replaces: str | None = None) -> AlertEvidence:
    quality = Quality(80, 30, 100, 0, 0, 0, 0.9)
    crop = np.ascontiguousarray(samples["yaoming"][:100, :100])
    entry = WatchEntry(subject, None, "missing-person", None)
    return AlertEvidence("north", track, entry, 0.9, 0.5, quality, 3, 0.1, 1, time.monotonic(), crop, replaces)


def _alerts(app, samples, *subjects_and_replaces) -> list[int]:
    with app.runtime.db.read() as session:
        deployment_id = session.scalar(sa.select(Deployment.id).where(Deployment.name == "market"))
    store = AlertStore(app.runtime.db, app.runtime.home, InProcessBus(), deployment_id)
    ids = [store(_evidence(samples, subject, replaces=replaces)).id for subject, replaces in subjects_and_replaces]
    store.close()
    return ids


def test_the_live_threshold_follows_the_watchlist_size_and_authorisation_raises_it_if_needed(world):
    app, people = world
    floor = app.deployments.live_floor(2)  # yao and gdp: 'other' has no watchlist category
    assert floor > app.runtime.engine.card.threshold
    with pytest.raises(BadInputError, match="below"):
        app.deployments.plan(people[ADMIN], _plan(threshold=app.runtime.engine.card.threshold))
    view = app.deployments.plan(people[ADMIN], _plan())
    assert view.threshold == floor and view.subjects == 2
    assert 0 < view.expected_false_alerts <= 10.0 + 1e-6  # per 100,000 faces: the 1 in 10,000 target
    # A stricter target by the time it is authorised (as a larger watchlist would): the threshold is raised.
    app.runtime.settings.live.target_fpir = 1e-6
    authorised = app.deployments.authorise(people[AUTHORISER], "market", "ok", CONFIRMED)
    assert authorised.threshold > floor
    with app.runtime.db.read() as session:
        event = next(iter(audit.events(session, action="deployment.authorise")))
    assert event["details"]["threshold_raised_from"] == floor and event["details"]["subjects"] == 2


def test_two_person_verification_needs_a_second_operator_who_agrees(world, samples):
    app, people = world
    app.deployments.plan(people[ADMIN], _plan(two_person=True))
    app.deployments.authorise(people[AUTHORISER], "market", "ok", CONFIRMED)
    agreed, disputed = _alerts(app, samples, ("yao", None), ("gdp", None))
    first = app.alerts.decide(people[OPERATOR], agreed, confirmed=True)
    assert first["state"] == "awaiting-second"
    with pytest.raises(PermissionDeniedError, match="second operator"):
        app.alerts.decide(people[OPERATOR], agreed, confirmed=True)  # the same person twice is one person
    with pytest.raises(ConflictError):
        app.alerts.outcome(people[OPERATOR], agreed, "engaged-arrest")  # not confirmed yet: no engagement
    done = app.alerts.decide(people["second"], agreed, confirmed=True)
    assert done["state"] == "confirmed" and done["verified_by"] == "second-operator"
    app.alerts.decide(people[OPERATOR], disputed, confirmed=True)
    assert app.alerts.decide(people["second"], disputed, confirmed=False)["state"] == "rejected"
    with app.runtime.db.read() as session:
        trail = [
            (e["actor"], e["action"], e["details"]["state"]) for e in audit.events(session, resource=f"alert:{agreed}")
        ]
    assert sorted(trail) == sorted(
        [("operator", "alert.confirm", "awaiting-second"), ("second-operator", "alert.confirm", "confirmed")]
    )


def test_one_operator_confirms_when_two_person_verification_is_off(world, samples):
    app, people = world
    app.deployments.plan(people[ADMIN], _plan())
    app.deployments.authorise(people[AUTHORISER], "market", "ok", CONFIRMED)
    (alert,) = _alerts(app, samples, ("yao", None))
    assert app.alerts.decide(people[OPERATOR], alert, confirmed=True)["state"] == "confirmed"


def test_a_replacing_alert_supersedes_the_tracks_earlier_one(world, samples):
    app, people = world
    app.deployments.plan(people[ADMIN], _plan())
    app.deployments.authorise(people[AUTHORISER], "market", "ok", CONFIRMED)
    earlier, later = _alerts(app, samples, ("gdp", None), ("yao", "gdp"))
    with app.runtime.db.read() as session:
        first, second = session.get(Alert, earlier), session.get(Alert, later)
        assert first.state == "superseded" and second.replaces_id == earlier and second.state == "pending"
    with pytest.raises(ConflictError, match="superseded"):
        app.alerts.decide(people[OPERATOR], earlier, confirmed=True)


def test_who_was_on_a_watchlist_outlives_the_snapshots_biometrics(world):
    app, people = world
    app.deployments.plan(people[ADMIN], _plan())
    app.deployments.authorise(people[AUTHORISER], "market", "ok", CONFIRMED)
    app.galleries.delete_subject(people[ADMIN], "custody", "gdp", "report withdrawn")
    app.deployments.close(people[OPERATOR], "market", "done")
    app.deployments.purge(people[ADMIN])  # retention 0 h: the snapshot is erased now
    with app.runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(WatchlistEntry)) == 0
        members = {m.subject_ref: m for m in session.scalars(sa.select(WatchlistMember))}
        deployment = session.scalars(sa.select(Deployment)).one()
    assert set(members) == {"yao", "gdp"} and deployment.snapshot_erased_at is not None
    assert members["yao"].category == "wanted-serious-offence" and members["yao"].removed_at is None
    assert members["gdp"].removed_at is not None  # taken off when the subject was deleted
    assert deployment.watchlist_size == 2


def _went_live(app, hours: float, tracks: int, location: str | None = None) -> None:
    """Record a run as the cameras would have: live for `hours`, `tracks` people seen, then closed."""
    now = datetime.now(UTC)
    with app.runtime.db.transaction() as session:
        d = session.scalars(sa.select(Deployment).where(Deployment.name == "market")).one()
        d.state, d.live_at, d.closed_at = "closed", now - timedelta(hours=hours), now
        d.counters = {"north": {"frames": tracks * 40, "faces": tracks * 30, "tracks": tracks}}
        d.location = location or d.location


def _decided(app, people, samples) -> dict[str, int]:
    arrest, rejected, wrong = _alerts(app, samples, ("yao", None), ("gdp", None), ("yao", None))
    app.alerts.decide(people[OPERATOR], arrest, confirmed=True)
    app.alerts.outcome(people[OPERATOR], arrest, "engaged-arrest")
    app.alerts.decide(people[OPERATOR], rejected, confirmed=False)
    app.alerts.decide(people[OPERATOR], wrong, confirmed=True)
    app.alerts.outcome(people[OPERATOR], wrong, "engaged-not-the-person")  # a false alert found on the street
    return {"arrest": arrest, "rejected": rejected, "wrong": wrong}


def test_the_transparency_report_counts_people_not_detections_and_every_false_alert(world, samples):
    app, people = world
    app.deployments.plan(people[ADMIN], _plan())
    app.deployments.authorise(people[AUTHORISER], "market", "ok", CONFIRMED)
    _decided(app, people, samples)
    _went_live(app, hours=2, tracks=500, location='=HYPERLINK("http://x")')
    report = app.reports.transparency(people[AUTHORISER])
    (row,) = report["rows"]
    assert (row["faces_seen"], row["alerts"], row["confirmed"], row["false_alerts"]) == (500, 3, 1, 2)
    assert (row["engagements"], row["arrests"], row["watchlist_size"]) == (2, 1, 2)
    assert row["hours"] == pytest.approx(2.0, abs=0.01) and row["false_alert_rate"] == pytest.approx(2 / 500)
    assert row["flagged"] and row["expected_false_alerts"] < 1  # 2 false alerts where about 0.05 were expected
    public = app.reports.transparency(people[AUTHORISER], public=True)
    assert "authorised_by" not in public["rows"][0] and "deployment" not in public["rows"][0]
    csv_text = as_csv(public)
    assert "'=HYPERLINK" in csv_text  # a spreadsheet never runs a formula from a free-text field
    today = datetime.now(UTC).date()
    assert app.reports.transparency(people[AUTHORISER], since=today + timedelta(days=1))["rows"] == []
    went_live = (datetime.now(UTC) - timedelta(hours=2)).date()  # yesterday, shortly after midnight
    assert len(app.reports.transparency(people[AUTHORISER], since=went_live, until=today)["rows"]) == 1
    with pytest.raises(BadInputError):
        app.reports.transparency(people[AUTHORISER], since=today, until=today - timedelta(days=1))
    (camera,) = app.reports.monitoring(people[ADMIN])
    assert camera["camera"] == "north" and camera["false_alerts"] == 2 and camera["flagged"]


def test_a_purge_leaves_no_biometric_remnant_and_keeps_what_an_outcome_needs(world, samples, sample_paths):
    app, people = world
    app.deployments.plan(people[ADMIN], _plan())
    app.deployments.authorise(people[AUTHORISER], "market", "ok", CONFIRMED)
    ids = _decided(app, people, samples)
    photo = sample_paths["yaoming"].read_bytes()
    app.search.search(people[Role.INVESTIGATOR], SearchRequest("custody", "case 1", None, "RFR", 5), photo)
    with app.runtime.db.read() as session:
        vectors = [e.vector for e in session.scalars(sa.select(WatchlistEntry))]
        crops = {a.id: app.runtime.home / a.crop_path for a in session.scalars(sa.select(Alert))}
    app.deployments.close(people[OPERATOR], "market", "done")
    retention = app.runtime.settings.retention
    retention.alert_days = retention.search_days = 0
    done = app.retention.purge(people[ADMIN])
    assert done["snapshots_erased"] == ["market"] and done["alerts_deleted"] == 2 and done["searches_deleted"] == 1
    with app.runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(WatchlistEntry)) == 0
        assert [a.id for a in session.scalars(sa.select(Alert))] == [ids["arrest"]]  # kept: an arrest followed
        assert session.scalar(sa.select(sa.func.count()).select_from(SearchRecord)) == 0
        actions = {e["action"] for e in audit.events(session, action="")}
    assert {"deployment.snapshot-erase", "alert.purge", "search.purge"} <= actions
    assert [i for i, path in crops.items() if path.exists()] == [ids["arrest"]]
    assert not (app.runtime.home / "deployments").exists() or not any((app.runtime.home / "deployments").rglob("*.*"))
    # The snapshot's vectors are copies of the gallery's templates: with the people deleted from the gallery
    # too, no byte of either may survive in the database files (SQLite zeroes freed pages, truncates its log).
    for subject in ("yao", "gdp"):
        app.galleries.delete_subject(people[ADMIN], "custody", subject, "retention test")
    if app.runtime.db.engine.dialect.name == "sqlite":
        database = Path(app.runtime.db.engine.url.database)
        stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
        assert stored and not any(vector in stored for vector in vectors)


def test_subject_access_finds_a_person_by_reference_or_photo_across_records(world, samples, sample_paths):
    app, people = world
    app.deployments.plan(people[ADMIN], _plan())
    app.deployments.authorise(people[AUTHORISER], "market", "ok", CONFIRMED)
    _alerts(app, samples, ("yao", None))
    photo = sample_paths["yaoming"].read_bytes()
    app.search.search(people[Role.INVESTIGATOR], SearchRequest("custody", "case 1", None, "RFR", 5), photo)
    auditor = people[Role.AUDITOR]
    by_ref = app.subject_access.report(auditor, AccessRequest("DPO-7", reference="yao"))
    assert [(s["gallery"], s["reference"]) for s in by_ref["subjects"]] == [("custody", "yao")]
    assert [w["deployment"] for w in by_ref["watchlists"]] == ["market"]
    assert len(by_ref["alerts"]) == 1 and by_ref["searches_returning"][0]["rank"] == 1
    # By photo: first the candidates, nothing about their records; then the records of those confirmed.
    with pytest.raises(BadInputError, match="matched first"):
        app.subject_access.report(auditor, AccessRequest("DPO-8"), photo)  # no door can skip the confirmation
    match = app.subject_access.match(auditor, AccessRequest("DPO-8"), photo)
    # 'other' holds Yao Ming's photo mirrored: the same person under another reference, found by the photo.
    assert sorted(c["reference"] for c in match.candidates) == ["other", "yao"]
    assert all(c["score"] >= match.threshold > app.runtime.engine.card.threshold for c in match.candidates)
    assert "watchlists" not in match.as_dict() and "alerts" not in match.as_dict()
    confirmed = AccessRequest("DPO-8", confirmed=("custody/yao",), ticket=match.ticket)
    by_photo = app.subject_access.report(auditor, confirmed)
    assert [s["reference"] for s in by_photo["subjects"]] == ["yao"]  # 'other' was not confirmed: not disclosed
    assert by_photo["watchlists"] == by_ref["watchlists"]
    with pytest.raises(BadInputError, match="not a candidate"):  # only what the photo matched can be confirmed
        app.subject_access.report(auditor, AccessRequest("DPO-8", confirmed=("custody/gdp",), ticket=match.ticket))
    forged = AccessRequest("DPO-8", confirmed=("custody/yao",), ticket=match.ticket[:-6] + "AAAAAA")
    with pytest.raises(BadInputError, match="not a photo match of yours"):  # sealed: it cannot be edited
        app.subject_access.report(auditor, forged)
    nobody = app.subject_access.report(auditor, AccessRequest("DPO-9", reference="someone-else"))
    assert nobody == {"subjects": [], "watchlists": [], "alerts": [], "searches_returning": []}
    with pytest.raises(PermissionDeniedError):
        app.subject_access.report(people[OPERATOR], AccessRequest("x", reference="yao"))
    with pytest.raises(BadInputError, match="reason"):
        app.subject_access.report(auditor, AccessRequest(" ", reference="yao"))
    with app.runtime.db.read() as session:
        events = [e for e in audit.events(session, action="subject-access") if e["action"] == "subject-access"]
        matches = audit.events(session, action="subject-access.match")
    assert [e["reason"] for e in events] == ["DPO-7", "DPO-8", "DPO-9"] and events[1]["details"]["by"] == "photo"
    assert [(e["reason"], e["details"]["candidates"]) for e in matches] == [("DPO-8", 2)]


def test_the_server_purges_on_a_schedule_as_openfr_itself(tmp_path, engine, samples):
    from openfr.services.retention import Housekeeper

    app = make_app(tmp_path / "home", live=LiveSettings(snapshot_retention_hours=0))
    people = staff(app)
    folder, manifest = wanted_gallery(tmp_path / "gallery", samples, engine)
    app.galleries.enrol_folder(
        people[ADMIN], "custody", folder, manifest=manifest, create="test gallery", uses=["rfr", "live"]
    )
    app.deployments.plan(people[ADMIN], _plan())
    app.deployments.authorise(people[AUTHORISER], "market", "ok", CONFIRMED)
    with app.runtime.db.transaction() as session:  # time passes: the window ends, nobody closes it by hand
        ended = datetime.now(UTC) - timedelta(seconds=1)
        session.execute(sa.update(Deployment).where(Deployment.name == "market").values(ends_at=ended))
    keeper = Housekeeper(app.retention, interval_s=0.2).start()
    try:
        deadline = time.monotonic() + 20
        while app.deployments.get(people[ADMIN], "market").snapshot_erased_at is None:
            assert time.monotonic() < deadline, "the scheduled purge did not run"
            time.sleep(0.1)
    finally:
        keeper.stop()
    with app.runtime.db.read() as session:
        trail = [(e["actor"], e["action"]) for e in audit.events(session, resource="deployment:market")]
    assert ("system", "deployment.close") in trail and ("system", "deployment.snapshot-erase") in trail


def test_every_look_at_a_face_or_a_subject_list_is_recorded(world, samples):
    app, people = world
    app.deployments.plan(people[ADMIN], _plan())
    app.deployments.authorise(people[AUTHORISER], "market", "ok", CONFIRMED)
    (alert,) = _alerts(app, samples, ("yao", None))
    assert app.alerts.image(people[OPERATOR], alert, "crop").is_file()
    app.galleries.subjects(people[ADMIN], "custody", q="Yao")
    with app.runtime.db.read() as session:
        views = [(e["actor"], e["details"]) for e in audit.events(session, action="alert.image.view")]
        listed = audit.events(session, action="gallery.view")
    assert views == [("operator", {"image": "crop"})]
    assert listed[-1]["actor"] == "administrator" and "Yao" not in str(listed[-1])  # never the search text
