"""Account use cases for everyone: sign-in for every door, sign-out, each user's own password and second
factor, and the bootstrap of the first two administrators (administrators' management of other accounts,
under dual control, is in `services/staff.py`).

The bootstrap is the one moment a single person holds both keys: with installation access, while fewer than
two administrators are active (a new installation, or every other administrator gone),
`create_first_administrator` makes one directly, recorded as such in the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from openfr.errors import BadInputError, PermissionDeniedError, SafeguardMissingError
from openfr.governance import audit, credentials, events
from openfr.governance.credentials import AuthError, TokenKind, TooManyAttemptsError
from openfr.governance.permissions import Role
from openfr.governance.ratelimit import LoginThrottle, TooSoon, Turn
from openfr.governance.scopes import MAX_TOKEN_DAYS, Scope, catalogue, granted, parse_scope, useful
from openfr.governance.secretbox import SecretBox
from openfr.services.principal import Principal
from openfr.services.refusals import UseCases, service
from openfr.settings import Settings
from openfr.store import User


@dataclass(frozen=True)
class SignIn:
    principal: Principal
    token: str  # shown once to the client; only its digest is stored
    hours: float


def principal_of(user: User, scope: str | None = None) -> Principal:
    """The acting principal of `user`; with a token's `scope`, restricted to it (within the role)."""
    role = Role(user.role)
    permissions = granted(role, Scope(scope)) if scope else None
    return Principal(
        user.username, role, user.id, must_change_password=user.must_change_password, scope=permissions,
        scope_name=scope,
    )  # fmt: skip


def user_row(user: User) -> dict:
    """What may be shown of an account: never a hash, secret or token."""
    return {
        "username": user.username,
        "name": user.display_name,
        "role": user.role,
        "active": user.active,
        "totp": user.totp_secret is not None,
        "must_change_password": user.must_change_password,
        # Dual control: who asked for this privileged account to be activated, and why it waits.
        "awaiting_approval": user.approval_for,
        "requested_by": user.approval_requested_by,
        "requesters": list(user.approval_requesters or []),
        "rank": user.rank,
    }


@service
class AccountService(UseCases):
    use_case_prefix = "accounts"  # refusals name their use case "accounts.<method>"

    API_TOKEN_HOURS = 24.0  # a token from POST /api/login lasts a day

    settings: Settings
    secret_box: Callable[[], SecretBox]
    # Failed sign-ins slow their address down (per account, and for any), on top of the account lockout.
    throttle: LoginThrottle = field(init=False, default_factory=LoginThrottle)

    # -- signing in and out (no principal yet) ------------------------------------------------------------

    def sign_in(
        self,
        username: str,
        password: str,
        totp: str | None,
        kind: TokenKind,
        *,
        address: str | None = None,
        turn: Turn | None = None,
    ) -> SignIn:
        """Check the password (and code) and open a session of `kind`. A refusal is committed with its
        audit event and failure count, then raised (rolling it back would undo the lockout). `address`: the
        client's, whose failures slow it down (governance/ratelimit.py): an attempt that did not wait its
        turn (`wait_turn`, whose `turn` it then carries) is refused with TooManyAttemptsError and Retry-After."""
        if address is not None:
            try:
                self.throttle.check(address, username, turn)
            except TooSoon as soon:
                raise TooManyAttemptsError(soon.retry_after) from None
        try:
            return self._sign_in(username, password, totp, kind)
        except AuthError:
            if address is not None:
                self.throttle.failed(address, username)
            raise

    async def wait_turn(self, address: str, username: str) -> Turn:
        """What a web door awaits before `sign_in`: the wait that earlier failures from `address` impose, slept
        without holding a thread (TooManyAttemptsError when that address already has too many waiting); the
        turn it returns goes with the sign-in."""
        try:
            return await self.throttle.wait(address, username)
        except TooSoon as soon:
            raise TooManyAttemptsError(soon.retry_after) from None

    def _sign_in(self, username: str, password: str, totp: str | None, kind: TokenKind) -> SignIn:
        refused: AuthError | None = None
        # The argon2 work first, outside any transaction: the write transaction below then holds the database's
        # write lock only for a few rows, and a camera storing an alert never waits behind a hash (on SQLite
        # a low-priority sign-in holding the lock through its hash stalled the cameras: benchmarks/faults.py).
        with self.db().read() as session:
            stored = credentials.stored_hash(session, username)
        checked = credentials.check_password(stored, password)
        with self.db().transaction() as session:
            try:
                user = credentials.authenticate(
                    session, username, password, totp, box=self.secret_box(), checked=checked
                )
            except AuthError as exc:
                audit.record(session, username or "?", events.LoginFailed(), f"user:{username}", exc.reason)
                refused = exc
            else:
                hours = self._hours(kind)
                token = credentials.issue_token(session, user, kind, hours=hours, label="api login")
                audit.record(session, user.username, events.Login(channel=_channel(kind)), f"user:{user.username}")
                return SignIn(principal_of(user), token, hours)
        assert refused is not None
        raise refused

    def _hours(self, kind: TokenKind) -> float:
        if kind is TokenKind.WEB:
            return self.settings.web.session_hours
        if kind is TokenKind.CLI:
            return self.settings.cli.session_hours
        return self.API_TOKEN_HOURS

    def principal_for_token(self, token: str, kind: TokenKind) -> Principal | None:
        with self.db().read() as session:
            grant = credentials.token_grant(session, token, kind)
            return principal_of(grant[0], grant[1].scope) if grant is not None else None

    def sign_out(self, token: str, kind: TokenKind) -> None:
        with self.db().transaction() as session:
            user = credentials.revoke_token(session, token, kind)
            if user is not None:
                audit.record(session, user.username, events.Logout(channel=_channel(kind)), f"user:{user.username}")

    # -- the bootstrap (installation access, no principal) -----------------------------------------------

    def has_accounts(self) -> bool:
        with self.db().read() as session:
            return bool(session.scalar(select(func.count()).select_from(User)))

    def bootstrap_open(self) -> bool:
        """Fewer than two active administrators: nobody could give a second approval."""
        with self.db().read() as session:
            return credentials.active_administrators(session) < 2

    def create_first_administrator(self, username: str, password: str, *, by: str, display_name: str = "") -> dict:
        """With installation access, while fewer than two administrators are active: the first (who chose
        their own password) and the second (who must change theirs at first sign-in). The check and the
        creation share one transaction, so two callers cannot both slip under the limit."""
        with self.db().transaction() as session:
            count = credentials.active_administrators(session)
            if count >= 2:
                raise PermissionDeniedError(
                    "two administrators are active: sign in as one (openfr login); a second approves new ones"
                )
            first = not session.scalar(select(func.count()).select_from(User))
            user = credentials.create_user(
                session,
                username,
                Role.ADMINISTRATOR.value,
                password,
                created_by=by,
                display_name=display_name,
                must_change=not first,
            )
            why = "first administrator" if first else f"bootstrap: {count} active administrator(s), none to approve"
            audit.record(session, by, events.UserCreate(role=user.role), f"user:{user.username}", why)
            return user_row(user)

    # -- each user's own account -----------------------------------------------------------------------

    def me(self, principal: Principal) -> dict:
        with self.db().read() as session:
            return user_row(credentials.get_user(session, principal.username))

    def change_own_password(self, principal: Principal, current: str, new: str, *, keep: str | None = None) -> None:
        """The current password is required: a session left open is not enough. Every other session and
        token of the account ends (`keep`: the session making the change). This is also how a password an
        administrator set is replaced at first sign-in, so the new one must differ from it."""
        if new == current:
            raise BadInputError("choose a new password, not the current one")
        wrong = False
        with self.db().transaction() as session:
            user = credentials.get_user(session, principal.username)
            if not credentials.verify_password(user, current):
                audit.record(
                    session,
                    principal.username,
                    events.UserPasswordFailed(),
                    f"user:{user.username}",
                    "wrong current password",
                )
                wrong = True
            else:
                was_set_for_them = user.must_change_password
                credentials.set_password(user, new, must_change=False)
                ended = credentials.revoke_all(session, user, keep=keep)
                audit.record(
                    session,
                    principal.username,
                    events.UserPassword(sessions_ended=ended),
                    f"user:{user.username}",
                    "replaced the password an administrator set" if was_set_for_them else "",
                )
        if wrong:
            raise BadInputError("the current password is wrong")

    def start_totp(self, principal: Principal) -> tuple[str, str]:
        """A fresh secret and its otpauth:// URI for the user's app; stored only by `confirm_totp`."""
        return credentials.new_totp_secret(principal.username)

    def confirm_totp(
        self, principal: Principal, secret: str, code: str, *, password: str, current_code: str | None = None
    ) -> None:
        """Store a new second factor. A session alone is not enough: the password is required, and a code
        from the factor in use if there is one (otherwise whoever found a signed-in screen could take the
        account over for good)."""
        with self.db().transaction() as session:
            user = credentials.get_user(session, principal.username)
            if not credentials.verify_password(user, password):
                raise BadInputError("the password is wrong")
            box = self.secret_box()
            if user.totp_secret and not credentials.check_current_code(user, current_code or "", box):
                raise BadInputError("a code from your current authenticator is needed to replace it")
            credentials.confirm_totp(user, secret, code, box)
            audit.record(session, principal.username, events.UserTotp(), f"user:{principal.username}")

    # -- each user's own API tokens: only the owner makes one ---------------------------------------------

    def token_scopes(self, principal: Principal) -> list[dict]:
        """The scopes a token of this account could carry, with what each grants its role (for a form)."""
        return catalogue(principal.role) if principal.role is not None else []

    def issue_own_token(
        self, principal: Principal, label: str, scope: str, days: int, *, password: str, totp: str | None = None
    ) -> dict:
        """An API token for the signed-in person themself, never for anyone else: no account acts for
        another. It needs the person signed in now (not another token) and the password again (and a fresh
        code when the account has a second factor), lasts at most MAX_TOKEN_DAYS, carries one scope within
        the role (governance/scopes.py) and dies if the role changes. The token is returned once."""
        principal.require_interactive("making an API token")
        chosen = parse_scope(scope)
        what = (label or "").strip()
        if not what or len(what) > 100:
            raise BadInputError("name the token after what it is for (1-100 characters)")
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise BadInputError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days")
        role = principal.role
        if role is None or not useful(role, chosen):
            raise BadInputError(f"a {chosen.value} token would let your role do nothing more than read: choose read")
        refused = None
        with self.db().transaction() as session:
            user = credentials.get_user(session, principal.username)
            if not credentials.verify_password(user, password or ""):
                refused = SafeguardMissingError("the password is wrong: no token was made")
            elif user.totp_secret and not credentials.check_current_code(user, totp or "", self.secret_box()):
                refused = SafeguardMissingError("a fresh code from your authenticator app is needed: no token was made")
            else:
                token = credentials.issue_token(
                    session, user, TokenKind.API, hours=days * 24, label=what, scope=chosen.value
                )
                row = credentials.tokens_of(session, user)[-1]
                audit.record(
                    session,
                    principal.username,
                    events.TokenIssue(name=what, scope=chosen.value, days=days, id=row["id"]),
                    f"user:{principal.username}",
                )
                return {**row, "token": token}
        raise refused

    def my_tokens(self, principal: Principal) -> list[dict]:
        """The signed-in person's own API tokens (never the tokens themselves)."""
        with self.db().read() as session:
            return credentials.tokens_of(session, credentials.get_user(session, principal.username))

    def revoke_own_token(self, principal: Principal, token_id: int) -> None:
        """Revoke one of one's own API tokens at once (a phone lost, an integration retired)."""
        with self.db().transaction() as session:
            credentials.revoke_token_id(session, credentials.get_user(session, principal.username), token_id)
            audit.record(session, principal.username, events.TokenRevoke(id=token_id), f"user:{principal.username}")


def _channel(kind: TokenKind) -> str:
    return {TokenKind.API: "api", TokenKind.WEB: "web", TokenKind.CLI: "cli"}[kind]
