"""The dashboard (what needs attention, by role) and the published statistics."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response
from markupsafe import Markup

from openfr.errors import BadInputError
from openfr.governance.permissions import Permission
from openfr.services.reports import as_csv, parse_day
from openfr.web.charts import Bar, Measure, Series, against_expected, number, stacked_bars
from openfr.web.deps import AppDep
from openfr.web.pages import render
from openfr.web.sessions import ConsoleUser

router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    """Each role sees the cards its permissions allow (any signed-in user may open the dashboard)."""
    context: dict = {}
    if me.may(Permission.DEPLOYMENT_READ):
        context["deployments"] = sorted(app.deployments.list(me, open_only=True), key=lambda d: d.starts_at)
    if me.may(Permission.DEPLOYMENT_AUTHORISE):
        context["awaiting"] = app.deployments.awaiting_authorisation(me)  # never the officer's own plans
    if me.may(Permission.ALERT_READ):
        context["pending"] = app.alerts.pending_count(me)
    if me.may(Permission.GALLERY_READ):
        context["galleries"] = app.galleries.list(me)
    if me.may(Permission.AUDIT_READ):
        context["audit_head"] = app.audit.head(me)
    if me.may(Permission.USERS_MANAGE) and me.may(Permission.STATS_READ):
        # Administrators are told when a camera's false alerts exceed what the threshold predicts.
        context["flagged"] = [row for row in app.reports.monitoring(me) if row["flagged"]]
    return render(request, "dashboard.html", me, **context)


FromDay = Annotated[str | None, Query(alias="from", description="First day (YYYY-MM-DD, UTC).")]
ToDay = Annotated[str | None, Query(alias="to", description="Last day, included (YYYY-MM-DD, UTC).")]
ALERT_KINDS = (
    Series("confirmed", "Confirmed"),
    Series("false", "False"),
    Series("awaiting", "Awaiting decision", "awaiting"),
    Series("superseded", "Superseded"),
)


@router.get("/statistics")
def statistics(request: Request, me: ConsoleUser, app: AppDep, since: FromDay = None, until: ToDay = None) -> Response:
    """Per deployment and in total over a period of days: faces seen, alerts, how many were confirmed or
    false, outcomes and time to alert, the figures a force publishes; as charts and as a table. A period
    that is not one says so (400), with the form to correct it and nothing else."""
    q = {"from": since or "", "to": until or ""}
    try:
        report = app.deployments.statistics_report(me, since=since, until=until)
    except BadInputError as exc:
        return render(request, "statistics.html", me, 400, q=q, period_error=str(exc))  # beside the form
    given = urlencode({k: v for k, v in q.items() if v})
    return render(
        request, "statistics.html", me, q=q, report=report, rows=report["rows"], stats_totals=report["totals"],
        charts=_statistics_charts(report), csv_href="/statistics.csv" + (f"?{given}" if given else ""),
    )  # fmt: skip


@router.get("/statistics.csv")
def statistics_csv(me: ConsoleUser, app: AppDep, since: FromDay = None, until: ToDay = None) -> Response:
    """The statistics table for the period, as the page shows it; the download is recorded."""
    export = app.deployments.export_statistics(me, since=since, until=until)
    headers = {"Content-Disposition": f'attachment; filename="{export.filename}"', "Cache-Control": "no-store"}
    return PlainTextResponse(export.csv, media_type="text/csv", headers=headers)


def _statistics_charts(report: dict) -> dict[str, Markup]:
    """Alerts split by what became of them, and the false-alert rate against the threshold's prediction."""
    rows, t = report["rows"], report["totals"]
    bars = [
        Bar(r["deployment"], (r["confirmed"], r["false_alerts"], r["awaiting_decision"], r["superseded"])) for r in rows
    ]
    alerts_title = (
        f"Alerts per deployment: {t['alerts']} in {t['deployments']} deployment(s); {t['confirmed']} confirmed, "
        f"{t['false_alerts']} false, {t['awaiting_decision']} awaiting decision, {t['superseded']} superseded."
    )
    measures = [
        Measure(r["deployment"], r["false_alerts_per_100k"], r["expected_false_alerts_per_100k"],
                bool(r["flagged"]), note="no people seen")
        for r in rows
    ]  # fmt: skip
    flagged = [r["deployment"] for r in rows if r["flagged"]]
    overall = "no people seen" if t["false_alerts_per_100k"] is None else number(t["false_alerts_per_100k"])
    rate_title = (
        f"False alerts per 100,000 people seen, per deployment, against what the threshold predicts: {overall} "
        f"over the period; {len(flagged)} deployment(s) flagged as too many to be chance"
        + (f" ({', '.join(flagged)})." if flagged else ".")
    )
    return {
        "alerts": stacked_bars("chart-alerts", alerts_title, ALERT_KINDS, bars),
        "rates": against_expected(
            "chart-rates", rate_title, measures, expected_label="Expected at the threshold (per 100,000)"
        ),
    }


def _report(app, me, since: str | None, until: str | None, public: bool, fmt: str) -> dict:
    period = {"since": parse_day(since, "from"), "until": parse_day(until, "to")}
    return app.reports.transparency(me, **period, public=public, fmt=fmt)


@router.get("/reports/transparency")
def transparency(
    request: Request, me: ConsoleUser, app: AppDep, since: str | None = None, until: str | None = None,
    public: bool = False,
) -> Response:  # fmt: skip
    """The transparency report, printable; the public version has no personal data."""
    report = _report(app, me, since, until, public, "html")
    return render(request, "transparency.html", me, report=report, q={"since": since, "until": until})


@router.get("/reports/transparency.csv")
def transparency_csv(
    me: ConsoleUser, app: AppDep, since: str | None = None, until: str | None = None, public: bool = False
) -> Response:
    headers = {"Content-Disposition": 'attachment; filename="transparency.csv"'}
    return PlainTextResponse(
        as_csv(_report(app, me, since, until, public, "csv")), media_type="text/csv", headers=headers
    )
