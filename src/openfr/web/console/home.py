"""The dashboard (what needs attention, by role) and the published statistics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from openfr.governance.permissions import Permission
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
    return render(request, "dashboard.html", me, **context)


@router.get("/statistics")
def statistics(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    """Per deployment: faces seen, alerts, how many were confirmed or false, outcomes and time to alert, the
    figures a force publishes after each deployment."""
    return render(request, "statistics.html", me, rows=app.deployments.statistics(me))
