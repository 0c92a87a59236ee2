"""Transparency reports and false-alert monitoring: what forces publish about live deployments.

A row per deployment, in the columns the Metropolitan Police publishes: date, location, hours, watchlist
size, faces seen, alerts, confirmed, false alerts, engagements, arrests and the false-alert rate. Faces seen
are *people* (tracks), not detections: one passer-by is seen in dozens of frames. A false alert is one the
operator rejected, or one confirmed and then found on engagement not to be the person. The public version
drops everything about people (officers' names, grounds, cameras): it is meant to be published as it is.

Monitoring compares each deployment's and camera's false alerts with what the threshold predicts for that
watchlist size and that many faces (the pack's identification calibration), and flags a camera whose count
is too high to be chance (Poisson, p < 0.01): a badly placed camera, a poor light, a watchlist image of low
quality, or a threshold that is wrong for this population.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from openfr.csvsafe import to_csv
from openfr.engine.pipeline import FaceEngine
from openfr.errors import BadInputError
from openfr.governance import audit, events
from openfr.governance.permissions import Permission
from openfr.live.lifecycle import aware, now_utc
from openfr.live.supervisor import CameraSupervisor
from openfr.services.principal import Principal
from openfr.services.refusals import UseCases, service
from openfr.store import Alert, Deployment
from openfr.thresholds import expected_false_alerts

PUBLIC_COLUMNS = (
    "date", "location", "hours", "watchlist_size", "faces_seen", "alerts", "confirmed", "false_alerts",
    "engagements", "arrests", "false_alert_rate",
)  # fmt: skip
INTERNAL_COLUMNS = ("deployment", *PUBLIC_COLUMNS, "threshold", "expected_false_alerts", "flagged", "authorised_by")
FLAG_P = 0.01  # how unlikely a false-alert count must be under the calibration to be flagged


def _false(alert: Alert) -> bool:
    return alert.state == "rejected" or alert.outcome == "engaged-not-the-person"


def _cameras(d: Deployment, running: dict[str, dict]) -> dict[str, int]:
    """People seen (tracks) per camera: stored counters plus a run in progress."""
    tracks = {label: int(c.get("tracks", 0)) for label, c in (d.counters or {}).items()}
    for label, now in running.items():
        tracks[label] = tracks.get(label, 0) + int(now.get("tracks", 0))
    return tracks


def _flagged(observed: int, expected: float | None) -> bool:
    if expected is None or observed < 2:
        return False
    from scipy.stats import poisson  # a second of import: only when a report flags, not at every start

    return float(poisson.sf(observed - 1, max(expected, 1e-9))) < FLAG_P


def unlikely_by_chance(observed: int, expected: float | None) -> bool:
    """Whether `observed` false alerts are too many to be chance when the calibration expects `expected`
    (the monitoring flag; the statistics page marks deployments with it too)."""
    return _flagged(observed, expected)


REPORT_FORMATS = ("json", "csv", "table", "html")  # how a transparency report leaves openfr (recorded)


@service
class ReportService(UseCases):
    use_case_prefix = "reports"  # refusals name their use case "reports.<method>"

    engine: Callable[[], FaceEngine]  # the model card's predictions
    cameras: CameraSupervisor  # the runs in this process

    def transparency(
        self,
        principal: Principal,
        *,
        since: date | None = None,
        until: date | None = None,
        deployment: str | None = None,
        public: bool = False,
        fmt: str = "json",
    ) -> dict:
        """Rows (one per deployment that went live in the period, `until` inclusive) and totals. Every report
        produced is recorded (who, the period, public or not, `fmt`: the form it leaves in), so a copy of the
        internal version, which names officers, can always be traced."""
        principal.require(Permission.STATS_READ)
        if fmt not in REPORT_FORMATS:
            raise BadInputError(f"format must be one of {', '.join(REPORT_FORMATS)}")
        if since and until and until < since:
            raise BadInputError("the period ends before it starts")
        start = datetime.combine(since, time.min, UTC) if since else None
        end = datetime.combine(until + timedelta(days=1), time.min, UTC) if until else None
        with self.db().read() as session:
            query = select(Deployment).where(Deployment.live_at.is_not(None)).order_by(Deployment.live_at)
            if deployment:
                query = query.where(Deployment.name == deployment)
            rows = []
            for d in session.scalars(query):
                if (start and aware(d.live_at) < start) or (end and aware(d.live_at) >= end):
                    continue
                alerts = session.scalars(select(Alert).where(Alert.deployment_id == d.id)).all()
                rows.append(self._row(d, alerts))
        columns = PUBLIC_COLUMNS if public else INTERNAL_COLUMNS
        rows = [{c: row[c] for c in columns} for row in rows]
        summed = ("hours", "faces_seen", "alerts", "confirmed", "false_alerts", "engagements", "arrests")
        totals = {c: round(sum(r[c] for r in rows), 2) for c in summed}
        totals["false_alert_rate"] = totals["false_alerts"] / totals["faces_seen"] if totals["faces_seen"] else None
        with self.db().transaction() as session:
            audit.record(
                session,
                principal.username,
                events.ReportExport(
                    format=fmt,
                    public=public,
                    since=since.isoformat() if since else None,
                    until=until.isoformat() if until else None,
                    deployment=deployment,
                    rows=len(rows),
                ),
                "report:transparency",
            )
        return {"columns": list(columns), "rows": rows, "totals": totals, "public": public}

    def _row(self, d: Deployment, alerts: list[Alert]) -> dict:
        ended = aware(d.closed_at) if d.closed_at else min(now_utc(), aware(d.ends_at))
        faces = sum(_cameras(d, self.cameras.current_run(d)).values())
        false = sum(_false(a) for a in alerts)
        subjects = d.watchlist_size or 0
        expected = expected_false_alerts(self.engine().card, d.threshold, max(subjects, 1), faces)
        return {
            "deployment": d.name,
            "date": aware(d.live_at).date().isoformat(),
            "location": d.location,
            "hours": round(max((ended - aware(d.live_at)).total_seconds(), 0) / 3600, 2),
            "watchlist_size": subjects,
            "faces_seen": faces,
            "alerts": len(alerts),
            "confirmed": sum(a.state == "confirmed" and not _false(a) for a in alerts),
            "false_alerts": false,
            "engagements": sum((a.outcome or "").startswith("engaged") for a in alerts),
            "arrests": sum(a.outcome == "engaged-arrest" for a in alerts),
            "false_alert_rate": false / faces if faces else None,
            "threshold": d.threshold,
            "expected_false_alerts": None if expected is None else round(expected, 3),
            "flagged": _flagged(false, expected),
            "authorised_by": d.authorised_by,
        }

    def monitoring(self, principal: Principal) -> list[dict]:
        """Per deployment and camera: people seen, false alerts, what the calibration expects, and a flag
        when the count is too high to be chance (shown to administrators on the dashboard)."""
        principal.require(Permission.STATS_READ)
        out = []
        with self.db().read() as session:
            for d in session.scalars(select(Deployment).where(Deployment.live_at.is_not(None))):
                alerts = session.scalars(select(Alert).where(Alert.deployment_id == d.id)).all()
                for camera, faces in sorted(_cameras(d, self.cameras.current_run(d)).items()):
                    false = sum(_false(a) for a in alerts if a.camera == camera)
                    n = max(d.watchlist_size or 0, 1)
                    expected = expected_false_alerts(self.engine().card, d.threshold, n, faces)
                    out.append(
                        {
                            "deployment": d.name,
                            "camera": camera,
                            "faces_seen": faces,
                            "false_alerts": false,
                            "expected_false_alerts": None if expected is None else round(expected, 3),
                            "flagged": _flagged(false, expected),
                        }
                    )
        return out


def as_csv(report: dict) -> str:
    """The report as CSV, formula-safe (a location is free text)."""
    return to_csv(report["columns"], ([row[c] for c in report["columns"]] for row in report["rows"]))


def parse_day(text: str | None, what: str) -> date | None:
    """A YYYY-MM-DD day from a door, or a clear error."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInputError(f"{what}: not a date (YYYY-MM-DD): {text!r}") from None
