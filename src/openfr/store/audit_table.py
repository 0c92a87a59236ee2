"""The audit trail's table: one row per event, each carrying the hash of the one before it.

Rows are append-only (database triggers refuse UPDATE and DELETE), and because every row's hash covers its
own content and its predecessor's hash, an edit, insertion or deletion made by someone who bypasses the
triggers is still found by `openfr audit verify`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openfr.store.models import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # position in the chain, from 1
    at: Mapped[str] = mapped_column(String(40), index=True)  # UTC, ISO 8601 with microseconds (hashed as text)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(100), index=True)  # e.g. search, enrol, deployment.authorise
    resource: Mapped[str] = mapped_column(String(300))  # e.g. gallery:custody, deployment:market-day
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # never faces, vectors or secrets
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    seal: Mapped[str | None] = mapped_column(String(64))  # HMAC of `hash` under the installation's audit key
