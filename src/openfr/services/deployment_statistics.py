"""Deployment statistics for publication: per deployment, over a period of days with totals, and the CSV
export of exactly what the statistics page shows (recorded in the audit trail, like the audit export).
A part of DeploymentService with its own dependencies (the doors call `app.deployments.statistics`).

Which deployments a period counts: those that went live on a day from `from` to `to`, both inclusive (UTC),
with all their alerts, as the transparency report counts them, so the two published figures agree. A camera
keeps its counters (people seen) per deployment, not per day: counting only the alerts of the days chosen
would divide them by people seen on other days and overstate or understate every rate. Without a period,
every deployment is listed, drafts included (they show nothing yet, but a reader sees they exist).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openfr.csvsafe import to_csv
from openfr.engine.pipeline import FaceEngine
from openfr.errors import BadInputError
from openfr.governance import audit, events
from openfr.governance.permissions import Permission
from openfr.live import alerting, lifecycle
from openfr.live.lifecycle import aware
from openfr.live.supervisor import CameraSupervisor
from openfr.services.principal import Principal
from openfr.services.refusals import UseCases, service
from openfr.services.reports import parse_day, unlikely_by_chance
from openfr.store import Alert, Deployment
from openfr.store.live_tables import OUTCOMES
from openfr.thresholds import expected_false_alerts

PER = 100_000  # rates are given per this many people seen, as the threshold's prediction is
SUMMED = ("faces_seen", "alerts", "confirmed", "false_alerts", "awaiting_decision", "superseded", "engagements")
# The CSV's columns: the statistics table's, in its order (the page test compares the two cell by cell).
CSV_COLUMNS = (
    "deployment", "state", "went_live", "faces_seen", "alerts", "confirmed", "false_alerts", "awaiting_decision",
    "superseded", "outcomes", "time_to_alert_p50_ms", "time_to_alert_p95_ms", "false_alerts_per_100k",
    "expected_false_alerts_per_100k", "flagged",
)  # fmt: skip


class StatisticsExport(NamedTuple):
    csv: str
    filename: str


def period(since: str | date | None, until: str | date | None) -> tuple[date | None, date | None]:
    """The days asked for, or a clear error: a date that is not YYYY-MM-DD, or a period that ends before it
    starts (never a silently empty result)."""
    start, end = _day(since, "from"), _day(until, "to")
    if start and end and end < start:
        raise BadInputError(f"from ({start}) is after to ({end}): the period ends before it starts")
    return start, end


def _day(value: str | date | None, what: str) -> date | None:
    if isinstance(value, date):
        return value
    return parse_day((value or "").strip() or None, what)


def _rate(false: int, faces: int) -> float | None:
    return round(false / faces * PER, 2) if faces else None


def _percentile(values: list[float], q: int) -> float | None:
    return round(float(np.percentile(np.array(values, dtype=float), q)), 1) if values else None


def outcomes_text(outcomes: dict[str, int]) -> str:
    """Outcomes as the table shows them: "engaged-arrest: 1, not-engaged: 2"."""
    return ", ".join(f"{k}: {n}" for k, n in outcomes.items())


def csv_cells(row: dict, label: str | None = None) -> list[object]:
    """One table row as CSV cells (None as an empty cell); `label` replaces the deployment's name (totals)."""
    flagged = row.get("flagged")
    return [
        label or row["deployment"],
        row.get("state"),
        row.get("went_live"),
        *(row[k] for k in ("faces_seen", "alerts", "confirmed", "false_alerts", "awaiting_decision", "superseded")),
        outcomes_text(row["outcomes"]),
        row["time_to_alert_ms"]["p50"],
        row["time_to_alert_ms"]["p95"],
        row["false_alerts_per_100k"],
        row.get("expected_false_alerts_per_100k"),
        None if flagged is None else ("yes" if flagged else "no"),
    ]


def as_csv(report: dict) -> str:
    """The statistics table as CSV, formula-safe (a deployment's name is free text), with its totals row."""
    rows = [csv_cells(r) for r in report["rows"]]
    rows.append(csv_cells(report["totals"], label=totals_label(report["totals"])))
    return to_csv(CSV_COLUMNS, rows)


def totals_label(totals: dict) -> str:
    return f"Total ({totals['deployments']} deployments)"


def totals(rows: list[dict], times_to_alert: list[float]) -> dict:
    """Sums of the rows; time to alert and the false-alert rate over every alert and person, not averages
    of the rows' own (a small deployment would weigh as much as a large one)."""
    summed: dict = {k: sum(r[k] for r in rows) for k in SUMMED}
    outcomes = {k: sum(r["outcomes"].get(k, 0) for r in rows) for k in OUTCOMES}
    return {
        "deployments": len(rows),
        **summed,
        "outcomes": {k: n for k, n in outcomes.items() if n},
        "arrests": outcomes["engaged-arrest"],
        "time_to_alert_ms": {"p50": _percentile(times_to_alert, 50), "p95": _percentile(times_to_alert, 95)},
        "false_alerts_per_100k": _rate(summed["false_alerts"], summed["faces_seen"]),
    }


@service
class DeploymentStatistics(UseCases):
    """Part of DeploymentService (the doors reach it as `app.deployments.statistics`, ...)."""

    use_case_prefix = "deployments"  # refusals name their use case "deployments.<method>", as the doors call it

    engine: Callable[[], FaceEngine]  # the model card's predictions
    cameras: CameraSupervisor  # the runs in this process

    def statistics(
        self, principal: Principal, name: str | None = None, *, since: str | date | None = None,
        until: str | date | None = None,
    ) -> list[dict]:  # fmt: skip
        """Faces seen, alerts and what became of them, time to alert, the false-alert rate against the
        threshold's prediction: one deployment, or all of them (newest first), or those that went live in a
        period. A run in progress here adds its live counters to the stored ones."""
        principal.require(Permission.STATS_READ)
        start, end = period(since, until)
        with self.db().read() as session:
            return [self._statistics_row(session, d) for d in self._counted(session, name, start, end)]

    def statistics_report(
        self, principal: Principal, *, since: str | date | None = None, until: str | date | None = None
    ) -> dict:
        """The statistics page: the period, one row per deployment counted in it, and the totals."""
        principal.require(Permission.STATS_READ)
        start, end = period(since, until)
        with self.db().read() as session:
            return self._report(session, start, end)

    def export_statistics(
        self, principal: Principal, *, since: str | date | None = None, until: str | date | None = None
    ) -> StatisticsExport:
        """The statistics page's table as CSV; the export is recorded in the transaction that reads it."""
        principal.require(Permission.STATS_READ)
        start, end = period(since, until)
        with self.db().transaction() as session:
            report = self._report(session, start, end)
            given = {f"filter_{k}": report[k] for k in ("from", "to") if report[k]}
            audit.record(
                session,
                principal.username,
                events.StatisticsExport(format="csv", deployments=len(report["rows"]), **given),
                "statistics",
            )
        days = "-to-".join(d.isoformat() for d in (start, end) if d)
        return StatisticsExport(as_csv(report), f"openfr-statistics{'-' + days if days else ''}.csv")

    def _report(self, session: Session, start: date | None, end: date | None) -> dict:
        counted = self._counted(session, None, start, end)
        rows = [self._statistics_row(session, d) for d in counted]
        ids = [d.id for d in counted]
        times = list(session.scalars(select(Alert.time_to_alert_ms).where(Alert.deployment_id.in_(ids)))) if ids else []
        return {
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
            "rows": rows,
            "totals": totals(rows, times),
        }

    def _counted(self, session: Session, name: str | None, start: date | None, end: date | None) -> list[Deployment]:
        if name:
            candidates = [lifecycle.get(session, name)]
        else:
            candidates = list(session.scalars(select(Deployment).order_by(Deployment.id.desc())))
        if start is None and end is None:
            return candidates
        low = datetime.combine(start, time.min, UTC) if start else None
        # `to` includes its own day (the last day there is has no day after it: no upper bound then).
        high = datetime.combine(end + timedelta(days=1), time.min, UTC) if end and end < date.max else None
        return [
            d
            for d in candidates
            if d.live_at is not None
            and (low is None or aware(d.live_at) >= low)
            and (high is None or aware(d.live_at) < high)
        ]

    def _statistics_row(self, session: Session, d: Deployment) -> dict:
        # A run here reports its live counters; one elsewhere, its last checkpoint.
        row = alerting.statistics(session, d, self.cameras.current_run(d))
        states = dict(
            session.execute(
                select(Alert.state, func.count()).where(Alert.deployment_id == d.id).group_by(Alert.state)
            ).all()
        )
        faces, false = row["faces_seen"], row["false_alerts"]
        # What the threshold predicts for this watchlist (known once authorised) and this many people.
        card, subjects = self.engine().card, d.watchlist_size
        per = None if subjects is None else expected_false_alerts(card, d.threshold, max(subjects, 1), PER)
        expected = None if per is None else per * faces / PER
        row.update(
            went_live=aware(d.live_at).date().isoformat() if d.live_at else None,
            awaiting_decision=states.get("pending", 0) + states.get("awaiting-second", 0),
            superseded=states.get("superseded", 0),
            engagements=sum(n for k, n in row["outcomes"].items() if k.startswith("engaged")),
            false_alerts_per_100k=_rate(false, faces),
            expected_false_alerts_per_100k=None if per is None else round(per, 2),
            flagged=None if expected is None or not faces else unlikely_by_chance(false, expected),
        )
        return row
