"""Accounts and roles: argon2id passwords, lockout, TOTP, API tokens, the permission matrix; audit events
for each, without secrets. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from openfr.errors import BadInputError
from openfr.governance import accounts, audit
from openfr.governance.permissions import MATRIX, Permission, Role, allowed, parse_role
from openfr.store import ApiToken, User, open_database

PASSWORD = "correct horse battery"


@pytest.fixture
def db(database_url):
    return open_database(database_url)


def test_passwords_are_argon2id_and_policy_is_enforced(db):
    with db.transaction() as session:
        with pytest.raises(BadInputError, match="at least 12"):
            accounts.create_user(session, "short", "operator", "tooshort", actor="test")
        with pytest.raises(BadInputError, match="unknown role"):
            accounts.create_user(session, "x", "superuser", PASSWORD, actor="test")
        user = accounts.create_user(session, "op1", "operator", PASSWORD, actor="test")
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    with db.transaction() as session:
        assert accounts.authenticate(session, "op1", PASSWORD).role == "operator"


def test_wrong_passwords_lock_the_account_and_every_attempt_is_audited_without_secrets(db):
    with db.transaction() as session:
        accounts.create_user(session, "op2", "operator", PASSWORD, actor="test")
    for attempt in range(accounts.LOCK_AFTER):
        with pytest.raises(accounts.AuthError):
            accounts.login(db, "op2", f"guess number {attempt}")
    with pytest.raises(accounts.AuthError, match="login refused"):
        accounts.login(db, "op2", PASSWORD)  # the right password, but the account is locked
    with db.transaction() as session:
        locked_until = session.scalar(sa.select(User.locked_until).where(User.username == "op2"))
        assert locked_until is not None
        events = audit.events(session, action="login")
        assert audit.verify(session).ok
    assert [e["action"] for e in events].count("login.failed") == accounts.LOCK_AFTER + 1
    assert not any("guess number" in json.dumps(e) or PASSWORD in json.dumps(e) for e in events)


def test_a_second_factor_is_required_once_enabled(db):
    with db.transaction() as session:
        accounts.create_user(session, "inv1", "investigator", PASSWORD, actor="test")
        uri = accounts.enable_totp(session, "inv1", actor="admin")
    secret = pyotp.parse_uri(uri).secret
    with pytest.raises(accounts.AuthError), db.transaction() as session:
        accounts.authenticate(session, "inv1", PASSWORD)
    code = pyotp.TOTP(secret).now()
    with db.transaction() as session:
        assert accounts.authenticate(session, "inv1", PASSWORD, code).username == "inv1"
    # A code is accepted once: someone who saw it (over a shoulder, in a proxy log) cannot reuse it.
    with pytest.raises(accounts.AuthError), db.transaction() as session:
        accounts.authenticate(session, "inv1", PASSWORD, code)
    next_code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))  # the app's next code
    with db.transaction() as session:
        assert accounts.authenticate(session, "inv1", PASSWORD, next_code).username == "inv1"


def test_api_tokens_are_shown_once_stored_as_digests_and_expire(db):
    with db.transaction() as session:
        accounts.create_user(session, "aud1", "auditor", PASSWORD, actor="test")
        token = accounts.issue_token(session, "aud1", "reporting", actor="admin", days=1)
    with db.transaction() as session:
        assert accounts.user_for_token(session, token).username == "aud1"
        assert accounts.user_for_token(session, token + "x") is None
        stored = session.scalars(sa.select(ApiToken)).one()
        assert token not in stored.digest
        stored.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    with db.transaction() as session:
        assert accounts.user_for_token(session, token) is None
        accounts.set_active(session, "aud1", False, actor="admin")
    with pytest.raises(accounts.AuthError), db.transaction() as session:
        accounts.authenticate(session, "aud1", PASSWORD)


def test_the_permission_matrix_separates_duties():
    assert set(MATRIX) == set(Role)
    assert not allowed("administrator", Permission.DEPLOYMENT_AUTHORISE)  # admins do not approve deployments
    assert not allowed("administrator", Permission.SEARCH_RUN)
    assert allowed("authorising-officer", Permission.DEPLOYMENT_AUTHORISE)
    assert not allowed("operator", Permission.DEPLOYMENT_AUTHORISE)
    changing = {p for p in Permission if not p.value.endswith(".read")}
    assert not MATRIX[Role.AUDITOR] & changing  # auditors only read
    assert parse_role("admin") is Role.ADMINISTRATOR


def test_first_administrator_from_the_command_line(tmp_path):
    env = {**os.environ, "OPENFR_HOME": str(tmp_path)}
    cmd = [sys.executable, "-m", "openfr", "user", "create", "alice", "--role", "admin", "--password-stdin", "--json"]
    done = subprocess.run(cmd, input=PASSWORD + "\n", capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"username": "alice", "role": "administrator"}
    again = subprocess.run(cmd, input=PASSWORD + "\n", capture_output=True, text=True, env=env)
    assert again.returncode == 2 and "exists" in again.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "openfr", "user", "list"], capture_output=True, text=True, env=env
    ).stdout
    assert json.loads(listed)["role"] == "administrator" and "argon2" not in listed
