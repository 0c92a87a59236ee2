"""Reading the audit trail: verify the chain, its head, filtered events and exports (an export is itself
recorded, with its filters)."""

from __future__ import annotations

from datetime import datetime

from openfr.errors import BadInputError
from openfr.governance import audit
from openfr.governance.permissions import Permission
from openfr.runtime import Runtime
from openfr.services.principal import Principal

MAX_ROWS = 5000  # a page of events; exports are not capped


class AuditService:
    def __init__(self, runtime: Runtime):
        self.rt = runtime

    def verify(self, principal: Principal, expect_head: str | None = None) -> audit.Verification:
        principal.require(Permission.AUDIT_READ)
        with self.rt.db.read() as session:
            return audit.verify(session, expect_head)

    def head(self, principal: Principal) -> dict:
        principal.require(Permission.AUDIT_READ)
        with self.rt.db.read() as session:
            return audit.head(session)

    def events(
        self, principal: Principal, *, limit: int | None = 500, newest_first: bool = False, **filters: str | None
    ) -> list[dict]:
        """Events matching every filter given (actor, action prefix, resource, since, until as ISO times)."""
        principal.require(Permission.AUDIT_READ)
        if limit is not None and not 1 <= limit <= MAX_ROWS:
            raise BadInputError(f"limit must be between 1 and {MAX_ROWS}")
        clean = _filters(filters)
        with self.rt.db.read() as session:
            return audit.events(session, **clean, limit=limit, newest_first=newest_first)

    def export(self, principal: Principal, fmt: str, **filters: str | None) -> list[dict]:
        """Every matching event, oldest first, with its hashes (so the export can be re-verified elsewhere).
        The export is recorded in the same transaction that reads it."""
        principal.require(Permission.AUDIT_READ)
        if fmt not in ("csv", "jsonl"):
            raise BadInputError("format must be csv or jsonl")
        clean = _filters(filters)
        with self.rt.db.transaction() as session:
            rows = audit.events(session, **clean)
            given = {f"filter_{k}": v for k, v in clean.items() if v}
            audit.record(session, principal.username, "audit.export", "audit", format=fmt, events=len(rows), **given)
        return rows


def _filters(filters: dict[str, str | None]) -> dict[str, str | None]:
    unknown = set(filters) - {"actor", "action", "resource", "since", "until"}
    if unknown:
        raise BadInputError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    clean = {k: (v.strip() or None) if isinstance(v, str) else None for k, v in filters.items()}
    for key in ("since", "until"):
        if clean.get(key):
            try:
                datetime.fromisoformat(clean[key])  # type: ignore[arg-type]
            except ValueError:
                raise BadInputError(f"{key}: not an ISO date or time: {clean[key]!r} (e.g. 2026-11-29)") from None
    return clean
