"""Deployments in the console: plan one, authorise it (someone else), start and stop its cameras, close it,
and read its statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from openfr.errors import BadInputError
from openfr.gallery.repository import gallery_stats
from openfr.governance.permissions import Permission
from openfr.live import alerts, deployments
from openfr.live.setup import video_files, video_folder
from openfr.store import Alert, Deployment
from openfr.store.live import CATEGORIES, NOTICES
from openfr.web.deps import AuthUser, Db, ServicesDep
from openfr.web.pages import render
from openfr.web.routes.live import NewDeployment, close_now, create_from_form
from openfr.web.sessions import Allow, ConsoleUser, can

router = APIRouter(include_in_schema=False)


def _get(session, name: str) -> Deployment:
    try:
        return deployments.get(session, name)
    except BadInputError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


# Outcomes shown after a redirect travel as codes, never as text in the URL (no content spoofing by link).
DONE = {
    "created": "Created. Another officer must now authorise it.",
    "authorised": "Authorised; the watchlist snapshot is frozen.",
    "started": "Running. Alerts appear in the live console.",
    "stopped": "Stopped.",
    "closed": "Closed. The watchlist snapshot will be erased on schedule.",
}


def _back(name: str, done: str) -> Response:
    return RedirectResponse(f"/deployments/{name}?done={done}", status_code=303)


@router.get("/deployments", dependencies=[Depends(Allow(Permission.DEPLOYMENT_READ))])
def listing(request: Request, user: ConsoleUser, session: Db, services: ServicesDep) -> Response:
    rows = session.scalars(select(Deployment).order_by(Deployment.id.desc())).all()
    return render(request, "deployments.html", user, rows=[(d, services.live.is_running(d.id)) for d in rows])


def _form(
    request: Request, user: AuthUser, session, services, status_code: int = 200, error: str = "", **values
) -> Response:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    defaults = {
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
        "threshold": f"{services.engine.threshold:.3f}",
        "categories": [],
        "notices": {},
    }
    return render(
        request,
        "deployment_new.html",
        user,
        status_code,
        v={**defaults, **values},
        categories=CATEGORIES,
        notice_kinds=NOTICES,
        galleries=[g["name"] for g in gallery_stats(session)],
        videos=video_files(services.settings, services.home),
        video_folder=video_folder(services.settings, services.home),
        calibrated=services.engine.threshold,
        error=error,
    )


@router.get("/deployments/new", dependencies=[Depends(Allow(Permission.DEPLOYMENT_CREATE))])
def new(request: Request, user: ConsoleUser, session: Db, services: ServicesDep) -> Response:
    return _form(request, user, session, services)


@router.post("/deployments")
async def create(
    request: Request,
    session: Db,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Allow(Permission.DEPLOYMENT_CREATE))],
) -> Response:
    form = await request.form()
    text = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    categories = [str(c) for c in form.getlist("categories")]
    notices = {k: text.get(f"notice_{k}", "").strip() for k in NOTICES if text.get(f"notice_{k}", "").strip()}
    cameras = {
        text.get(f"camera_name_{i}", "").strip(): text.get(f"camera_source_{i}", "").strip()
        for i in range(4)
        if text.get(f"camera_source_{i}", "").strip()
    }
    values = {**text, "categories": categories, "notices": notices}
    try:
        if any(not name for name in cameras):
            raise BadInputError("every camera needs a name")
        body = NewDeployment(
            name=text.get("name", "").strip(),
            grounds=text.get("grounds", ""),
            categories=categories,
            source_gallery=text.get("source_gallery", ""),
            location=text.get("location", ""),
            location_rationale=text.get("location_rationale", ""),
            starts_at=_utc(text.get("starts_at", "")),
            ends_at=_utc(text.get("ends_at", "")),
            cameras=cameras,
            threshold=float(text["threshold"]) if text.get("threshold") else None,
            consistent_shots=int(text.get("consistent_shots") or 1),
            public_notice=notices,
        )
        with session.begin_nested():
            deployment = create_from_form(services, session, body, user.username)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _form(request, user, session, services, 400, error=problems, **values)
    except (BadInputError, ValueError) as exc:
        return _form(request, user, session, services, 400, error=str(exc), **values)
    return _back(deployment.name, "created")


def _utc(text: str) -> datetime | None:
    """The form's datetime-local fields are UTC (labelled so on the form)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if text.strip() else None


@router.get("/deployments/{name}", dependencies=[Depends(Allow(Permission.DEPLOYMENT_READ))])
def detail(
    name: str, request: Request, user: ConsoleUser, session: Db, services: ServicesDep, done: str = ""
) -> Response:
    return _show(request, user, session, services, name, DONE.get(done, ""))


def _show(request, user, session, services, name: str, message: str = "", error: str = "", code: int = 200):
    d = _get(session, name)
    running = services.live.live_counters(d.id)
    stats = alerts.statistics(session, d, running) if can(user, Permission.STATS_READ) else None
    recent = []
    if can(user, Permission.ALERT_READ):
        query = select(Alert).where(Alert.deployment_id == d.id).order_by(Alert.id.desc()).limit(50)
        recent = [alerts.alert_summary(a) for a in session.scalars(query)]
    run = services.live.last_result(d.id)
    return render(
        request,
        "deployment.html",
        user,
        code,
        d=d,
        running=services.live.is_running(d.id),
        run_error=run.error if run else None,
        stats=stats,
        recent=recent,
        watchlist_size=len(d.entries),
        message=message,
        error=error,
    )


@router.post("/deployments/{name}/authorise")
def authorise(
    name: str,
    request: Request,
    session: Db,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Allow(Permission.DEPLOYMENT_AUTHORISE))],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    d = _get(session, name)
    try:
        with session.begin_nested():
            deployments.authorise(session, services.home, d, user.username, note, services.engine.space)
    except BadInputError as exc:
        return _show(request, user, session, services, name, error=f"Not authorised: {exc}", code=409)
    return _back(name, "authorised")


@router.post("/deployments/{name}/start")
def start(
    name: str,
    request: Request,
    session: Db,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Allow(Permission.DEPLOYMENT_RUN))],
) -> Response:
    try:
        services.live.start(name, user.username)
    except BadInputError as exc:
        return _show(request, user, session, services, name, error=f"Not started: {exc}", code=409)
    return _back(name, "started")


@router.post("/deployments/{name}/stop")
def stop(
    name: str,
    request: Request,
    session: Db,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Allow(Permission.DEPLOYMENT_RUN))],
) -> Response:
    try:
        services.live.stop(name, user.username)
    except BadInputError as exc:
        return _show(request, user, session, services, name, error=f"Not stopped: {exc}", code=409)
    return _back(name, "stopped")


@router.post("/deployments/{name}/close")
def close(
    name: str,
    session: Db,
    services: ServicesDep,
    user: Annotated[AuthUser, Depends(Allow(Permission.DEPLOYMENT_CLOSE))],
    reason: Annotated[str, Form(min_length=1, max_length=5000)],
) -> Response:
    close_now(services, session, name, reason, user.username)
    return _back(name, "closed")
