"""Administrators' management of other accounts, under dual control.

An administrator who could make an authorising officer of their choosing could authorise their own
deployments. So creating, re-enabling or resetting the password of a privileged account (administrator,
authorising officer) leaves it disabled until a second administrator approves, and every password chosen by
someone else is replaced by its owner at first sign-in (`Principal.must_change_password`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from openfr.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError, SafeguardMissingError
from openfr.governance import audit, credentials, events
from openfr.governance.permissions import PRIVILEGED, Permission, Role, parse_role
from openfr.governance.ranks import RANKS, parse_rank
from openfr.governance.secretbox import SecretBox
from openfr.services.accounts import user_row
from openfr.services.principal import Principal
from openfr.services.refusals import UseCases, service
from openfr.store import User


@service
class StaffService(UseCases):
    use_case_prefix = "staff"  # refusals name their use case "staff.<method>"

    secret_box: Callable[[], SecretBox]

    def list_users(self, principal: Principal) -> list[dict]:
        principal.require(Permission.USERS_MANAGE)
        with self.db().read() as session:
            return [user_row(u) for u in session.scalars(select(User).order_by(User.username))]

    def create_user(
        self,
        principal: Principal,
        username: str,
        role: str,
        password: str,
        display_name: str = "",
        rank: str | None = None,
    ) -> dict:
        """A new account, whose owner replaces the password at first sign-in; a privileged one stays
        disabled until a second administrator approves it. An authorising officer's rank is required: it is
        what their authority rests on, recorded with each authorisation."""
        principal.require(Permission.USERS_MANAGE)
        parsed = parse_role(role)
        privileged = parsed in PRIVILEGED
        chosen_rank = parse_rank(rank) if (rank or "").strip() else None
        if parsed is Role.AUTHORISING_OFFICER and chosen_rank is None:
            raise BadInputError(f"an authorising officer's rank is required (one of: {', '.join(RANKS)})")
        try:
            with self.db().transaction() as session:
                if privileged:
                    _second_administrator_possible(session)
                user = credentials.create_user(
                    session, username, role, password, created_by=principal.username, display_name=display_name
                )
                user.rank = chosen_rank
                if privileged:
                    _await_approval(user, principal, "creation")
                audit.record(
                    session,
                    principal.username,
                    events.UserCreate(role=user.role, rank=chosen_rank, awaiting_approval=privileged),
                    f"user:{user.username}",
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
        with self.db().read() as session:
            user = credentials.get_user(session, username)
            live = sum(1 for token in credentials.tokens_of(session, user) if not token["revoked"])
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
            raise SafeguardMissingError("say why the account is disabled (reason): it is recorded; nothing was changed")
        with self.db().transaction() as session:
            user = credentials.get_user(session, username)
            if active and user.active:
                return user_row(user)
            if active and Role(user.role) in PRIVILEGED:
                _second_administrator_possible(session)
                _await_approval(user, principal, user.approval_for or "re-enabling")
                audit.record(
                    session, principal.username, events.UserEnable(awaiting_approval=True), f"user:{username}", why
                )
                return user_row(user)
            user.active, user.approval_for, user.approval_requested_by, user.approval_requesters = (
                active,
                None,
                None,
                [],
            )
            # Revoked, not only refused while disabled: enabling the account again must not revive them.
            ended = credentials.revoke_all(session, user) if not active else 0
            change = events.UserEnable(sessions_ended=ended) if active else events.UserDisable(sessions_ended=ended)
            audit.record(session, principal.username, change, f"user:{username}", why)
            return user_row(user)

    def approve(self, principal: Principal, username: str) -> dict:
        """The second administrator's approval of a privileged account's creation, re-enabling or reset."""
        principal.require(Permission.USERS_MANAGE)
        with self.db().transaction() as session:
            user = credentials.get_user(session, username)
            if user.approval_for is None:
                raise NotFoundError(f"'{username}' awaits no approval")
            if principal.username in _requesters(user) or principal.username == user.username:
                raise PermissionDeniedError(
                    "you asked for this (or it is your own account): a second administrator, one who did not ask, "
                    "must approve it (dual control); nothing was changed"
                )
            audit.record(
                session,
                principal.username,
                events.UserApprove(
                    requested_by=user.approval_requested_by, requesters=_requesters(user), role=user.role
                ),
                f"user:{username}",
                user.approval_for,
            )
            user.active, user.approval_for, user.approval_requested_by, user.approval_requesters = True, None, None, []
            return user_row(user)

    def set_password(self, principal: Principal, username: str, password: str) -> dict:
        """A reset: the owner must replace the password at next sign-in. Resetting a privileged account
        disables it until a second administrator approves (whoever set it knows the password)."""
        principal.require(Permission.USERS_MANAGE)
        if username == principal.username:
            raise ConflictError("change your own password as yourself (it needs the current one), not as a reset")
        with self.db().transaction() as session:
            user = credentials.get_user(session, username)
            privileged = Role(user.role) in PRIVILEGED
            if privileged:
                _second_administrator_possible(session)
            credentials.set_password(user, password, must_change=True)
            ended = credentials.revoke_all(session, user)  # a reset locks out whoever knew the old password
            if privileged:
                _await_approval(user, principal, "password reset")
            audit.record(
                session,
                principal.username,
                events.UserPassword(sessions_ended=ended, awaiting_approval=privileged),
                f"user:{username}",
            )
            return user_row(user)

    def set_rank(self, principal: Principal, username: str, rank: str) -> dict:
        """Record an account's rank. For a privileged account (an authorising officer's rank is what lets
        them authorise) the change waits, disabled, for a second administrator's approval."""
        principal.require(Permission.USERS_MANAGE)
        chosen = parse_rank(rank)
        if username == principal.username:
            raise ConflictError("another administrator records your rank, not you")
        with self.db().transaction() as session:
            user = credentials.get_user(session, username)
            if user.rank == chosen:
                return user_row(user)
            privileged = Role(user.role) in PRIVILEGED
            if privileged:
                _second_administrator_possible(session)
                _await_approval(user, principal, "rank change")
            before, user.rank = user.rank, chosen
            audit.record(
                session,
                principal.username,
                events.UserRank(rank=chosen, previous=before, awaiting_approval=privileged),
                f"user:{username}",
            )
            return user_row(user)

    def enable_totp(self, principal: Principal, username: str) -> str:
        """Turn on a user's second factor; the otpauth:// URI is returned once, for their app."""
        principal.require(Permission.USERS_MANAGE)
        with self.db().transaction() as session:
            uri = credentials.enable_totp(credentials.get_user(session, username), self.secret_box())
            audit.record(session, principal.username, events.UserTotp(), f"user:{username}")
            return uri

    def tokens(self, principal: Principal, username: str) -> list[dict]:
        """A user's API tokens: label, dates, whether revoked (never the token)."""
        principal.require(Permission.USERS_MANAGE)
        with self.db().read() as session:
            return credentials.tokens_of(session, credentials.get_user(session, username))

    def token(self, principal: Principal, username: str, token_id: int) -> dict:
        """One live API token of the user (never the token itself), for the confirmation of its revoking."""
        principal.require(Permission.USERS_MANAGE)
        with self.db().read() as session:
            rows = credentials.tokens_of(session, credentials.get_user(session, username))
        found = next((row for row in rows if row["id"] == token_id and not row["revoked"]), None)
        if found is None:
            raise NotFoundError(f"'{username}' has no live API token {token_id}")
        return found

    def revoke_api_token(self, principal: Principal, username: str, token_id: int, reason: str) -> None:
        """Revoke one API token at once (a leaked or retired integration)."""
        principal.require(Permission.USERS_MANAGE)
        if not (reason or "").strip():
            raise SafeguardMissingError("say why the token is revoked (it is recorded)")
        with self.db().transaction() as session:
            credentials.revoke_token_id(session, credentials.get_user(session, username), token_id)
            audit.record(
                session, principal.username, events.TokenRevoke(id=token_id), f"user:{username}", reason.strip()
            )


def _second_administrator_possible(session) -> None:
    if credentials.active_administrators(session) < 2:
        raise ConflictError(
            "a privileged account needs a second administrator's approval and there is none: with installation "
            "access, make the second administrator first (openfr user create NAME --role admin)"
        )


def _requesters(user: User) -> list[str]:
    """Every administrator who asked for the pending change (the original requester first)."""
    listed = list(user.approval_requesters or [])
    if user.approval_requested_by and user.approval_requested_by not in listed:
        listed.insert(0, user.approval_requested_by)
    return listed


def _await_approval(user: User, principal: Principal, what: str) -> None:
    """Leave the account disabled until approved. A request belongs to whoever made it for life: asking again
    (another administrator's "enable" of a pending account, a second reset) adds the new requester to those
    who may not approve it; it never hands the request over, so its first author can never approve it."""
    pending = user.approval_for is not None
    requesters = _requesters(user) if pending else []
    if principal.username not in requesters:
        requesters.append(principal.username)
    user.active, user.approval_requesters = False, requesters  # a new list: the JSON column sees the change
    if not pending:
        user.approval_for, user.approval_requested_by = what, principal.username
