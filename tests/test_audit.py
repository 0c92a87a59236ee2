"""The audit trail: actions append hash-chained events; edits, insertions and deletions are detected. Each
test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from actors import PASSWORD, cli_login, make_app, openfr, staff
from gallery_data import build_team_gallery
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.services.searches import SearchRequest
from openfr.store import AuditEvent, open_database


@pytest.fixture(scope="module")
def team(tmp_path_factory, engine, samples, sample_paths):
    return build_team_gallery(tmp_path_factory.mktemp("team"), engine, samples, sample_paths)


@pytest.fixture
def trail(database_url, tmp_path, engine, team, sample_paths):
    """A store in which accounts were made, then an enrolment, a search and a deletion happened."""
    app = make_app(tmp_path, database_url)
    people = staff(app)
    app.galleries.enrol_folder(people[Role.INVESTIGATOR], "custody", team["dir"])
    request = SearchRequest(gallery="custody", reason="burglary enquiry", crime_ref="CR/1")
    app.search.search(people[Role.INVESTIGATOR], request, sample_paths["yaoming"].read_bytes())
    app.galleries.delete_subject(people[Role.ADMINISTRATOR], "custody", team["yao"], "no further action")
    return app.runtime.db


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
    assert actions[0] == ("test set-up", "user.create")  # the first administrator, on an empty store
    assert ("investigator", "enrol") in actions and ("investigator", "search") in actions
    assert actions[-1] == ("administrator", "subject.delete")
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

    env = {"OPENFR_HOME": str(tmp_path), "OPENFR_ENGINE__WORKERS": "1"}
    made = openfr("user", "create", "admin", "--role", "admin", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    cli_login(env, "admin")
    imported = openfr("gallery", "import", "custody", str(team["dir"]), "--json", env=env)
    assert imported.returncode == 0, imported.stderr
    ok = openfr("audit", "verify", "--json", env=env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    listed = [json.loads(line) for line in openfr("audit", "list", "--action", "enrol", env=env).stdout.splitlines()]
    assert listed and all(e["action"] == "enrol" for e in listed)
    db = open_database(f"sqlite:///{tmp_path / 'openfr.db'}")
    _unprotect(db)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_events SET actor = 'someone else' WHERE id = 1")
    db.dispose()
    bad = openfr("audit", "verify", env=env)
    assert bad.returncode == 1 and "event 1: content does not match its hash (edited)" in bad.stderr
