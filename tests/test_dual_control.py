"""Issue 14, finding 1 and what closes it: no single administrator can make an authorising officer (or an
administrator) they control, a password someone else chose is replaced before anything else, second-factor
secrets are encrypted at rest, and a console form token belongs to one sign-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from actors import (
    PASSWORD,
    SECOND_ADMIN,
    TEMPORARY,
    console_sign_in,
    make_app,
    openfr,
    sign_in,
    staff,
)
from openfr.errors import ConflictError, PasswordChangeRequiredError, PermissionDeniedError
from openfr.governance import audit
from openfr.governance.credentials import AuthError, TokenKind
from openfr.governance.permissions import Permission, Role
from openfr.governance.secretbox import SecretKeyError
from openfr.services import Application
from openfr.store import User
from openfr.web.app import create_app


@pytest.fixture
def site(tmp_path):
    app = make_app(tmp_path / "home")
    people = staff(app)
    yield app, people
    app.close()


def _row(app: Application, name: str) -> User:
    with app.runtime.db.read() as session:
        return session.scalars(sa.select(User).where(User.username == name)).one()


def test_an_administrator_cannot_make_an_authoriser_to_approve_their_own_plan(site):
    app, people = site
    admin = people[Role.ADMINISTRATOR]
    row = app.staff.create_user(admin, "puppet", "authorising-officer", TEMPORARY, rank="superintendent")
    assert row["awaiting_approval"] == "creation" and row["active"] is False
    with pytest.raises(AuthError):  # disabled until approved: the password the admin chose opens nothing
        app.accounts.sign_in("puppet", TEMPORARY, None, TokenKind.CLI)
    with pytest.raises(PermissionDeniedError, match="second administrator"):
        app.staff.approve(admin, "puppet")  # not by whoever asked
    assert _row(app, "puppet").active is False
    approved = app.staff.approve(sign_in(app, SECOND_ADMIN), "puppet")
    assert approved["active"] is True and approved["awaiting_approval"] is None
    # Approved, but the password is still the administrator's: nothing is allowed until the owner changes it.
    puppet = sign_in(app, "puppet", TEMPORARY)
    assert puppet.must_change_password and not puppet.may(Permission.DEPLOYMENT_AUTHORISE)
    with pytest.raises(PasswordChangeRequiredError):
        app.deployments.authorise(puppet, "any plan at all", "looks fine")  # refused before any lookup
    with app.runtime.db.read() as session:
        approvals = audit.events(session, action="user.approve")
    assert [(e["actor"], e["resource"], e["details"]["requested_by"]) for e in approvals][-1] == (
        SECOND_ADMIN,
        "user:puppet",
        "administrator",
    )


def test_re_enabling_or_resetting_a_privileged_account_waits_for_a_second_administrator(site):
    app, people = site
    admin, second = people[Role.ADMINISTRATOR], sign_in(app, SECOND_ADMIN)
    app.staff.set_active(admin, "authorising_officer", False, "test: re-enabling needs a second administrator")
    waiting = app.staff.set_active(admin, "authorising_officer", True)
    assert waiting["active"] is False and waiting["awaiting_approval"] == "re-enabling"
    with pytest.raises(AuthError):
        app.accounts.sign_in("authorising_officer", PASSWORD, None, TokenKind.CLI)
    app.staff.approve(second, "authorising_officer")
    assert sign_in(app, "authorising_officer").may(Permission.DEPLOYMENT_AUTHORISE)
    # A reset: whoever set the password knows it, so the account waits for the other administrator, and
    # its owner must replace the password at next sign-in.
    reset = app.staff.set_password(admin, "authorising_officer", "chosen by the admin 1")
    assert reset["awaiting_approval"] == "password reset" and reset["must_change_password"]
    app.staff.approve(second, "authorising_officer")
    assert sign_in(app, "authorising_officer", "chosen by the admin 1").must_change_password
    # An operator's reset needs no approval, only the owner's change.
    assert app.staff.set_password(admin, "operator", "chosen by the admin 2")["awaiting_approval"] is None
    with pytest.raises(ConflictError, match="own password"):
        app.staff.set_password(admin, "administrator", "my own new password")


def test_without_a_second_administrator_no_privileged_account_can_be_made(tmp_path):
    app = make_app(tmp_path / "home")
    app.accounts.create_first_administrator("first", PASSWORD, by="test")
    assert _row(app, "first").must_change_password is False  # they chose it themselves
    first = sign_in(app, "first")
    with pytest.raises(ConflictError, match="second administrator"):
        app.staff.create_user(first, "authoriser", "authorising-officer", TEMPORARY, rank="superintendent")
    # The bootstrap, with installation access, makes the second (who must change the password) ...
    made = app.accounts.create_first_administrator("second", TEMPORARY, by="test")
    assert made["must_change_password"] is True
    # ... and then closes: a third administrator needs the usual request and approval.
    with pytest.raises(PermissionDeniedError, match="two administrators are active"):
        app.accounts.create_first_administrator("third", PASSWORD, by="test")
    app.close()


def test_a_new_account_changes_its_password_before_anything_else_at_every_door(site, tmp_path):
    app, people = site
    app.staff.create_user(people[Role.ADMINISTRATOR], "newcomer", "auditor", TEMPORARY)
    web = TestClient(create_app(app), base_url="https://testserver")
    # API: signed in, told so, refused everything but the change, which must pick a new password.
    login = web.post("/api/login", json={"username": "newcomer", "password": TEMPORARY}).json()
    assert login["must_change_password"] is True
    bearer = {"Authorization": f"Bearer {login['token']}"}
    refused = web.get("/api/audit/verify", headers=bearer)
    assert refused.status_code == 403 and "change your password first" in refused.json()["detail"]
    same = web.post("/api/me/password", json={"current": TEMPORARY, "new": TEMPORARY}, headers=bearer)
    assert same.status_code == 400
    changed = web.post("/api/me/password", json={"current": TEMPORARY, "new": PASSWORD}, headers=bearer)
    assert changed.status_code == 200, changed.text
    assert web.get("/api/audit/verify", headers=bearer).status_code == 200
    assert web.get("/api/me", headers=bearer).json()["must_change_password"] is False
    # Console: the sign-in lands on the account page, and other pages refuse until the change.
    app.staff.set_password(people[Role.ADMINISTRATOR], "newcomer", TEMPORARY)
    browser = TestClient(create_app(app), base_url="https://testserver")
    token = console_sign_in(browser, "newcomer", TEMPORARY)
    assert "set by an administrator" in browser.get("/account").text
    assert browser.get("/audit").status_code == 403
    form = {"csrftoken": token, "current": TEMPORARY, "new": PASSWORD}
    assert browser.post("/account/password", data=form).status_code == 200
    assert browser.get("/audit").status_code == 200
    # Command line: `openfr passwd` after `openfr login`.
    app.staff.set_password(people[Role.ADMINISTRATOR], "newcomer", TEMPORARY)
    env = {"OPENFR_HOME": str(app.runtime.home)}
    login = openfr("login", "newcomer", "--password-stdin", env=env, stdin=TEMPORARY + "\n")
    assert login.returncode == 0 and "openfr passwd" in login.stderr
    blocked = openfr("audit", "verify", env=env)
    assert blocked.returncode == 2 and "change your password first" in blocked.stderr
    done = openfr("passwd", "--password-stdin", env=env, stdin=f"{TEMPORARY}\n{PASSWORD}\n")
    assert done.returncode == 0, done.stderr
    assert openfr("audit", "verify", env=env).returncode == 0


def test_second_factor_secrets_are_encrypted_at_rest(site, tmp_path):
    app, people = site
    me = people[Role.OPERATOR]
    secret, _ = app.accounts.start_totp(me)
    app.accounts.confirm_totp(me, secret, pyotp.TOTP(secret).now(), password=PASSWORD)
    stored = _row(app, "operator").totp_secret
    assert stored.startswith("enc1:") and secret not in stored
    code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))  # the app's next code
    assert app.accounts.sign_in("operator", PASSWORD, code, TokenKind.CLI).principal.username == "operator"
    # A secret stored in plain text before encryption existed is sealed when the store is next opened.
    with app.runtime.db.transaction() as session:
        session.execute(sa.update(User).where(User.username == "auditor").values(totp_secret="JBSWY3DPEHPK3PXP"))
    app.close()
    again = make_app(app.runtime.home)
    assert _row(again, "auditor").totp_secret.startswith("enc1:")
    again.close()
    # Another key opens none of them, and says so.
    other = make_app(app.runtime.home, secrets_key="a different key, 32 characters long")
    with pytest.raises(SecretKeyError, match="secrets key"):
        other.accounts.sign_in("operator", PASSWORD, "123456", TokenKind.CLI)
    other.close()


def test_a_console_form_token_belongs_to_one_sign_in(site):
    app, people = site
    web = create_app(app)
    planted = TestClient(web, base_url="https://testserver").get("/login").cookies["csrftoken"]  # signed, valid
    victim = TestClient(web, base_url="https://testserver")
    bound = console_sign_in(victim, "administrator")
    session = victim.cookies["openfr_session"]
    form = {"username": "forged", "role": "auditor", "password": TEMPORARY}
    # The attacker's own token, planted as the cookie and sent in the form: asgi-csrf alone accepted this.
    forged = TestClient(web, base_url="https://testserver").post(
        "/users",
        data={**form, "csrftoken": planted},
        headers={"Cookie": f"openfr_session={session}; csrftoken={planted}"},
    )
    assert forged.status_code == 403 and "another sign-in" in forged.text
    assert "forged" not in [u["username"] for u in app.staff.list_users(people[Role.ADMINISTRATOR])]
    # The session's own token, as its pages carry it, works.
    assert victim.post("/users", data={**form, "csrftoken": bound}).status_code == 201
