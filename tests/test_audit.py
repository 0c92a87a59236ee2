"""The audit trail: actions append hash-chained events; edits, insertions and deletions are detected. Each
test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gallery_data import build_team_gallery
from openfr.gallery import repository
from openfr.gallery.enrol import import_directory
from openfr.gallery.search import GallerySearcher, SearchContext
from openfr.governance import audit
from openfr.settings import EngineSettings, Settings
from openfr.store import AuditEvent, open_database


@pytest.fixture(scope="module")
def team(tmp_path_factory, engine, samples, sample_paths):
    return build_team_gallery(tmp_path_factory.mktemp("team"), engine, samples, sample_paths)


@pytest.fixture
def trail(database_url, tmp_path, engine, team, samples):
    """A store in which an enrolment, a search and a deletion happened."""
    settings = Settings(home=tmp_path, database_url=database_url, engine=EngineSettings(workers=1))
    db = open_database(database_url)
    import_directory(
        db, tmp_path, settings, space=engine.space, gallery_name="custody", directory=team["dir"], created_by="enroller"
    )
    context = SearchContext(actor="investigator", reason="burglary enquiry", crime_ref="CR/1")
    GallerySearcher(db, settings).search("custody", engine.probe(samples["yaoming"]).embedding, context=context)
    repository.delete_subject(db, tmp_path, "custody", team["yao"], actor="admin", reason="no further action")
    return db


def _unprotect(db) -> None:
    """What someone with direct database access could do first: remove the append-only triggers."""
    with db.engine.begin() as connection:
        if db.is_postgres:
            connection.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_delete")


def test_actions_are_recorded_in_an_intact_chain(trail):
    with trail.transaction() as session:
        report = audit.verify(session)
        events = audit.events(session)
    assert report.ok and report.events == len(events) >= 3
    actions = [(e["actor"], e["action"]) for e in events]
    assert actions[0] == ("enroller", "enrol") and ("investigator", "search") in actions
    assert actions[-1] == ("admin", "subject.delete")
    search = next(e for e in events if e["action"] == "search")
    assert search["reason"] == "burglary enquiry" and search["details"]["crime_ref"] == "CR/1"
    assert all(len(str(e["details"])) < 500 for e in events)  # counts and references, never vectors


def test_the_database_refuses_edits_and_deletions(trail):
    for statement in ("UPDATE audit_events SET reason = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), trail.engine.begin() as connection:
            connection.exec_driver_sql(statement)


def test_an_edited_row_is_detected(trail):
    _unprotect(trail)
    with trail.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_events SET reason = 'routine check' WHERE action = 'search'")
    with trail.transaction() as session:
        report = audit.verify(session)
        search_id = session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "search"))
    assert not report.ok and report.problems == [f"event {search_id}: content does not match its hash (edited)"]


def test_a_deleted_row_is_detected(trail):
    _unprotect(trail)
    with trail.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_events WHERE action = 'search'")
    with trail.transaction() as session:
        report = audit.verify(session)
    assert not report.ok and any("missing (deleted)" in p for p in report.problems)


def test_an_inserted_row_is_detected_even_with_a_valid_hash(trail):
    """A forger who knows the algorithm inserts a well-formed event in the middle and renumbers the rest."""
    _unprotect(trail)
    with trail.transaction() as session:
        rows = audit.events(session)
    forged_at = 2
    with trail.engine.begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM audit_events WHERE id >= {forged_at}")
    with trail.transaction() as session:
        prev = rows[forged_at - 2]["hash"]
        at, details = rows[forged_at - 1]["at"], {"note": "forged"}
        session.add(
            AuditEvent(
                id=forged_at,
                at=at,
                actor="nobody",
                action="search",
                resource="gallery:custody",
                reason="",
                details=details,
                prev_hash=prev,
                hash=audit.digest(forged_at, at, "nobody", "search", "gallery:custody", "", details, prev),
            )
        )
        for row in rows[forged_at - 1 :]:
            session.add(AuditEvent(**{**row, "id": row["id"] + 1}))
    with trail.transaction() as session:
        report = audit.verify(session)
    assert not report.ok
    assert any(p.startswith(f"event {forged_at + 1}: does not follow") for p in report.problems)


def test_truncation_is_caught_against_a_head_kept_elsewhere(trail):
    with trail.transaction() as session:
        kept = audit.head(session)
    _unprotect(trail)
    with trail.engine.begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM audit_events WHERE id = {kept['events']}")
    with trail.transaction() as session:
        assert audit.verify(session).ok  # a shorter chain is still a consistent chain...
        report = audit.verify(session, expect_head=kept["hash"])
    assert not report.ok and "not at the expected head" in report.problems[0]  # ...but not the one published


def test_audit_verify_command_exits_1_and_names_the_tampered_event(tmp_path, engine, team):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "OPENFR_HOME": str(tmp_path), "OPENFR_ENGINE__WORKERS": "1"}

    def openfr(*args):
        return subprocess.run([sys.executable, "-m", "openfr", *args], capture_output=True, text=True, env=env)

    assert openfr("gallery", "import", "custody", str(team["dir"]), "--json").returncode == 0
    ok = openfr("audit", "verify", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    listed = [json.loads(line) for line in openfr("audit", "list", "--action", "enrol").stdout.splitlines()]
    assert listed and all(e["action"] == "enrol" for e in listed)
    db = open_database(f"sqlite:///{tmp_path / 'openfr.db'}")
    _unprotect(db)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_events SET actor = 'someone else' WHERE id = 1")
    db.dispose()
    bad = openfr("audit", "verify")
    assert bad.returncode == 1 and "event 1: content does not match its hash (edited)" in bad.stderr
