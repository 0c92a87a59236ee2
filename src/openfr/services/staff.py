"""Administrators' management of other accounts, under dual control.

An administrator who could make an authorising officer of their choosing could authorise their own
deployments. So creating, re-enabling or resetting the password of a privileged account (administrator,
authorising officer) leaves it disabled until a second administrator approves, and every password chosen by
someone else is replaced by its owner at first sign-in (`Principal.must_change_password`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from openfr.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from openfr.governance import accounts, audit
from openfr.governance.accounts import TokenKind
from openfr.governance.permissions import PRIVILEGED, Permission, Role, parse_role
from openfr.runtime import Runtime
from openfr.services.accounts import user_row
from openfr.services.principal import Principal
from openfr.store import User


class StaffService:
    def __init__(self, runtime: Runtime):
        self.rt = runtime

    def list_users(self, principal: Principal) -> list[dict]:
        principal.require(Permission.USERS_MANAGE)
        with self.rt.db.read() as session:
            return [user_row(u) for u in session.scalars(select(User).order_by(User.username))]

    def create_user(
        self, principal: Principal, username: str, role: str, password: str, display_name: str = ""
    ) -> dict:
        """A new account, whose owner replaces the password at first sign-in; a privileged one stays
        disabled until a second administrator approves it."""
        principal.require(Permission.USERS_MANAGE)
        privileged = parse_role(role) in PRIVILEGED
        try:
            with self.rt.db.transaction() as session:
                if privileged:
                    _second_administrator_possible(session)
                user = accounts.create_user(
                    session, username, role, password, created_by=principal.username, display_name=display_name
                )
                if privileged:
                    _await_approval(user, principal, "creation")
                audit.record(
                    session,
                    principal.username,
                    "user.create",
                    f"user:{user.username}",
                    role=user.role,
                    awaiting_approval=privileged,
                )
                return user_row(user)
        except IntegrityError:  # the same name created at the same moment elsewhere
            raise BadInputError(f"user '{username.strip()}' exists") from None

    def disable_preview(self, principal: Principal, username: str) -> dict:
        """The account and what disabling it would end (its live API tokens), for the confirmation step:
        refused as the disabling itself would be (no such user, one's own account); changes nothing."""
        principal.require(Permission.USERS_MANAGE)
        if username == principal.username:
            raise ConflictError("you cannot disable your own account")
        with self.rt.db.read() as session:
            user = accounts.get_user(session, username)
            live = sum(1 for token in accounts.tokens_of(session, user) if not token["revoked"])
            return {**user_row(user), "live_tokens": live}

    def set_active(self, principal: Principal, username: str, active: bool, reason: str = "") -> dict:
        """Disabling an account ends its sessions and tokens at once (they are checked on every request) and
        withdraws any approval it awaited; it needs a reason, recorded with the event (a leaver, a suspension,
        a suspected compromise), so the trail says why someone lost access. Enabling a privileged account asks
        a second administrator; a reason for enabling is optional and recorded if given."""
        principal.require(Permission.USERS_MANAGE)
        why = (reason or "").strip()
        if not active and username == principal.username:
            raise ConflictError("you cannot disable your own account")
        if not active and not why:
            raise BadInputError("say why the account is disabled (reason): it is recorded; nothing was changed")
        with self.rt.db.transaction() as session:
            user = accounts.get_user(session, username)
            if active and user.active:
                return user_row(user)
            if active and Role(user.role) in PRIVILEGED:
                _second_administrator_possible(session)
                _await_approval(user, principal, user.approval_for or "re-enabling")
                audit.record(
                    session, principal.username, "user.enable", f"user:{username}", why, awaiting_approval=True
                )
                return user_row(user)
            user.active, user.approval_for, user.approval_requested_by = active, None, None
            # Revoked, not only refused while disabled: enabling the account again must not revive them.
            ended = accounts.revoke_all(session, user) if not active else 0
            action = "user.enable" if active else "user.disable"
            audit.record(session, principal.username, action, f"user:{username}", why, sessions_ended=ended)
            return user_row(user)

    def approve(self, principal: Principal, username: str) -> dict:
        """The second administrator's approval of a privileged account's creation, re-enabling or reset."""
        principal.require(Permission.USERS_MANAGE)
        with self.rt.db.transaction() as session:
            user = accounts.get_user(session, username)
            if user.approval_for is None:
                raise NotFoundError(f"'{username}' awaits no approval")
            if user.approval_requested_by == principal.username:
                raise PermissionDeniedError(
                    "you asked for this: a second administrator must approve it (dual control); nothing was changed"
                )
            audit.record(
                session,
                principal.username,
                "user.approve",
                f"user:{username}",
                user.approval_for,
                requested_by=user.approval_requested_by,
                role=user.role,
            )
            user.active, user.approval_for, user.approval_requested_by = True, None, None
            return user_row(user)

    def set_password(self, principal: Principal, username: str, password: str) -> dict:
        """A reset: the owner must replace the password at next sign-in. Resetting a privileged account
        disables it until a second administrator approves (whoever set it knows the password)."""
        principal.require(Permission.USERS_MANAGE)
        if username == principal.username:
            raise ConflictError("change your own password as yourself (it needs the current one), not as a reset")
        with self.rt.db.transaction() as session:
            user = accounts.get_user(session, username)
            privileged = Role(user.role) in PRIVILEGED
            if privileged:
                _second_administrator_possible(session)
            accounts.set_password(user, password, must_change=True)
            ended = accounts.revoke_all(session, user)  # a reset locks out whoever knew the old password
            if privileged:
                _await_approval(user, principal, "password reset")
            audit.record(
                session,
                principal.username,
                "user.password",
                f"user:{username}",
                sessions_ended=ended,
                awaiting_approval=privileged,
            )
            return user_row(user)

    def enable_totp(self, principal: Principal, username: str) -> str:
        """Turn on a user's second factor; the otpauth:// URI is returned once, for their app."""
        principal.require(Permission.USERS_MANAGE)
        with self.rt.db.transaction() as session:
            uri = accounts.enable_totp(accounts.get_user(session, username), self.rt.secret_box)
            audit.record(session, principal.username, "user.totp", f"user:{username}")
            return uri

    def issue_api_token(self, principal: Principal, username: str, label: str, days: int) -> str:
        principal.require(Permission.USERS_MANAGE)
        if not 1 <= days <= 366:
            raise BadInputError("a token lasts 1 to 366 days")
        with self.rt.db.transaction() as session:
            user = accounts.get_user(session, username)
            token = accounts.issue_token(session, user, TokenKind.API, hours=days * 24, label=label.strip())
            audit.record(session, principal.username, "token.issue", f"user:{username}", name=label, days=days)
            return token

    def tokens(self, principal: Principal, username: str) -> list[dict]:
        """A user's API tokens: label, dates, whether revoked (never the token)."""
        principal.require(Permission.USERS_MANAGE)
        with self.rt.db.read() as session:
            return accounts.tokens_of(session, accounts.get_user(session, username))

    def token(self, principal: Principal, username: str, token_id: int) -> dict:
        """One live API token of the user (never the token itself), for the confirmation of its revoking."""
        principal.require(Permission.USERS_MANAGE)
        with self.rt.db.read() as session:
            rows = accounts.tokens_of(session, accounts.get_user(session, username))
        found = next((row for row in rows if row["id"] == token_id and not row["revoked"]), None)
        if found is None:
            raise NotFoundError(f"'{username}' has no live API token {token_id}")
        return found

    def revoke_api_token(self, principal: Principal, username: str, token_id: int, reason: str) -> None:
        """Revoke one API token at once (a leaked or retired integration)."""
        principal.require(Permission.USERS_MANAGE)
        if not (reason or "").strip():
            raise BadInputError("say why the token is revoked (it is recorded)")
        with self.rt.db.transaction() as session:
            accounts.revoke_token_id(session, accounts.get_user(session, username), token_id)
            audit.record(session, principal.username, "token.revoke", f"user:{username}", reason.strip(), id=token_id)


def _second_administrator_possible(session) -> None:
    if accounts.active_administrators(session) < 2:
        raise ConflictError(
            "a privileged account needs a second administrator's approval and there is none: with installation "
            "access, make the second administrator first (openfr user create NAME --role admin)"
        )


def _await_approval(user: User, principal: Principal, what: str) -> None:
    user.active, user.approval_for, user.approval_requested_by = False, what, principal.username
