"""Accounts and roles: argon2id passwords, lockout, TOTP, tokens kept apart by kind, the permission matrix,
the first administrator and the command line's own sign-in; audit events for each, without secrets. Runs on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from actors import PASSWORD, TEMPORARY, add_user, make_app, openfr, sign_in, staff
from openfr.errors import BadInputError, ConflictError, PermissionDeniedError
from openfr.governance import audit, credentials
from openfr.governance.credentials import AuthError, SecondFactorRequiredError, TokenKind
from openfr.governance.permissions import MATRIX, Permission, Role, allowed, parse_role
from openfr.store import ApiToken, User


@pytest.fixture
def app(database_url, tmp_path):
    application = make_app(tmp_path, database_url)
    application.people = staff(application)
    return application


def _admin(app):
    return app.people[Role.ADMINISTRATOR]


def test_passwords_are_argon2id_and_policy_is_enforced(app):
    with pytest.raises(BadInputError, match="at least 12"):
        app.staff.create_user(_admin(app), "short", "operator", "tooshort")
    with pytest.raises(BadInputError, match="unknown role"):
        app.staff.create_user(_admin(app), "x", "superuser", PASSWORD)
    with pytest.raises(PermissionDeniedError, match=r"may not users\.manage"):
        app.staff.create_user(app.people[Role.OPERATOR], "op9", "administrator", PASSWORD)
    add_user(app, _admin(app), "op1", "operator")
    with app.runtime.db.read() as session:
        stored = session.scalar(sa.select(User.password_hash).where(User.username == "op1"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert sign_in(app, "op1").role is Role.OPERATOR


def test_wrong_passwords_lock_the_account_and_every_attempt_is_audited_without_secrets(app):
    add_user(app, _admin(app), "op2", "operator")
    for attempt in range(credentials.LOCK_AFTER):
        with pytest.raises(AuthError):
            app.accounts.sign_in("op2", f"guess number {attempt}", None, TokenKind.API)
    with pytest.raises(AuthError, match="login refused"):
        app.accounts.sign_in("op2", PASSWORD, None, TokenKind.API)  # the right password, but the account is locked
    with app.runtime.db.read() as session:
        assert session.scalar(sa.select(User.locked_until).where(User.username == "op2")) is not None
        events = audit.events(session, action="login", actor="op2")
        assert audit.verify(session).ok
    assert [e["action"] for e in events].count("login.failed") == credentials.LOCK_AFTER + 1
    assert not any("guess number" in json.dumps(e) or PASSWORD in json.dumps(e) for e in events)


def test_a_second_factor_is_required_once_enabled(app):
    add_user(app, _admin(app), "inv1", "investigator")
    secret = pyotp.parse_uri(app.staff.enable_totp(_admin(app), "inv1")).secret
    with pytest.raises(SecondFactorRequiredError):
        app.accounts.sign_in("inv1", PASSWORD, None, TokenKind.CLI)
    with pytest.raises(AuthError):
        app.accounts.sign_in("inv1", PASSWORD, "000000", TokenKind.CLI)
    code = pyotp.TOTP(secret).now()
    assert app.accounts.sign_in("inv1", PASSWORD, code, TokenKind.CLI).principal.username == "inv1"
    # A code is accepted once: someone who saw it (over a shoulder, in a proxy log) cannot reuse it.
    with pytest.raises(AuthError):
        app.accounts.sign_in("inv1", PASSWORD, code, TokenKind.CLI)
    next_code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))  # the app's next code
    assert app.accounts.sign_in("inv1", PASSWORD, next_code, TokenKind.CLI).principal.username == "inv1"


def test_tokens_are_shown_once_stored_as_digests_kept_apart_by_kind_and_expire(app):
    token = app.accounts.issue_own_token(sign_in(app, "auditor"), "reporting", "read", 1, password=PASSWORD)["token"]
    assert app.accounts.principal_for_token(token, TokenKind.API).username == "auditor"
    assert app.accounts.principal_for_token(token + "x", TokenKind.API) is None
    for other in (TokenKind.WEB, TokenKind.CLI):  # an API token opens no console or command-line session
        assert app.accounts.principal_for_token(token, other) is None
    cli = app.accounts.sign_in("auditor", PASSWORD, None, TokenKind.CLI).token
    assert app.accounts.principal_for_token(cli, TokenKind.API) is None
    with app.runtime.db.transaction() as session:
        stored = session.scalars(sa.select(ApiToken).where(ApiToken.name == "reporting")).one()
        assert token not in stored.digest
        stored.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert app.accounts.principal_for_token(token, TokenKind.API) is None
    with pytest.raises(ConflictError, match="your own account"):
        app.staff.set_active(_admin(app), "administrator", False, "test")
    app.staff.set_active(_admin(app), "auditor", False, "test: disabling ends every session")
    assert app.accounts.principal_for_token(cli, TokenKind.CLI) is None  # disabling ends every session at once
    with pytest.raises(AuthError):
        app.accounts.sign_in("auditor", PASSWORD, None, TokenKind.API)


def test_the_permission_matrix_separates_duties():
    assert set(MATRIX) == set(Role)
    assert not allowed("administrator", Permission.DEPLOYMENT_AUTHORISE)  # admins do not approve deployments
    assert not allowed("administrator", Permission.SEARCH_RFR)
    assert allowed("authorising-officer", Permission.DEPLOYMENT_AUTHORISE)
    assert not allowed("operator", Permission.DEPLOYMENT_AUTHORISE)
    changing = {p for p in Permission if not p.value.endswith(".read")}
    assert not MATRIX[Role.AUDITOR] & changing  # auditors only read
    assert parse_role("admin") is Role.ADMINISTRATOR


def test_first_administrator_then_the_command_line_signs_in(tmp_path):
    env = {"OPENFR_HOME": str(tmp_path)}
    create = ["user", "create", "alice", "--role", "admin", "--password-stdin", "--json"]
    refused = openfr("user", "create", "bob", "--role", "operator", "--password-stdin", env=env, stdin=PASSWORD)
    assert refused.returncode == 2 and "first account must be an administrator" in refused.stderr
    done = openfr(*create, env=env, stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["role"] == "administrator"
    # The second administrator comes by the bootstrap too (nobody could approve it) and must change the
    # password at first sign-in; with two active, a third needs one signed in (and the other's approval).
    second = openfr("user", "create", "bob", "--role", "admin", "--password-stdin", "--json", env=env, stdin=TEMPORARY)
    assert second.returncode == 0 and json.loads(second.stdout)["must_change_password"] is True, second.stderr
    again = openfr("user", "create", "mallory", "--role", "admin", "--password-stdin", env=env, stdin=PASSWORD)
    assert again.returncode == 2 and "not signed in" in again.stderr
    assert openfr("user", "list", env=env).returncode == 2
    wrong = openfr("login", "alice", "--password-stdin", env=env, stdin="not the password\n")
    assert wrong.returncode == 2 and "login refused" in wrong.stderr
    assert openfr("login", "alice", "--password-stdin", env=env, stdin=PASSWORD + "\n").returncode == 0
    session_file = tmp_path / "cli" / "session.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    listed = openfr("user", "list", env=env).stdout
    rows = [json.loads(line) for line in listed.splitlines()]
    assert [r["role"] for r in rows] == ["administrator"] * 2 and "argon2" not in listed
    assert openfr("logout", env=env).returncode == 0 and not session_file.exists()
    assert openfr("user", "list", env=env).returncode == 2
    app = make_app(tmp_path)
    with app.runtime.db.read() as session:
        trail = [(e["actor"], e["action"]) for e in audit.events(session)]
    assert trail[0][1] == "user.create" and trail[0][0].startswith("installation (os user")
    assert ("alice", "login") in trail and ("alice", "logout") in trail and ("alice", "login.failed") in trail
