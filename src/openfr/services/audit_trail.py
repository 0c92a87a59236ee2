"""Reading the audit trail: verify the chain, its head, filtered events (a page at a time, with how many match)
and exports (an export is itself recorded, with its filters).

Every door filters through `_filters`, so a filter that cannot be read is refused with a message saying what
would be read (HTTP 400), never taken for "no events match": dates are ISO 8601 in UTC, and an `until` that is
a date without a time includes that whole day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from openfr.errors import BadInputError
from openfr.governance import audit, events
from openfr.governance.permissions import Permission
from openfr.services.principal import Principal
from openfr.services.refusals import UseCases

MAX_ROWS = 5000  # a page of events; exports are not capped
PAGE_ROWS = 500  # the console's page: enough to scan, small enough to render at once
FILTERS = ("actor", "action", "resource", "since", "until")
DATE_HINT = "use YYYY-MM-DD or YYYY-MM-DDTHH:MM, in UTC (e.g. 2026-11-29 or 2026-11-29T14:30)"


@dataclass(frozen=True)
class EventPage:
    """One page of matching events and where it lies among all of them: "Showing 501-1,000 of 12,345"."""

    events: list[dict]
    total: int  # every event matching the filters
    offset: int  # how many matching events come before this page
    limit: int  # the page size asked for

    @property
    def first(self) -> int:
        return self.offset + 1 if self.events else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.events)

    @property
    def number(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


class AuditService(UseCases):
    use_case_prefix = "audit"  # refusals name their use case "audit.<method>"

    # Reads and records through the database alone: UseCases' constructor takes it.

    def verify(self, principal: Principal, expect_head: str | None = None) -> audit.Verification:
        principal.require(Permission.AUDIT_READ)
        with self.db().read() as session:
            return audit.verify(session, expect_head)

    def actions(self, principal: Principal) -> list[dict]:
        """The actions an event can record, with their meaning: what the action filter offers."""
        principal.require(Permission.AUDIT_READ)
        return events.catalogue()

    def head(self, principal: Principal) -> dict:
        principal.require(Permission.AUDIT_READ)
        with self.db().read() as session:
            return audit.head(session)

    def events(
        self,
        principal: Principal,
        *,
        limit: int | None = 500,
        offset: int = 0,
        newest_first: bool = False,
        **filters: str | None,
    ) -> list[dict]:
        """Events matching every filter given (actor, action prefix, resource, since, until as ISO times)."""
        principal.require(Permission.AUDIT_READ)
        _check_window(limit, offset)
        query = _bounds(_filters(filters))
        with self.db().read() as session:
            return audit.events(session, **query, limit=limit, offset=offset, newest_first=newest_first)

    def page(
        self,
        principal: Principal,
        *,
        limit: int = PAGE_ROWS,
        offset: int = 0,
        newest_first: bool = True,
        **filters: str | None,
    ) -> EventPage:
        """A page of matching events with how many match in all, read in one snapshot (the count and the
        rows agree). An offset past the last matching event is refused, not shown as an empty list."""
        principal.require(Permission.AUDIT_READ)
        _check_window(limit, offset)
        query = _bounds(_filters(filters))
        with self.db().read() as session:
            total = audit.count(session, **query)
            if offset and offset >= total:
                pages = max(1, -(-total // limit))
                raise BadInputError(
                    f"offset {offset} is past the last of the {total:,} matching event(s) ({pages} page(s) of {limit})"
                )
            rows = audit.events(session, **query, limit=limit, offset=offset, newest_first=newest_first)
        return EventPage(rows, total, offset, limit)

    def export(self, principal: Principal, fmt: str, **filters: str | None) -> list[dict]:
        """Every matching event, oldest first, with its hashes (so the export can be re-verified elsewhere).
        The export is recorded in the same transaction that reads it."""
        principal.require(Permission.AUDIT_READ)
        if fmt not in ("csv", "jsonl"):
            raise BadInputError("format must be csv or jsonl")
        clean = _filters(filters)
        with self.db().transaction() as session:
            rows = audit.events(session, **_bounds(clean))
            given = {f"filter_{k}": v for k, v in clean.items() if v}
            audit.record(
                session, principal.username, events.AuditExport(format=fmt, events=len(rows), **given), "audit"
            )
        return rows


def _check_window(limit: int | None, offset: int) -> None:
    if limit is not None and not 1 <= limit <= MAX_ROWS:
        raise BadInputError(f"limit must be between 1 and {MAX_ROWS}")
    if offset < 0:
        raise BadInputError("offset must be 0 or more")


def _filters(filters: dict[str, str | None]) -> dict[str, str | None]:
    """The filters as given, stripped (empty = not given), with since/until checked: what an export records."""
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise BadInputError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    clean = {k: (v.strip() or None) if isinstance(v, str) else None for k, v in filters.items()}
    clean["action"] = events.check_filter(clean.get("action"))  # a known action or family, never free text
    bounds = _bounds(clean)
    if bounds.get("since") and bounds.get("until") and bounds["since"] >= bounds["until"]:  # type: ignore[operator]
        raise BadInputError(f"since ({clean['since']}) must be before until ({clean['until']})")
    return clean


def _bounds(clean: dict[str, str | None]) -> dict[str, str | None]:
    """since/until as the stored times compare: UTC, ISO 8601 with microseconds. An `until` that is a date
    alone means the end of that day (the day is included), as a person reading "until 29 November" expects."""
    query = dict(clean)
    for key in ("since", "until"):
        if query.get(key):
            query[key] = _moment(key, query[key], end_of_day=key == "until")  # type: ignore[arg-type]
    return query


def _moment(key: str, text: str, *, end_of_day: bool) -> str:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    try:
        if day is not None:
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1 if end_of_day else 0)
        else:
            moment = datetime.fromisoformat(text)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadInputError(f"{key}: {text[:40]!r} is not a date or time: {DATE_HINT}") from None
    return moment.isoformat(timespec="microseconds")
