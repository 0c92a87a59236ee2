"""Users and their API tokens. Passwords are argon2id hashes; tokens are stored as SHA-256 digests only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from openfr.store.models import Base, utcnow


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Set once the user enrols a second factor; encrypted under a key kept outside the database.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # a code's 30-s step is accepted once
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))
    # A password chosen by an administrator (new account, reset) is changed by its owner before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Dual control: a privileged account created, re-enabled or reset by one administrator stays disabled
    # until a second one approves; who asked, and for what.
    approval_requested_by: Mapped[str | None] = mapped_column(String(100))
    approval_for: Mapped[str | None] = mapped_column(String(40))
    # Every administrator who asked for the pending change (a request belongs to its requester for life): none
    # of them may approve it, so an administrator re-asking cannot hand the request back to its first author.
    approval_requesters: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # Police rank (governance/ranks.py): what an authorising officer's authority rests on, recorded with
    # every authorisation. Set by an administrator; for a privileged account, approved by a second one.
    rank: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    # An owner-made API token's scope (governance/scopes.py); None: a sign-in's, with the whole role.
    scope: Mapped[str | None] = mapped_column(String(20))
    # The owner's role when it was issued: a token dies when the role changes (it was granted for that role).
    role: Mapped[str | None] = mapped_column(String(40))
