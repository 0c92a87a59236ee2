"""The tamper-evident audit trail: who did what, to what, why and when.

`record` appends an event inside the caller's transaction, so the event exists exactly when the action
does. Each event's hash is SHA-256 over its position, its content and the previous event's hash; `verify`
walks the chain and names every row that was edited, inserted, deleted or reordered. Each event is also
sealed under a key kept outside the database and the head is checkpointed outside it after every commit
(`governance/seal.py`), so a chain rewritten without the key, shortened, or emptied fails too; a head kept
elsewhere (`head()`, `--expect-head`) remains a further check.

Never put faces, embeddings, names of searched people or secrets in `details`: the trail is read by
auditors and exported.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from openfr.governance.seal import AuditSeal, Checkpoint
from openfr.store.audit import AuditEvent

GENESIS = "0" * 64
_LOCK_KEY = 0x6F70656E6672  # PostgreSQL advisory lock that serialises appends ("openfr")


def digest(
    position: int, at: str, actor: str, action: str, resource: str, reason: str, details: dict, prev: str
) -> str:
    body = json.dumps(
        [position, at, actor, action, resource, reason, details, prev],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(session: Session, actor: str, action: str, resource: str, reason: str = "", **details: Any) -> AuditEvent:
    """Append one event. Appends are serialised (an advisory lock on PostgreSQL; SQLite has one writer),
    so two events can never claim the same predecessor."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    position, prev = (last.id + 1, last.hash) if last else (1, GENESIS)
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    details = json.loads(json.dumps(details, default=str))  # exactly what the database will hand back
    event = AuditEvent(
        id=position,
        at=at,
        actor=actor,
        action=action,
        resource=resource,
        reason=reason or "",
        details=details,
        prev_hash=prev,
        hash=digest(position, at, actor, action, resource, reason or "", details, prev),
    )
    seal: AuditSeal | None = session.info.get("audit_seal")
    if seal is not None:
        event.seal = seal.seal(event.hash)
        # After the commit, the head is checkpointed outside the database (store/db.py).
        session.info["audit_head"] = Checkpoint(position, event.hash, _sealed_from(session, seal, position))
    session.add(event)
    session.flush()
    return event


@dataclass
class Verification:
    events: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"ok": self.ok, "events": self.events, "head": self.head, "problems": self.problems}


def verify(session: Session, expect_head: str | None = None) -> Verification:
    """Walk the whole chain; every break is reported, not just the first. With the installation's seal
    (sessions of an application's database carry it), also every event's seal and the checkpoints kept
    outside the database: a rewrite without the key, deleted newest events and an emptied table fail."""
    report = Verification()
    seal: AuditSeal | None = session.info.get("audit_seal")
    checkpoints, problems = seal.checkpoints() if seal is not None else ([], [])
    report.problems.extend(problems)
    sealed_from = min((c.sealed_from for c in checkpoints), default=None)
    expected_position, prev = 1, GENESIS
    hashes: dict[int, str] = {c.position: "" for c in checkpoints}
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        report.events += 1
        if event.id != expected_position:
            report.problems.append(f"event {event.id}: events {expected_position}-{event.id - 1} are missing (deleted)")
        if event.prev_hash != prev:
            report.problems.append(
                f"event {event.id}: does not follow the event before it (inserted, deleted or reordered)"
            )
        recomputed = digest(
            event.id, event.at, event.actor, event.action, event.resource, event.reason, event.details, event.prev_hash
        )
        if recomputed != event.hash:
            report.problems.append(f"event {event.id}: content does not match its hash (edited)")
        must_be_sealed = event.seal is not None or (sealed_from is not None and event.id >= sealed_from)
        if seal is not None and must_be_sealed and not seal.checks(event.hash, event.seal):
            report.problems.append(f"event {event.id}: its seal does not match (rewritten without the key)")
        if event.id in hashes:
            hashes[event.id] = event.hash
        expected_position, prev = event.id + 1, event.hash
    report.head = prev
    for c in checkpoints:
        if c.position > report.events:
            report.problems.append(
                f"the trail has {report.events} events but a checkpoint recorded event {c.position}: "
                "events were deleted from the end, or the table emptied"
            )
            break
        if hashes.get(c.position) != c.hash:
            report.problems.append(f"event {c.position}: differs from its checkpoint (rewritten)")
            break
    if seal is not None and not checkpoints and report.events and _any_sealed(session):
        report.problems.append("sealed events but no checkpoint: the checkpoint file was removed")
    if expect_head is not None and expect_head != prev:
        report.problems.append(f"the chain ends at {prev[:16]}..., not at the expected head {expect_head[:16]}...")
    return report


def _sealed_from(session: Session, seal: AuditSeal, position: int) -> int:
    """The first sealed event: looked up once per process (it never moves), not on every append."""
    if seal.sealed_from is None:
        first = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.seal.is_not(None)))
        seal.sealed_from = first or position
    return seal.sealed_from


def _any_sealed(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.seal.is_not(None))))


def head(session: Session) -> dict:
    """The newest event's position and hash: keep a copy outside openfr to detect truncation."""
    last = session.execute(select(AuditEvent.id, AuditEvent.hash, AuditEvent.at).order_by(AuditEvent.id.desc())).first()
    return {"events": last.id, "hash": last.hash, "at": last.at} if last else {"events": 0, "hash": GENESIS, "at": None}


def events(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    resource: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[dict]:
    """Events matching every filter given, oldest first (export) or newest first (browsing); `offset` skips
    that many of them (paging)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc() if newest_first else AuditEvent.id)
    query = _matching(query, actor=actor, action=action, resource=resource, since=since, until=until)
    if offset:
        query = query.offset(offset)
    if limit:
        query = query.limit(limit)
    return [
        {
            "id": e.id,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "resource": e.resource,
            "reason": e.reason,
            "details": e.details,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in session.scalars(query)
    ]


def count(session: Session, **filters: str | None) -> int:
    """How many events match the filters (as `events` takes them): the N of "500 of N"."""
    query = _matching(select(func.count()).select_from(AuditEvent), **filters)
    return session.scalar(query) or 0


def _matching(query, *, actor=None, action=None, resource=None, since=None, until=None):
    """`since` and `until` are UTC times in the stored form (ISO 8601, microseconds, +00:00), compared as
    text: `at >= since` and `at < until`."""
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action:  # an action, and the family it names ("deployment": deployment.create, deployment.live, ...)
        query = query.where(or_(AuditEvent.action == action, AuditEvent.action.startswith(action + ".")))
    if resource:
        query = query.where(AuditEvent.resource == resource)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    return query
