"""The audit trail: actions append hash-chained events; edits, insertions and deletions are detected. Each
test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from actors import PASSWORD, cli_login, from_template, make_app, openfr, remove_audit_triggers, staff
from gallery_data import build_team_gallery
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.services import Application
from openfr.services.searches import SearchRequest
from openfr.store import AuditEvent, open_database


@pytest.fixture(scope="module")
def team(tmp_path_factory, engine, samples, sample_paths):
    return build_team_gallery(tmp_path_factory.mktemp("team"), engine, samples, sample_paths)


@pytest.fixture
def trail(database_url, tmp_path, engine, team, sample_paths):
    """A store in which accounts were made, then an enrolment, a search and a deletion happened."""

    def happen(app: Application) -> dict:
        people = staff(app)
        app.galleries.enrol_folder(people[Role.INVESTIGATOR], "custody", team["dir"], create="test gallery")
        request = SearchRequest(gallery="custody", reason="burglary enquiry", crime_ref="CR/1")
        app.search.search(people[Role.INVESTIGATOR], request, sample_paths["yaoming"].read_bytes())
        app.galleries.delete_subject(people[Role.ADMINISTRATOR], "custody", team["yao"], "no further action")
        return people

    app = make_app(tmp_path, database_url)
    if from_template(app, "audit trail", happen) is None:  # the same store, copied: built once per process
        happen(app)
    return app.runtime.db


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
    remove_audit_triggers(trail)
    with trail.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_events SET reason = 'routine check' WHERE action = 'search'")
    with trail.transaction() as session:
        report = audit.verify(session)
        search_id = session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "search"))
    assert not report.ok and report.problems == [f"event {search_id}: content does not match its hash (edited)"]


def test_a_deleted_row_is_detected(trail):
    remove_audit_triggers(trail)
    with trail.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_events WHERE action = 'search'")
    with trail.transaction() as session:
        report = audit.verify(session)
    assert not report.ok and any("missing (deleted)" in p for p in report.problems)


def test_an_inserted_row_is_detected_even_with_a_valid_hash(trail):
    """A forger who knows the algorithm inserts a well-formed event in the middle and renumbers the rest."""
    remove_audit_triggers(trail)
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


def test_deleting_the_newest_events_or_emptying_the_table_is_caught_without_a_kept_head(trail):
    with trail.transaction() as session:
        kept = audit.head(session)
    remove_audit_triggers(trail)
    with trail.engine.begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM audit_events WHERE id > {kept['events'] - 5}")
    with trail.transaction() as session:
        report = audit.verify(session)  # a shorter chain is consistent, but the checkpoints remember more
        assert not report.ok and "deleted from the end" in report.problems[0]
        assert "not at the expected head" in audit.verify(session, expect_head=kept["hash"]).problems[-1]
    with trail.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_events")
    with trail.transaction() as session:
        report = audit.verify(session)
    assert not report.ok and report.events == 0 and "table emptied" in report.problems[0]


def test_a_chain_rewritten_without_the_key_is_caught(trail):
    """Someone with database access deletes an event and recomputes every later SHA-256: the chain is
    consistent again, but they cannot seal it."""
    remove_audit_triggers(trail)
    with trail.transaction() as session:
        rows = audit.events(session)
    victim = next(r for r in rows if r["action"] == "search")
    with trail.engine.begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM audit_events WHERE id >= {victim['id']}")
    with trail.transaction() as session:
        prev = rows[victim["id"] - 2]["hash"]
        for position, row in enumerate(rows[victim["id"] :], victim["id"]):
            fields = [row[k] for k in ("at", "actor", "action", "resource", "reason", "details")]
            forged = audit.digest(position, *fields, prev)
            session.add(AuditEvent(**{**row, "id": position, "prev_hash": prev, "hash": forged, "seal": None}))
            prev = forged
    with trail.transaction() as session:
        report = audit.verify(session)
    assert not report.ok
    assert any("seal does not match" in p for p in report.problems)
    assert not any("content does not match" in p or "does not follow" in p for p in report.problems)


def test_an_altered_checkpoint_is_caught(trail, tmp_path):
    with trail.transaction() as session:
        checkpoints = session.info["audit_seal"].checkpoint_file
    lines = checkpoints.read_text().splitlines()
    lines[-1] = lines[-1].replace('"position":', '"position":1000')
    checkpoints.write_text("\n".join(lines) + "\n")
    with trail.transaction() as session:
        report = audit.verify(session)
    assert not report.ok and report.problems[0].startswith(f"checkpoint line {len(lines)}: not sealed")


def test_the_key_and_checkpoints_are_the_owners_alone(trail):
    with trail.transaction() as session:
        checkpoints = session.info["audit_seal"].checkpoint_file
    keys = checkpoints.parent
    assert keys.stat().st_mode & 0o777 == 0o700
    for name in ("audit.key", checkpoints.name):
        assert (keys / name).stat().st_mode & 0o777 == 0o600


def test_audit_verify_command_exits_1_and_names_the_tampered_event(tmp_path, engine, team):
    import json

    env = {"OPENFR_HOME": str(tmp_path), "OPENFR_ENGINE__WORKERS": "1"}
    made = openfr("user", "create", "admin", "--role", "admin", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    cli_login(env, "admin")
    new = ("--create", "--purpose", "test")
    imported = openfr("gallery", "import", "custody", str(team["dir"]), *new, "--json", env=env)
    assert imported.returncode == 0, imported.stderr
    ok = openfr("audit", "verify", "--json", env=env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    listed = [json.loads(line) for line in openfr("audit", "list", "--action", "enrol", env=env).stdout.splitlines()]
    assert listed and all(e["action"] == "enrol" for e in listed)
    db = open_database(f"sqlite:///{tmp_path / 'openfr.db'}")
    remove_audit_triggers(db)
    with db.engine.begin() as connection:
        actor = connection.exec_driver_sql("SELECT actor FROM audit_events WHERE id = 1").scalar()
        connection.exec_driver_sql("UPDATE audit_events SET actor = 'someone else' WHERE id = 1")
    db.dispose()
    bad = openfr("audit", "verify", env=env)
    assert bad.returncode == 1 and "event 1: content does not match its hash (edited)" in bad.stderr
    db = open_database(f"sqlite:///{tmp_path / 'openfr.db'}")
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_events SET actor = ? WHERE id = 1", (actor,))  # put back
        connection.exec_driver_sql("DELETE FROM audit_events WHERE id > 1")  # then lose the newest events
    db.dispose()
    cut = openfr("audit", "verify", env=env)  # no --expect-head: the checkpoints outside the database suffice
    assert cut.returncode == 1 and "deleted from the end" in " ".join(cut.stderr.split())
