"""Local accounts: argon2id passwords, optional TOTP, lockout after repeated failures, API tokens.

Every login, failed login, account change and token issue is an audit event; no password, code or token
ever appears in one (or in a log).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from openfr.errors import BadInputError, OpenFRError
from openfr.governance import audit
from openfr.governance.permissions import parse_role
from openfr.store.accounts import ApiToken, User

MIN_PASSWORD = 12
LOCK_AFTER = 5  # consecutive failed logins before the account locks
LOCK_FOR = timedelta(minutes=15)
_hasher = PasswordHasher()  # argon2id with the library's current recommended costs


class AuthError(OpenFRError):
    """Login refused. The message never says whether the user exists."""

    exit_code = 2


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadInputError(f"a password needs at least {MIN_PASSWORD} characters")


def create_user(
    session: Session, username: str, role: str, password: str, *, actor: str, display_name: str = ""
) -> User:
    username = username.strip()
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise BadInputError("a username is letters, digits, '.', '-' or '_'")
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
        created_by=actor,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", f"user:{username}", role=parsed.value)
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise BadInputError(f"no user '{username}'")
    return user


def authenticate(
    session: Session, username: str, password: str, totp_code: str | None = None, *, channel: str = "api"
) -> User:
    """The user, or AuthError. Five failures in a row lock the account for 15 minutes, which bounds
    password guessing whatever the number of clients (the web layer adds a per-address limit)."""
    user = session.scalar(select(User).where(User.username == username))
    now = _now()
    refused = AuthError("login refused: wrong username, password or code, or the account is locked")
    if user is None or not user.active:
        _hasher.hash(password)  # the same work either way: timing does not reveal which usernames exist
        audit.record(session, username or "?", "login.failed", f"user:{username}", "unknown or disabled account")
        raise refused
    if user.locked_until is not None and _aware(user.locked_until) > now:
        audit.record(session, username, "login.failed", f"user:{username}", "account locked")
        raise refused
    try:
        _hasher.verify(user.password_hash, password)
        if user.totp_secret is not None:
            step = _totp_step(user.totp_secret, totp_code or "", now)
            if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
                raise VerificationError("second factor")  # wrong, or already used: a seen code is no proof
            user.totp_last_step = step
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= LOCK_AFTER:
            user.locked_until, user.failed_logins = now + LOCK_FOR, 0
        audit.record(session, username, "login.failed", f"user:{username}", "wrong password or code")
        raise refused from None
    user.failed_logins, user.locked_until = 0, None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    audit.record(session, username, "login", f"user:{username}", channel=channel)
    return user


def set_password(session: Session, username: str, password: str, *, actor: str) -> None:
    check_password_policy(password)
    user = get_user(session, username)
    user.password_hash, user.failed_logins, user.locked_until = _hasher.hash(password), 0, None
    audit.record(session, actor, "user.password", f"user:{username}")


def set_active(session: Session, username: str, active: bool, *, actor: str) -> None:
    get_user(session, username).active = active
    audit.record(session, actor, "user.enable" if active else "user.disable", f"user:{username}")


def enable_totp(session: Session, username: str, *, actor: str) -> str:
    """Turn on the second factor; returns the provisioning URI for an authenticator app (shown once)."""
    import pyotp

    user = get_user(session, username)
    user.totp_secret = pyotp.random_base32()
    audit.record(session, actor, "user.totp", f"user:{username}")
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=username, issuer_name="openfr")


def new_totp_secret(username: str) -> tuple[str, str]:
    """A fresh secret and its provisioning URI, not yet stored: `confirm_totp` stores it once the user's
    authenticator app has produced a valid code, so nobody is locked out by a half-finished enrolment."""
    import pyotp

    secret = pyotp.random_base32()
    return secret, pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="openfr")


def confirm_totp(session: Session, username: str, secret: str, code: str) -> None:
    step = _totp_step(secret, code, _now())
    if step is None:
        raise BadInputError("that code does not match: check the authenticator app's clock and try the next code")
    user = get_user(session, username)
    user.totp_secret, user.totp_last_step = secret, step
    audit.record(session, username, "user.totp", f"user:{username}", channel="web")


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


def change_password(session: Session, username: str, current: str, new: str) -> None:
    """The user's own change: the current password is required (a session left open is not enough)."""
    user = get_user(session, username)
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        audit.record(session, username, "user.password.failed", f"user:{username}", "wrong current password")
        raise BadInputError("the current password is wrong") from None
    set_password(session, username, new, actor=username)


def issue_token(session: Session, username: str, name: str, *, actor: str, days: int = 30) -> str:
    """A bearer token for the API, returned once; only its digest is stored."""
    user = get_user(session, username)
    token = "ofr_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            name=name,
            digest=_digest(token),
            expires_at=_now() + timedelta(days=days),
            revoked=False,
        )
    )
    audit.record(session, actor, "token.issue", f"user:{username}", name=name, days=days)
    return token


def user_for_token(session: Session, token: str, *, web_session: bool = False) -> User | None:
    """The active user an unexpired, unrevoked token belongs to. API tokens and console sessions are kept
    apart: a session cookie is no bearer token, and a bearer token opens no console session."""
    row = session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token)))
    if row is None or row.revoked or _aware(row.expires_at) <= _now() or (row.name == WEB_SESSION) != web_session:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


WEB_SESSION = "console session"


def open_web_session(session: Session, user_id: int, hours: float) -> str:
    """A console session token for the cookie (the login itself is the audit event); only its digest is
    stored, so a copy of the database opens no session."""
    token = "ofs_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user_id,
            name=WEB_SESSION,
            digest=_digest(token),
            expires_at=_now() + timedelta(hours=hours),
            revoked=False,
        )
    )
    return token


def close_web_session(session: Session, token: str, actor: str) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token), ApiToken.name == WEB_SESSION))
    if row is not None and not row.revoked:
        row.revoked = True
        audit.record(session, actor, "logout", f"user:{actor}")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(db, username: str, password: str, totp_code: str | None = None, *, channel: str = "api") -> dict:
    """authenticate() in its own transaction, committing the failure count and audit event even when the
    login is refused (otherwise a refused login would roll its own lockout back)."""
    refused: AuthError | None = None
    with db.transaction() as session:
        try:
            user = authenticate(session, username, password, totp_code, channel=channel)
            return {"id": user.id, "username": user.username, "role": user.role}
        except AuthError as exc:
            refused = exc
    raise refused
