"""The audit trail's seal at the seams (issue 21): seals removed, the newest events cut together with the
checkpoint file's last lines, a lost or replaced key, a store from before sealing. Each store test runs on
SQLite and on PostgreSQL; each attack passed, or a key was silently made again, on the code before."""

from __future__ import annotations

import json
import re
import socket
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient
from pydantic import SecretStr

from actors import PASSWORD, cli_login, console_sign_in, make_app, openfr, remove_audit_triggers, staff
from openfr.errors import AuditKeyError
from openfr.governance import anchor, audit, events
from openfr.governance.credentials import TokenKind
from openfr.settings import AuditSettings
from openfr.store import AuditEvent, open_database
from openfr.store.db import alembic_config
from openfr.web.app import create_app

RESTORE = "restore keys/audit.key in the data folder (OPENFR_HOME) from your backup"
RESTORE_RE = re.escape(RESTORE)


def _verify(app) -> audit.Verification:
    with app.runtime.db.read() as session:
        return audit.verify(session)


def _start(home: Path, database_url: str, **settings):
    """What every command and the server do first: open the store."""
    return make_app(home, database_url, **settings).runtime.db


def _checkpoint_file(home: Path) -> Path:
    return home / "keys" / "audit-checkpoints.jsonl"


def _rechain(rows: list[dict]) -> list[AuditEvent]:
    """The rows renumbered from 1 with every SHA-256 recomputed and no seal, as a forger without the key would."""
    forged, prev = [], audit.GENESIS
    for position, row in enumerate(rows, 1):
        fields = [row[k] for k in ("at", "actor", "action", "resource", "reason", "details")]
        digest = audit.digest(position, *fields, prev)
        forged.append(AuditEvent(**{**row, "id": position, "prev_hash": prev, "hash": digest, "seal": None}))
        prev = digest
    return forged


def test_seals_removed_and_the_chain_recomputed_fail_naming_the_first_bad_event(database_url, tmp_path):
    """Finding 5a: delete an event, recompute the chain, set every seal to NULL and empty the checkpoint file.
    Before: verify passed (it checked only events whose seal was not NULL). A restart must not launder it."""
    app = make_app(tmp_path, database_url)
    staff(app)
    db = app.runtime.db
    with db.read() as session:
        rows = audit.events(session)
    kept = [r for r in rows if r["id"] != 3]
    remove_audit_triggers(db)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_events")
    with db.transaction() as session:
        session.add_all(_rechain(kept))
    _checkpoint_file(tmp_path).write_text("")
    app.close()
    restarted = make_app(tmp_path, database_url)
    report = _verify(restarted)
    assert not report.ok and report.first_bad == 1
    assert "event 1: its seal does not match (it has none: removed, or rewritten)" in report.problems
    assert any("the checkpoint file was removed or emptied" in p for p in report.problems)
    assert not any("content does not match" in p or "does not follow" in p for p in report.problems)
    with restarted.runtime.db.read() as session:  # the restart did not take the unsealed events as legacy
        assert audit.events(session, action=audit.SEALING_STARTED) == []
    restarted.close()


def test_cutting_the_newest_events_and_checkpoint_lines_is_caught_by_a_file_anchor(database_url, tmp_path):
    """Finding 5a': delete the newest events and the checkpoint file's last lines. Without an anchor that
    passes (the documented limit); a file anchor on another mount still has the lines."""
    witness = tmp_path / "witness"
    witness.mkdir()
    anchored = {"audit": AuditSettings(anchor=f"file:{witness / 'openfr-audit.jsonl'}")}
    home = tmp_path / "home"
    app = make_app(home, database_url, **anchored)
    staff(app)
    lines = _checkpoint_file(home).read_text().splitlines()
    assert (witness / "openfr-audit.jsonl").read_text().splitlines() == lines  # every checkpoint, copied
    newest = json.loads(lines[-1])["position"]
    cut = newest - 3
    remove_audit_triggers(app.runtime.db)
    with app.runtime.db.engine.begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM audit_events WHERE id > {cut}")
    _checkpoint_file(home).write_text("".join(f"{x}\n" for x in lines if json.loads(x)["position"] <= cut))
    app.close()
    plain = make_app(home, database_url)
    assert _verify(plain).ok  # the limit without an anchor: both copies were cut together
    plain.close()
    witnessed = make_app(home, database_url, **anchored)
    report = _verify(witnessed)
    assert not report.ok and report.first_bad == cut + 1
    assert f"the trail ends at event {cut} but a checkpoint (anchor) recorded event {cut + 1}" in report.problems[0]
    witnessed.close()


def _sealed_key(home: Path, database_url: str) -> tuple[Path, bytes]:
    """An installation whose trail its key has sealed: the key's file and what it held."""
    app = make_app(home, database_url)
    staff(app)
    app.close()
    key = home / "keys" / "audit.key"
    return key, key.read_bytes()


def _verifies(home: Path, database_url: str, **settings) -> bool:
    app = make_app(home, database_url, **settings)
    try:
        return _verify(app).ok
    finally:
        app.close()


def test_a_deleted_audit_key_stops_start_up_and_is_not_made_again(database_url, tmp_path):
    """Finding 5b: before, a new key was made silently and the whole earlier trail then failed."""
    key, original = _sealed_key(tmp_path, database_url)
    key.unlink()
    with pytest.raises(AuditKeyError, match=f"audit key is missing.*{RESTORE_RE}.*OPENFR_AUDIT_KEY to the original"):
        _start(tmp_path, database_url)
    with pytest.raises(AuditKeyError):  # the server refuses to start too
        create_app(make_app(tmp_path, database_url))
    assert not key.exists()  # never made again
    key.write_bytes(original)  # restored from the backup: starts, and the trail verifies
    assert _verifies(tmp_path, database_url)


def test_a_replaced_audit_key_stops_start_up(database_url, tmp_path):
    key, original = _sealed_key(tmp_path, database_url)
    key.write_text("f" * 64)
    with pytest.raises(AuditKeyError, match=f"audit key \\(keys/audit.key\\) is not the key that sealed.*{RESTORE_RE}"):
        _start(tmp_path, database_url)
    assert key.read_text() == "f" * 64  # left as found
    other = SecretStr("a different key, 32 characters..")
    with pytest.raises(AuditKeyError, match="audit key \\(OPENFR_AUDIT_KEY\\) is not the key that sealed"):
        _start(tmp_path, database_url, audit_key=other)
    assert _verifies(tmp_path, database_url, audit_key=SecretStr(original.decode()))


def test_the_command_line_refuses_to_start_without_the_key_in_one_line(tmp_path):
    env = {"OPENFR_HOME": str(tmp_path), "OPENFR_ENGINE__WORKERS": "1"}
    made = openfr("user", "create", "admin", "--role", "admin", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    cli_login(env, "admin")
    (tmp_path / "keys" / "audit.key").unlink()
    refused = openfr("audit", "verify", env=env)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert " ".join(refused.stderr.split()).count(RESTORE) == 1
    assert not (tmp_path / "keys" / "audit.key").exists()


def test_verify_names_the_first_bad_event_at_every_door(tmp_path):
    env = {"OPENFR_HOME": str(tmp_path), "OPENFR_ENGINE__WORKERS": "1"}
    app = make_app(tmp_path)
    staff(app)
    app.close()
    cli_login(env, "auditor")
    db = open_database(f"sqlite:///{tmp_path / 'openfr.db'}")
    remove_audit_triggers(db)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_events SET seal = NULL WHERE id IN (4, 6)")
    db.dispose()
    answer = openfr("audit", "verify", "--json", env=env)
    assert answer.returncode == 1 and json.loads(answer.stdout)["first_bad"] == 4
    text = openfr("audit", "verify", env=env)
    assert text.returncode == 1 and "first bad event 4" in " ".join(text.stderr.split())
    app = make_app(tmp_path)
    client = TestClient(create_app(app), base_url="https://testserver")  # Secure cookies
    token = app.accounts.sign_in("auditor", PASSWORD, None, TokenKind.API).token
    api = client.get("/api/audit/verify", headers={"Authorization": f"Bearer {token}"}).json()
    assert api["ok"] is False and api["first_bad"] == 4
    console_sign_in(client, "auditor")
    page = client.get("/audit", params={"verify": "1"}).text
    assert "Chain broken from event 4 (the first bad event)" in page
    app.close()


def _store_from_before_sealing(url: str, events: int) -> list[dict]:
    """A store at migration 0010 (no seal column) holding `events` chained events, as an old version left it."""
    db = open_database(url, migrate=False)
    with db.engine.begin() as connection:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0010")
    table = sa.table(
        "audit_events",
        *(sa.column(c) for c in ("id", "at", "actor", "action", "resource", "reason", "prev_hash", "hash")),
        sa.column("details", sa.JSON),
    )
    rows, prev = [], audit.GENESIS
    for position in range(1, events + 1):
        at, details = f"2026-01-0{position}T00:00:00.000000+00:00", {"n": position}
        digest = audit.digest(position, at, "old", "login", "user:old", "", details, prev)
        rows.append(dict(id=position, at=at, actor="old", action="login", resource="user:old", reason="",
                         details=details, prev_hash=prev, hash=digest))  # fmt: skip
        prev = digest
    with db.engine.begin() as connection:
        connection.execute(table.insert(), rows)
    db.dispose()
    return rows


def test_a_store_from_before_sealing_is_sealed_once_and_stays_strict(database_url, tmp_path):
    """Upgraded from before the seal: one sealing-start event records the older events; afterwards every
    event must carry a valid seal, and removing the seal of that record fails, naming it."""
    _store_from_before_sealing(database_url, 3)
    app = make_app(tmp_path, database_url)
    staff(app)
    with app.runtime.db.read() as session:
        (started,) = audit.events(session, action=audit.SEALING_STARTED)
    assert started["id"] == 4 and started["details"] == {"unsealed_before": 4} and started["actor"] == "system"
    assert _verify(app).ok
    app.close()
    again = make_app(tmp_path, database_url)  # a second start records nothing more
    with again.runtime.db.read() as session:
        assert len(audit.events(session, action=audit.SEALING_STARTED)) == 1
    remove_audit_triggers(again.runtime.db)
    with again.runtime.db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_events SET seal = NULL WHERE id = 4")
    again.close()
    stripped = make_app(tmp_path, database_url)
    report = _verify(stripped)  # the seal removed from the record is named
    assert report.first_bad == 4 and report.problems == [
        "event 4: its seal does not match (it has none: removed, or rewritten)"
    ]
    stripped.close()


def test_an_old_store_with_a_broken_chain_is_not_taken_as_legacy(database_url, tmp_path):
    rows = _store_from_before_sealing(database_url, 3)
    db = open_database(database_url, migrate=False)
    with db.engine.begin() as connection:  # edited while no trigger protected it (0010 has them; be sure)
        if db.is_postgres:
            connection.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        else:
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
        connection.exec_driver_sql("UPDATE audit_events SET actor = 'someone else' WHERE id = 2")
    db.dispose()
    app = make_app(tmp_path, database_url)
    with app.runtime.db.read() as session:
        assert audit.events(session, action=audit.SEALING_STARTED) == []
    report = _verify(app)
    assert not report.ok and report.first_bad == 1 and len(rows) == 3
    assert "event 2: content does not match its hash (edited)" in report.problems
    app.close()


def test_an_earlier_versions_unsealed_prefix_is_recorded_as_legacy(database_url, tmp_path):
    """A store sealed by the previous version: events 1-3 from before the key, 4 on sealed, checkpoints saying
    sealed_from 4. The prefix is recorded once; verify passes."""
    from openfr.governance.seal import AuditSeal, make_key

    _store_from_before_sealing(database_url, 3)
    db = open_database(database_url)  # migrated to the seal column, then sealed as the previous version did
    key, _ = make_key(tmp_path / "keys" / "audit.key")
    db.use_audit_seal(AuditSeal(key, _checkpoint_file(tmp_path)))
    for n in range(2):
        with db.transaction() as session:
            audit.record(session, "previous version", events.Login(channel=f"test-{n}"), "user:x")
    db.dispose()
    assert {json.loads(x)["sealed_from"] for x in _checkpoint_file(tmp_path).read_text().splitlines()} == {4}
    app = make_app(tmp_path, database_url)
    with app.runtime.db.read() as session:
        (started,) = audit.events(session, action=audit.SEALING_STARTED)
    assert started["id"] == 6 and started["details"] == {"unsealed_before": 4}
    assert _verify(app).ok
    app.close()


def test_a_syslog_anchor_gets_one_line_per_checkpoint_without_personal_data(tmp_path, monkeypatch):
    folder = Path(tempfile.mkdtemp(dir="/tmp"))  # a Unix socket path must be short
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(folder / "log"))
    listener.settimeout(30)
    monkeypatch.setattr(anchor, "SYSLOG_SOCKETS", (str(folder / "log"),))
    app = make_app(tmp_path, audit=AuditSettings(anchor="syslog"))
    app.accounts.create_first_administrator("administrator", PASSWORD, by="test set-up")
    message = listener.recv(4096).decode()
    listener.close()
    app.close()
    priority, line = message.rstrip("\x00").split(">", 1)
    assert priority == "<86"  # facility authpriv (10), severity info (6)
    assert line.startswith("openfr-audit: checkpoint {")
    assert line.removeprefix("openfr-audit: checkpoint ") == _checkpoint_file(tmp_path).read_text().splitlines()[0]
    assert "administrator" not in line
    with pytest.raises(ValueError, match="must be 'syslog' or 'file:'"):
        AuditSettings(anchor="file:relative/path")
