"""Account use cases: sign-in for every door, sign-out, administrators' account management, each user's own
password and second factor, and the creation of the first administrator on an empty store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from openfr.errors import BadInputError, ConflictError, PermissionDeniedError
from openfr.governance import accounts, audit
from openfr.governance.accounts import AuthError, TokenKind, TooManyAttemptsError
from openfr.governance.permissions import Permission, Role
from openfr.governance.ratelimit import LoginGuard
from openfr.runtime import Runtime
from openfr.services.principal import Principal
from openfr.store import User


@dataclass(frozen=True)
class SignIn:
    principal: Principal
    token: str  # shown once to the client; only its digest is stored
    hours: float


def principal_of(user: User) -> Principal:
    return Principal(user.username, Role(user.role), user.id)


def user_row(user: User) -> dict:
    """What may be shown of an account: never a hash, secret or token."""
    return {
        "username": user.username,
        "name": user.display_name,
        "role": user.role,
        "active": user.active,
        "totp": user.totp_secret is not None,
    }


class AccountService:
    API_TOKEN_HOURS = 24.0  # a token from POST /api/login lasts a day

    def __init__(self, runtime: Runtime):
        self.rt = runtime
        # Failed sign-ins per (address, account) and per address, on top of the account lockout.
        self.guard = LoginGuard(per_account=10, per_address=50, window_s=300)

    # -- signing in and out (no principal yet) ------------------------------------------------------------

    def sign_in(
        self, username: str, password: str, totp: str | None, kind: TokenKind, *, address: str | None = None
    ) -> SignIn:
        """Check the password (and code) and open a session of `kind`. A refusal is committed with its
        audit event and failure count, then raised (rolling it back would undo the lockout). `address`: the
        client's, for the sign-in limits (TooManyAttemptsError beyond them)."""
        if address is not None and not self.guard.allow(address, username):
            raise TooManyAttemptsError
        try:
            return self._sign_in(username, password, totp, kind)
        except AuthError:
            if address is not None:
                self.guard.failed(address, username)
            raise

    def _sign_in(self, username: str, password: str, totp: str | None, kind: TokenKind) -> SignIn:
        refused: AuthError | None = None
        with self.rt.db.transaction() as session:
            try:
                user = accounts.authenticate(session, username, password, totp)
            except AuthError as exc:
                audit.record(session, username or "?", "login.failed", f"user:{username}", exc.reason)
                refused = exc
            else:
                hours = self._hours(kind)
                token = accounts.issue_token(session, user, kind, hours=hours, label="api login")
                audit.record(session, user.username, "login", f"user:{user.username}", channel=_channel(kind))
                return SignIn(principal_of(user), token, hours)
        assert refused is not None
        raise refused

    def _hours(self, kind: TokenKind) -> float:
        if kind is TokenKind.WEB:
            return self.rt.settings.web.session_hours
        if kind is TokenKind.CLI:
            return self.rt.settings.cli.session_hours
        return self.API_TOKEN_HOURS

    def principal_for_token(self, token: str, kind: TokenKind) -> Principal | None:
        with self.rt.db.read() as session:
            user = accounts.user_for_token(session, token, kind)
            return principal_of(user) if user is not None else None

    def sign_out(self, token: str, kind: TokenKind) -> None:
        with self.rt.db.transaction() as session:
            user = accounts.revoke_token(session, token, kind)
            if user is not None:
                audit.record(session, user.username, "logout", f"user:{user.username}", channel=_channel(kind))

    # -- the first administrator ---------------------------------------------------------------------------

    def has_accounts(self) -> bool:
        with self.rt.db.read() as session:
            return bool(session.scalar(select(func.count()).select_from(User)))

    def create_first_administrator(self, username: str, password: str, *, by: str, display_name: str = "") -> dict:
        """Only on a store without any account: someone with access to the installation bootstraps it. The
        check and the creation share one transaction, so two first administrators cannot both be made."""
        with self.rt.db.transaction() as session:
            if session.scalar(select(func.count()).select_from(User)):
                raise PermissionDeniedError("accounts exist already: sign in (openfr login) as an administrator")
            user = accounts.create_user(
                session, username, Role.ADMINISTRATOR.value, password, created_by=by, display_name=display_name
            )
            audit.record(session, by, "user.create", f"user:{user.username}", "first administrator", role=user.role)
            return user_row(user)

    # -- administrators ------------------------------------------------------------------------------------

    def list_users(self, principal: Principal) -> list[dict]:
        principal.require(Permission.USERS_MANAGE)
        with self.rt.db.read() as session:
            return [user_row(u) for u in session.scalars(select(User).order_by(User.username))]

    def create_user(
        self, principal: Principal, username: str, role: str, password: str, display_name: str = ""
    ) -> dict:
        principal.require(Permission.USERS_MANAGE)
        try:
            with self.rt.db.transaction() as session:
                user = accounts.create_user(
                    session, username, role, password, created_by=principal.username, display_name=display_name
                )
                audit.record(session, principal.username, "user.create", f"user:{user.username}", role=user.role)
                return user_row(user)
        except IntegrityError:  # the same name created at the same moment elsewhere
            raise BadInputError(f"user '{username.strip()}' exists") from None

    def set_active(self, principal: Principal, username: str, active: bool) -> dict:
        """Disabling an account ends its sessions and tokens at once (they are checked on every request)."""
        principal.require(Permission.USERS_MANAGE)
        if not active and username == principal.username:
            raise ConflictError("you cannot disable your own account")
        with self.rt.db.transaction() as session:
            user = accounts.get_user(session, username)
            user.active = active
            # Revoked, not only refused while disabled: enabling the account again must not revive them.
            ended = accounts.revoke_all(session, user) if not active else 0
            action = "user.enable" if active else "user.disable"
            audit.record(session, principal.username, action, f"user:{username}", sessions_ended=ended)
            return user_row(user)

    def set_password(self, principal: Principal, username: str, password: str) -> None:
        principal.require(Permission.USERS_MANAGE)
        with self.rt.db.transaction() as session:
            user = accounts.get_user(session, username)
            accounts.set_password(user, password)
            ended = accounts.revoke_all(session, user)  # a reset locks out whoever knew the old password
            audit.record(session, principal.username, "user.password", f"user:{username}", sessions_ended=ended)

    def enable_totp(self, principal: Principal, username: str) -> str:
        """Turn on a user's second factor; the otpauth:// URI is returned once, for their app."""
        principal.require(Permission.USERS_MANAGE)
        with self.rt.db.transaction() as session:
            uri = accounts.enable_totp(accounts.get_user(session, username))
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

    # -- each user's own account -----------------------------------------------------------------------

    def me(self, principal: Principal) -> dict:
        with self.rt.db.read() as session:
            return user_row(accounts.get_user(session, principal.username))

    def tokens(self, principal: Principal, username: str) -> list[dict]:
        """A user's API tokens: label, dates, whether revoked (never the token)."""
        principal.require(Permission.USERS_MANAGE)
        with self.rt.db.read() as session:
            return accounts.tokens_of(session, accounts.get_user(session, username))

    def revoke_api_token(self, principal: Principal, username: str, token_id: int, reason: str) -> None:
        """Revoke one API token at once (a leaked or retired integration)."""
        principal.require(Permission.USERS_MANAGE)
        if not (reason or "").strip():
            raise BadInputError("say why the token is revoked (it is recorded)")
        with self.rt.db.transaction() as session:
            accounts.revoke_token_id(session, accounts.get_user(session, username), token_id)
            audit.record(session, principal.username, "token.revoke", f"user:{username}", reason.strip(), id=token_id)

    def change_own_password(self, principal: Principal, current: str, new: str, *, keep: str | None = None) -> None:
        """The current password is required: a session left open is not enough. Every other session and
        token of the account ends (`keep`: the session making the change)."""
        wrong = False
        with self.rt.db.transaction() as session:
            user = accounts.get_user(session, principal.username)
            if not accounts.verify_password(user, current):
                audit.record(
                    session,
                    principal.username,
                    "user.password.failed",
                    f"user:{user.username}",
                    "wrong current password",
                )
                wrong = True
            else:
                accounts.set_password(user, new)
                ended = accounts.revoke_all(session, user, keep=keep)
                audit.record(
                    session, principal.username, "user.password", f"user:{user.username}", sessions_ended=ended
                )
        if wrong:
            raise BadInputError("the current password is wrong")

    def start_totp(self, principal: Principal) -> tuple[str, str]:
        """A fresh secret and its otpauth:// URI for the user's app; stored only by `confirm_totp`."""
        return accounts.new_totp_secret(principal.username)

    def confirm_totp(
        self, principal: Principal, secret: str, code: str, *, password: str, current_code: str | None = None
    ) -> None:
        """Store a new second factor. A session alone is not enough: the password is required, and a code
        from the factor in use if there is one (otherwise whoever found a signed-in screen could take the
        account over for good)."""
        with self.rt.db.transaction() as session:
            user = accounts.get_user(session, principal.username)
            if not accounts.verify_password(user, password):
                raise BadInputError("the password is wrong")
            if user.totp_secret and not accounts.check_current_code(user, current_code or ""):
                raise BadInputError("a code from your current authenticator is needed to replace it")
            accounts.confirm_totp(user, secret, code)
            audit.record(session, principal.username, "user.totp", f"user:{principal.username}")


def _channel(kind: TokenKind) -> str:
    return {TokenKind.API: "api", TokenKind.WEB: "web", TokenKind.CLI: "cli"}[kind]
