"""The dashboard (what needs attention, by role) and the published statistics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from openfr.governance.permissions import Permission
from openfr.services.reports import as_csv, parse_day
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


@router.get("/statistics")
def statistics(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    """Per deployment: faces seen, alerts, how many were confirmed or false, outcomes and time to alert, the
    figures a force publishes after each deployment."""
    return render(request, "statistics.html", me, rows=app.deployments.statistics(me))


def _report(app, me, since: str | None, until: str | None, public: bool) -> dict:
    return app.reports.transparency(me, since=parse_day(since, "from"), until=parse_day(until, "to"), public=public)


@router.get("/reports/transparency")
def transparency(
    request: Request, me: ConsoleUser, app: AppDep, since: str | None = None, until: str | None = None,
    public: bool = False,
) -> Response:  # fmt: skip
    """The transparency report, printable; the public version has no personal data."""
    report = _report(app, me, since, until, public)
    return render(request, "transparency.html", me, report=report, q={"since": since, "until": until})


@router.get("/reports/transparency.csv")
def transparency_csv(
    me: ConsoleUser, app: AppDep, since: str | None = None, until: str | None = None, public: bool = False
) -> Response:
    headers = {"Content-Disposition": 'attachment; filename="transparency.csv"'}
    return PlainTextResponse(as_csv(_report(app, me, since, until, public)), media_type="text/csv", headers=headers)
