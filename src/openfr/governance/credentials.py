"""Local accounts: argon2id passwords, optional TOTP, lockout after repeated failures, bearer tokens.

Rows and rules only, inside the caller's transaction (except `check_password`, the argon2 work of a sign-in,
which needs none and is kept out of the write transaction): the account services decide who may change what,
own the transactions and record every login, failed login, account change and token issue in the audit
trail, never with a password, code or token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openfr.errors import BadInputError, NotFoundError, OpenFRError
from openfr.governance.permissions import Role, parse_role
from openfr.governance.secretbox import SecretBox, is_sealed
from openfr.store.account_tables import ApiToken, User

MIN_PASSWORD = 12
LOCK_AFTER = 5  # consecutive failed logins before the account locks
LOCK_FOR = timedelta(minutes=15)
_hasher = PasswordHasher()  # argon2id with the library's current recommended costs


class AuthError(OpenFRError):
    """Login refused. The message never says whether the user exists; `reason` is for the audit trail."""

    exit_code = 2

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or "login refused: wrong username, password or code, or the account is locked")
        self.reason = reason


class TooManyAttemptsError(AuthError):
    """Failed sign-ins from this address have slowed it down: try again after `retry_after` seconds."""

    def __init__(self, retry_after: float = 1.0) -> None:
        self.retry_after = max(1, round(retry_after + 0.49))
        super().__init__(
            "too many failed logins from this address",
            f"too many failed sign-ins from this address: try again in {self.retry_after} s",
        )


class SecondFactorRequiredError(AuthError):
    """The password was right and the account has a second factor: ask for the code, then try again."""

    def __init__(self) -> None:
        super().__init__("second factor required", "a code from the authenticator app is needed to sign in")


class TokenKind(StrEnum):
    """Bearer tokens for the API, console sessions and command-line sign-ins are kept apart: one kind never
    opens another's door."""

    API = "api"
    WEB = "console session"
    CLI = "command-line session"


_BASE32 = re.compile(r"^[A-Z2-7]{16,64}$")


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadInputError(f"a password needs at least {MIN_PASSWORD} characters")


def check_username(username: str) -> str:
    username = (username or "").strip()
    if not username or len(username) > 100 or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise BadInputError("a username is 1-100 letters, digits, '.', '-' or '_'")
    return username


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    *,
    created_by: str,
    display_name: str = "",
    must_change: bool = True,
) -> User:
    """A new account. `must_change`: its password was chosen by someone else, so its owner replaces it at
    first sign-in (only an installation's first administrator, who chose their own, is spared)."""
    username = check_username(username)
    check_password_policy(password)
    parsed = parse_role(role)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise BadInputError(f"user '{username}' exists")
    user = User(
        username=username,
        display_name=display_name or username,
        role=parsed.value,
        password_hash=_hasher.hash(password),
        active=True,
        failed_logins=0,
        created_by=created_by,
        must_change_password=must_change,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user '{username}'")
    return user


@dataclass(frozen=True)
class PasswordCheck:
    """The argon2 half of a sign-in, done before the sign-in's write transaction (`check_password`):
    whether `password` matched the hash stored when it was read, and the rehash if the costs changed."""

    checked_hash: str | None  # the stored hash it was checked against (None: no such active account)
    matched: bool
    rehash: str | None = None  # the password hashed at today's costs, when the stored hash is older


def stored_hash(session: Session, username: str) -> str | None:
    """The password hash of an active account named `username`, for `check_password`; None if there is none."""
    user = session.scalar(select(User).where(User.username == username))
    return user.password_hash if user is not None and user.active else None


def check_password(stored: str | None, password: str) -> PasswordCheck:
    """Check `password` against `stored` (from `stored_hash`), outside any transaction. The argon2 work is
    the slow part of a sign-in, on purpose: done here it holds no database lock, so whoever must write
    meanwhile (a camera storing an alert) never waits behind it. A missing or disabled account costs the same
    argon2 work as a real one, so timing never tells which names exist."""
    if stored is None:
        _hasher.hash(password)  # the same work either way: timing does not reveal which usernames exist
        return PasswordCheck(None, False)
    try:
        matched = _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return PasswordCheck(stored, False)
    return PasswordCheck(stored, matched, _hasher.hash(password) if _hasher.check_needs_rehash(stored) else None)


def authenticate(
    session: Session,
    username: str,
    password: str,
    totp_code: str | None = None,
    *,
    box: SecretBox,
    checked: PasswordCheck | None = None,
) -> User:
    """The user, or AuthError. Five failures in a row lock the account for 15 minutes, which bounds
    password guessing whatever the number of clients (the web layer adds per-address limits). Every refusal
    costs the same argon2 work, so timing never tells which names exist or are locked. `checked`: the
    password already checked by `check_password` before this (write) transaction began; it is used only if
    the stored hash is still the one it was checked against (else the password is checked again here)."""
    user = session.scalar(select(User).where(User.username == username))
    now = _now()
    # The check made before this transaction, if the stored hash is still the one it was made against.
    fresh = checked if checked is not None and user is not None and checked.checked_hash == user.password_hash else None
    if user is None or not user.active:
        if checked is None:
            _hasher.hash(password)  # the same work either way: timing does not reveal which usernames exist
        raise AuthError("unknown or disabled account")
    locked = user.locked_until is not None and _aware(user.locked_until) > now
    if locked and user.totp_secret is None:
        if fresh is None:
            _hasher.hash(password)  # as slow as a real check: a fast refusal would tell a guesser the name exists
        raise AuthError("account locked")
    try:
        if not (fresh.matched if fresh is not None else _hasher.verify(user.password_hash, password)):
            raise VerificationError("password")
        if user.totp_secret is not None:
            if not (totp_code or "").strip():
                raise SecondFactorRequiredError
            step = _totp_step(box.open(user.totp_secret), totp_code or "", now)
            if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
                raise VerificationError("second factor")  # wrong, or already used: a seen code is no proof
            user.totp_last_step = step
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= LOCK_AFTER and not locked:
            user.locked_until, user.failed_logins = now + LOCK_FOR, 0
        raise AuthError("wrong password or code") from None
    # A locked account with a second factor still lets its owner in with the password and a fresh code:
    # guessing both is out of reach, so five wrong guesses by someone else cannot shut the owner out.
    user.failed_logins, user.locked_until = 0, None
    if fresh is not None and fresh.rehash is not None:
        user.password_hash = fresh.rehash
    elif fresh is None and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(user: User, password: str, *, must_change: bool) -> None:
    """`must_change`: set by someone other than the owner (a reset), to be replaced at next sign-in."""
    check_password_policy(password)
    user.password_hash, user.failed_logins, user.locked_until = _hasher.hash(password), 0, None
    user.must_change_password = must_change


def new_totp_secret(username: str) -> tuple[str, str]:
    """A fresh secret and its provisioning URI, not yet stored: `confirm_totp` stores it once the user's
    authenticator app has produced a valid code, so nobody is locked out by a half-finished enrolment."""
    import pyotp

    secret = pyotp.random_base32()
    return secret, pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="openfr")


def enable_totp(user: User, box: SecretBox) -> str:
    """Turn on the second factor at once (an administrator's set-up); the provisioning URI, shown once."""
    secret, uri = new_totp_secret(user.username)
    user.totp_secret, user.totp_last_step = box.seal(secret), None
    return uri


def confirm_totp(user: User, secret: str, code: str, box: SecretBox) -> None:
    if not _BASE32.match(secret or ""):
        raise BadInputError("the key must be 16-64 base32 characters (A-Z, 2-7), as the set-up page shows it")
    step = _totp_step(secret, code, _now())
    if step is None:
        raise BadInputError("that code does not match: check the authenticator app's clock and try the next code")
    user.totp_secret, user.totp_last_step = box.seal(secret), step


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step whose code this is (one step of clock drift either way), or None."""
    import pyotp

    totp, code = pyotp.TOTP(secret), code.strip()
    if not code.isdigit():
        return None
    step = totp.timecode(now)
    for candidate in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def issue_token(
    session: Session, user: User, kind: TokenKind, *, hours: float, label: str = "", scope: str | None = None
) -> str:
    """A bearer token of `kind` for `user`, returned once; only its digest is stored. It records the user's
    role (a token dies with a role change) and, for an owner-made API token, its scope (None: a sign-in,
    with the whole role). API tokens carry their label (what they are for) as their name; sessions are
    named by their kind. Who may issue one is the services' rule: only its owner."""
    prefix = {TokenKind.API: "ofr_", TokenKind.WEB: "ofs_", TokenKind.CLI: "ofc_"}[kind]
    token = prefix + secrets.token_urlsafe(32)
    name = (label or "api token") if kind is TokenKind.API else kind.value
    if kind is TokenKind.API and name in (TokenKind.WEB.value, TokenKind.CLI.value):
        raise BadInputError(f"'{name}' is reserved; name the token after what it is for")
    session.add(
        ApiToken(
            user_id=user.id,
            name=name,
            digest=_digest(token),
            expires_at=_now() + timedelta(hours=hours),
            revoked=False,
            scope=scope,
            role=user.role,
        )
    )
    session.flush()
    return token


def _kind_of(row: ApiToken) -> TokenKind:
    return TokenKind(row.name) if row.name in (TokenKind.WEB.value, TokenKind.CLI.value) else TokenKind.API


def token_grant(session: Session, token: str, kind: TokenKind) -> tuple[User, ApiToken] | None:
    """The active user an unexpired, unrevoked token of this kind belongs to, with the token's row; None
    also when the user's role is no longer the one the token was issued for."""
    row = session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token)))
    if row is None or row.revoked or _aware(row.expires_at) <= _now() or _kind_of(row) is not kind:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active or (row.role is not None and row.role != user.role):
        return None
    return user, row


def revoke_token(session: Session, token: str, kind: TokenKind) -> User | None:
    """Revoke a session or token (signing out); the user it belonged to, if it was live."""
    row = session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token)))
    if row is None or row.revoked or _kind_of(row) is not kind:
        return None
    row.revoked = True
    return session.get(User, row.user_id)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def revoke_all(session: Session, user: User, *, keep: str | None = None) -> int:
    """Revoke every live session and token of `user` (but the one presented as `keep`): after a password
    change or reset, a disabling, or on request. Returns how many were revoked."""
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))).all()
    kept = _digest(keep) if keep else None
    count = 0
    for row in rows:
        if row.digest != kept:
            row.revoked, count = True, count + 1
    return count


def tokens_of(session: Session, user: User) -> list[dict]:
    """A user's API tokens (never the token itself): id, label, dates, state."""
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()
    return [
        {
            "id": r.id,
            "name": r.name,
            "created_at": _aware(r.created_at).isoformat() if r.created_at else None,
            "expires_at": _aware(r.expires_at).isoformat(),
            "revoked": r.revoked,
            "scope": r.scope or "sign-in",
            "expired": _aware(r.expires_at) <= _now(),
        }
        for r in rows
        if _kind_of(r) is TokenKind.API
    ]


def revoke_token_id(session: Session, user: User, token_id: int) -> None:
    row = session.get(ApiToken, token_id) if 0 < token_id < 2**63 else None
    if row is None or row.user_id != user.id or _kind_of(row) is not TokenKind.API:
        raise NotFoundError(f"user '{user.username}' has no API token {token_id}")
    row.revoked = True


def check_current_code(user: User, code: str, box: SecretBox) -> bool:
    """A code from the user's present factor, not used before (replay-safe like a sign-in)."""
    if not user.totp_secret:
        return False
    step = _totp_step(box.open(user.totp_secret), code, _now())
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def seal_plain_secrets(session: Session, box: SecretBox) -> int:
    """Encrypt second-factor secrets stored before encryption existed; how many were sealed."""
    rows = session.scalars(select(User).where(User.totp_secret.is_not(None))).all()
    plain = [u for u in rows if not is_sealed(u.totp_secret or "")]
    for user in plain:
        user.totp_secret = box.seal(user.totp_secret or "")
    return len(plain)


def active_administrators(session: Session) -> int:
    query = select(func.count()).select_from(User).where(User.role == Role.ADMINISTRATOR.value, User.active.is_(True))
    return session.scalar(query) or 0
