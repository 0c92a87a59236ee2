"""The dashboard (what needs attention, by role) and the published statistics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from openfr.governance import audit
from openfr.governance.permissions import Permission
from openfr.live import alerts
from openfr.store import Alert, Deployment
from openfr.web.deps import Db, ServicesDep
from openfr.web.pages import render
from openfr.web.sessions import Allow, ConsoleUser, can

router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard(request: Request, user: ConsoleUser, session: Db, services: ServicesDep) -> Response:
    context: dict = {}
    if can(user, Permission.DEPLOYMENT_READ):
        rows = session.scalars(select(Deployment).where(Deployment.state != "closed").order_by(Deployment.starts_at))
        context["deployments"] = [(d, services.live.is_running(d.id)) for d in rows]
    if can(user, Permission.ALERT_READ):
        context["pending"] = session.scalar(select(func.count()).where(Alert.state == "pending"))
    if can(user, Permission.GALLERY_READ):
        from openfr.gallery.repository import gallery_stats

        context["galleries"] = gallery_stats(session)
    if can(user, Permission.AUDIT_READ):
        context["audit_head"] = audit.head(session)
    return render(request, "dashboard.html", user, **context)


@router.get("/statistics", dependencies=[Depends(Allow(Permission.STATS_READ))])
def statistics(request: Request, user: ConsoleUser, session: Db, services: ServicesDep) -> Response:
    """Per deployment: faces seen, alerts, how many were confirmed or false, outcomes and time to alert, the
    figures a force publishes after each deployment."""
    query = select(Deployment).order_by(Deployment.id.desc())
    rows = [alerts.statistics(session, d, services.live.live_counters(d.id)) for d in session.scalars(query)]
    return render(request, "statistics.html", user, rows=rows)
