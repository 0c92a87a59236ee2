"""The tamper-evident audit trail: who did what, to what, why and when.

`record` appends an event inside the caller's transaction, so the event exists exactly when the action
does. Each event's hash is SHA-256 over its position, its content and the previous event's hash; `verify`
walks the chain and names every row that was edited, inserted, deleted or reordered, and the first bad one.
Each event is also sealed under a key kept outside the database and the head is checkpointed outside it
after every commit (`governance/seal.py`), so a chain rewritten without the key, shortened, or emptied fails
too; a head kept elsewhere (`head()`, `--expect-head`) remains a further check.

Every event must carry a valid seal, except those that an `audit.sealing.start` event (sealed itself) records
as written before the seal existed (`governance/sealing.py` says when it is written): seals set to NULL are
a failure whatever the checkpoint file says, and so are events with no checkpoint anywhere.

Never put faces, embeddings, names of searched people or secrets in `details`: the trail is read by
auditors and exported.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from openfr.governance.event_base import Event, is_declared
from openfr.governance.events import AuditSealingStart
from openfr.governance.seal import AuditSeal, Checkpoint
from openfr.store.audit_table import AuditEvent

GENESIS = "0" * 64
SEALING_STARTED = AuditSealingStart.action  # records which events (those before `unsealed_before`) predate the seal
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


def record(session: Session, actor: str, event: Event, resource: str, reason: str = "") -> AuditEvent:
    """Append one event: a declared event type of `governance/events.py`, whose action and details are stored.
    Appends are serialised (an advisory lock on PostgreSQL; SQLite has one writer), so two events can never
    claim the same predecessor."""
    if not is_declared(event):
        raise TypeError(f"not an event declared in governance/events.py: {event!r}")
    action, details = event.action, event.details()
    lock_appends(session)
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


def lock_appends(session: Session) -> None:
    """Hold the append lock until the transaction ends (PostgreSQL; SQLite's writer already holds its lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


@dataclass
class Verification:
    events: int = 0
    head: str = GENESIS
    first_bad: int | None = None  # the lowest position that was edited, unsealed, inserted or is missing
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def flag(self, position: int | None, problem: str) -> None:
        self.problems.append(problem)
        if position is not None and (self.first_bad is None or position < self.first_bad):
            self.first_bad = position

    def as_dict(self) -> dict:
        return {"ok": self.ok, **asdict(self)}


def verify(session: Session, expect_head: str | None = None) -> Verification:
    """Walk the whole chain; every break is reported, not just the first, and the first bad event is named.
    With the installation's seal (sessions of an application's database carry it), also every event's seal
    and the checkpoints kept outside the database (and in a file anchor): a rewrite without the key, seals
    removed, deleted newest events, an emptied table or an emptied checkpoint file fail."""
    report = Verification()
    seal: AuditSeal | None = session.info.get("audit_seal")
    checkpoints, problems = seal.checkpoints() if seal is not None else ([], [])
    for problem in problems:
        report.flag(None, problem)
    legacy_end = unsealed_before(session, seal) if seal is not None else 1
    expected_position, prev = 1, GENESIS
    hashes: dict[int, str] = {c.position: "" for c in checkpoints}
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        report.events += 1
        for position, problem in chain_problems(event, expected_position, prev):
            report.flag(position, problem)
        if seal is not None and not (event.seal is None and event.id < legacy_end):
            if event.seal is None:
                report.flag(event.id, f"event {event.id}: its seal does not match (it has none: removed, or rewritten)")
            elif not seal.checks(event.hash, event.seal):
                report.flag(event.id, f"event {event.id}: its seal does not match (rewritten without the key)")
        if event.id in hashes:
            hashes[event.id] = event.hash
        expected_position, prev = event.id + 1, event.hash
    report.head = prev
    _check_checkpoints(report, checkpoints, hashes, expected_position - 1)
    if seal is not None and report.events and not checkpoints:
        report.flag(
            None,
            "events but no checkpoint in the checkpoint file or anchor: the checkpoint file was removed or emptied",
        )
    if expect_head is not None and expect_head != prev:
        report.flag(None, f"the chain ends at {prev[:16]}..., not at the expected head {expect_head[:16]}...")
    return report


def chain_problems(event: AuditEvent, expected_position: int, prev: str) -> list[tuple[int, str]]:
    """What is wrong with `event` as the successor of position `expected_position - 1` whose hash is `prev`."""
    problems = []
    if event.id != expected_position:
        problems.append(
            (expected_position, f"event {event.id}: events {expected_position}-{event.id - 1} are missing (deleted)")
        )
    if event.prev_hash != prev:
        problems.append(
            (event.id, f"event {event.id}: does not follow the event before it (inserted, deleted or reordered)")
        )
    if not _hash_holds(event):
        problems.append((event.id, f"event {event.id}: content does not match its hash (edited)"))
    return problems


def _hash_holds(e: AuditEvent) -> bool:
    return digest(e.id, e.at, e.actor, e.action, e.resource, e.reason, e.details, e.prev_hash) == e.hash


def _check_checkpoints(report: Verification, checkpoints: list[Checkpoint], hashes: dict[int, str], last: int) -> None:
    """The first checkpoint of each source (the checkpoint file, the anchor) that the trail, ending at position
    `last`, contradicts."""
    for source in dict.fromkeys(c.source for c in checkpoints):
        for c in (c for c in checkpoints if c.source == source):
            if c.position > last:
                report.flag(
                    last + 1,
                    f"the trail ends at event {last} but a checkpoint ({source}) recorded event {c.position}: "
                    "events were deleted from the end, or the table emptied",
                )
                break
            if hashes.get(c.position) != c.hash:
                report.flag(c.position, f"event {c.position}: differs from its checkpoint ({source}) (rewritten)")
                break


def unsealed_before(session: Session, seal: AuditSeal) -> int:
    """Events before this position may carry no seal: those that a sealing-start event, itself sealed and
    intact, records as written before the seal existed (1 when there is none: every event is sealed)."""
    query = select(AuditEvent).where(AuditEvent.action == SEALING_STARTED).order_by(AuditEvent.id)
    for event in session.scalars(query):
        if seal.checks(event.hash, event.seal) and _hash_holds(event):
            return max(1, min(int(event.details.get("unsealed_before", 1)), event.id))
    return 1


def _sealed_from(session: Session, seal: AuditSeal, position: int) -> int:
    """The first sealed event: looked up once per process (it never moves), not on every append."""
    if seal.sealed_from is None:
        first = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.seal.is_not(None)))
        seal.sealed_from = first or position
    return seal.sealed_from


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
