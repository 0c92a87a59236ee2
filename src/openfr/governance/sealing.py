"""When sealing began, and the audit key at start-up (run once, when a process opens the store).

**Where "sealing began" is known.** `audit.verify` applies one rule: every event carries a valid seal,
except the events that an `audit.sealing.start` event records as written before the seal existed (its detail
`unsealed_before`). That event is appended to the trail itself, once, when a store holding such older
events is opened with a key. It is sealed like every event and chained after the events it covers, so it
can be neither forged nor moved without the key, and deleting it (or removing its seal) leaves the older
events unsealed, which fails. A store without it must have every event sealed: seals set to NULL fail,
whatever the checkpoint file says, and events with no checkpoint anywhere fail too.

It is written only where the events it covers are known to predate the seal:
- the schema predated the seal column (migration 0011) when this process opened the store: every event is
  older than sealing. Only if no checkpoint exists (checkpoint file or anchor) and the key is the one from
  `OPENFR_AUDIT_KEY` or was made just now: someone resetting the schema to replay this step would also have
  to remove the key file, and a key is never made while a checkpoint exists.
- or an earlier version sealed the later events and left a prefix unsealed: the events before the first
  sealed event (and before every checkpoint's `sealed_from`), if that seal holds and the chain from event 1
  into that event is intact, so the prefix cannot have been changed (its last hash is sealed in the next).
Anything else is left alone for verify to report.

**The key at start-up.** A key is made only for a store with no sealed event and no checkpoint. With either,
a missing key, or one under which neither the newest sealed event, the first one, nor the last checkpoint
checks, stops openfr with `AuditKeyError` saying how to restore it: a new key would make the whole earlier
trail fail, and real tampering could no longer be told apart. Without an anchor, someone who can delete the
key file, the checkpoint file and every seal together can still make the store look new: keep the key in
`OPENFR_AUDIT_KEY` from a KMS, and set `audit.anchor`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openfr.errors import AuditKeyError
from openfr.governance import audit, events
from openfr.governance.anchor import Anchor, FileAnchor, anchor_for
from openfr.governance.seal import AuditSeal, make_key, read_key
from openfr.store.audit_table import AuditEvent
from openfr.store.db import Database

SEAL_REVISION = "0011"  # the migration that added the seal column
KEY_FILE = Path("keys") / "audit.key"
RESTORE = (
    "restore keys/audit.key in the data folder (OPENFR_HOME) from your backup (owner-only, mode 0600), or set "
    "OPENFR_AUDIT_KEY to the original key; openfr makes no new key for a sealed trail"
)


@dataclass(frozen=True)
class _Evidence:
    """What shows that a key already sealed this trail: the newest sealed event, the last checkpoint lines."""

    newest_sealed: AuditEvent | None
    last_lines: tuple[str, ...]

    @property
    def sealed(self) -> bool:
        return self.newest_sealed is not None or bool(self.last_lines)


def start(
    db: Database, home: Path, key_text: str | None, checkpoint_file: Path | None, anchor_setting: str | None
) -> AuditSeal:
    """The installation's seal for `db`, after checking the key against the trail and recording once which
    events predate the seal. Raises AuditKeyError, never making a key, when the trail was sealed by another."""
    anchor = anchor_for(anchor_setting)
    checkpoint_file = checkpoint_file or home / "keys" / "audit-checkpoints.jsonl"
    evidence = _evidence(db, checkpoint_file, anchor)
    made = False
    if key_text:
        key, source = key_text.encode(), "OPENFR_AUDIT_KEY"
    else:
        key, source = read_key(home / KEY_FILE), "keys/audit.key"
        if key is None:
            if evidence.sealed:
                raise AuditKeyError(f"the audit key is missing, but this store's audit trail is sealed: {RESTORE}")
            key, made = make_key(home / KEY_FILE)
    try:
        seal = AuditSeal(key, checkpoint_file, anchor)
    except ValueError as exc:
        raise AuditKeyError(f"{source}: {exc}") from None
    if evidence.sealed and not _holds(db, seal, evidence):
        raise AuditKeyError(f"the audit key ({source}) is not the key that sealed this store's audit trail: {RESTORE}")
    db.use_audit_seal(seal)
    _record_sealing_start(db, seal, may_predate=bool(key_text) or made)
    return seal


def _evidence(db: Database, checkpoint_file: Path, anchor: Anchor | None) -> _Evidence:
    with db.read() as session:
        newest = session.scalars(
            select(AuditEvent).where(AuditEvent.seal.is_not(None)).order_by(AuditEvent.id.desc()).limit(1)
        ).first()
    lines = [last_line(checkpoint_file), last_line(anchor.path) if isinstance(anchor, FileAnchor) else None]
    return _Evidence(newest, tuple(line for line in lines if line and _looks_like_checkpoint(line)))


def _holds(db: Database, seal: AuditSeal, evidence: _Evidence) -> bool:
    """The key sealed this trail: the newest sealed event, a last checkpoint line or the first sealed event
    checks under it (one altered seal is verify's business, not a different key)."""
    newest = evidence.newest_sealed
    if newest is not None and seal.checks(newest.hash, newest.seal):
        return True
    if any(seal.parse_line(line) is not None for line in evidence.last_lines):
        return True
    with db.read() as session:
        first = _first_sealed(session)
        return first is not None and seal.checks(first.hash, first.seal)


def _record_sealing_start(db: Database, seal: AuditSeal, *, may_predate: bool) -> None:
    """Append the sealing-start event where events are known to predate the seal (see the module's docstring)."""
    with db.read() as session:  # the usual case, cheaply: event 1 is sealed, or the event is there already
        first = session.get(AuditEvent, 1)
        if first is None or first.seal is not None or audit.unsealed_before(session, seal) > 1:
            return
    with db.transaction() as session:
        audit.lock_appends(session)
        if audit.unsealed_before(session, seal) > 1:
            return  # another process recorded it meanwhile
        end = _legacy_end(db, session, seal, may_predate)
        if end is not None:
            reason = "events written before the audit seal existed"
            audit.record(session, "system", events.AuditSealingStart(unsealed_before=end), "audit", reason)


def _legacy_end(db: Database, session: Session, seal: AuditSeal, may_predate: bool) -> int | None:
    """The position before which every event predates the seal, or None when that is not known."""
    checkpoints, problems = seal.checkpoints()
    if not db.had_revision(SEAL_REVISION):
        if checkpoints or problems or not may_predate:
            return None
        last = session.scalar(select(func.max(AuditEvent.id))) or 0
        return last + 1 if _intact_up_to(session, last) else None
    first = _first_sealed(session)
    if first is None or not seal.checks(first.hash, first.seal) or not _intact_up_to(session, first.id):
        return None
    end = min([first.id, *(c.sealed_from for c in checkpoints)])
    return end if end > 1 else None


def _first_sealed(session: Session) -> AuditEvent | None:
    query = select(AuditEvent).where(AuditEvent.seal.is_not(None)).order_by(AuditEvent.id).limit(1)
    return session.scalars(query).first()


def _intact_up_to(session: Session, position: int) -> bool:
    expected, prev = 1, audit.GENESIS
    query = select(AuditEvent).where(AuditEvent.id <= position).order_by(AuditEvent.id)
    for event in session.scalars(query).yield_per(1000):
        if audit.chain_problems(event, expected, prev):
            return False
        expected, prev = event.id + 1, event.hash
    return expected == position + 1


def last_line(path: Path, tail: int = 4096) -> str | None:
    """The last line of a file, reading only its end (the checkpoint file grows by one line per change)."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - tail))
            lines = fh.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return None
    return lines[-1] if lines else None


def _looks_like_checkpoint(line: str) -> bool:
    return '"position"' in line and '"seal"' in line
