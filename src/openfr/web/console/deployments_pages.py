"""Deployments in the console: plan one, authorise it (someone else, after seeing the watchlist it would take,
its threshold and cameras, and answering the checklist), start and stop its cameras, close it, and read its
statistics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from openfr.errors import BadInputError
from openfr.governance.permissions import Permission
from openfr.live.lifecycle import DeploymentPlan
from openfr.services import Principal
from openfr.services.authorisation import FACES_PAGE
from openfr.store.live_tables import NOTICES
from openfr.web.deps import AppDep, Grant, Page, RowId
from openfr.web.error_answers import status_for
from openfr.web.pages import render
from openfr.web.pictures import private_file
from openfr.web.sessions import ConsoleUser

router = APIRouter(include_in_schema=False)

# Outcomes shown after a redirect travel as codes, never as text in the URL (no content spoofing by link).
DONE = {
    "created": "Created. Another officer must now authorise it.",
    "authorised": "Authorised; the watchlist snapshot is frozen.",
    "started": "Running. Alerts appear in the live console.",
    "running": "It was running already.",
    "stopped": "Stopped.",
    "closed": "Closed. The watchlist snapshot will be erased on schedule.",
}
CAMERA_ROWS = 4


def _back(name: str, done: str) -> Response:
    return RedirectResponse(f"/deployments/{name}?done={done}", status_code=303)


@router.get("/deployments")
def listing(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    return render(request, "deployments.html", me, rows=app.deployments.list(me))


def _form(request: Request, me: Principal, app, status_code: int = 200, error: str = "", **values) -> Response:
    options = app.deployments.planning_options(me)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    defaults = {
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + options["window"]).strftime("%Y-%m-%dT%H:%M"),
        "threshold": "",
        "categories": [],
        "notices": {},
    }
    return render(request, "deployment_new.html", me, status_code, v={**defaults, **values}, error=error, **options)


@router.get("/deployments/new")
def new(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    return _form(request, me, app)


@router.post("/deployments")
async def create(request: Request, app: AppDep, me: ConsoleUser) -> Response:
    form = await request.form()
    text = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    categories = [str(c) for c in form.getlist("categories")]
    notices = {k: text.get(f"notice_{k}", "").strip() for k in NOTICES if text.get(f"notice_{k}", "").strip()}
    cameras = {
        text.get(f"camera_name_{i}", "").strip(): text.get(f"camera_source_{i}", "").strip()
        for i in range(CAMERA_ROWS)
        if text.get(f"camera_source_{i}", "").strip()
    }
    values = {**text, "categories": categories, "notices": notices}
    try:
        plan = DeploymentPlan(
            name=text.get("name", ""),
            grounds=text.get("grounds", ""),
            categories=categories,
            source_gallery=text.get("source_gallery", ""),
            location=text.get("location", ""),
            location_rationale=text.get("location_rationale", ""),
            cameras=cameras,
            public_notice=notices,
            starts_at=_utc(text.get("starts_at", ""), "start"),
            ends_at=_utc(text.get("ends_at", ""), "end"),
            threshold=_number(text.get("threshold", ""), "threshold", float),
            consistent_shots=_number(text.get("consistent_shots", ""), "consistent shots", int) or 1,
            two_person=text.get("two_person") == "1",
        )
        view = app.deployments.plan(me, plan)
    except BadInputError as exc:
        return _form(request, me, app, status_for(exc), error=str(exc), **values)
    return _back(view.name, "created")


def _utc(text: str, what: str) -> datetime | None:
    """The form's datetime-local fields are UTC (labelled so on the form)."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC) if text.strip() else None
    except ValueError:
        raise BadInputError(f"{what}: not a date and time ({text!r})") from None


def _number(text: str, what: str, kind: type):
    try:
        return kind(text) if text.strip() else None
    except ValueError:
        raise BadInputError(f"{what}: not a number ({text!r})") from None


@router.get("/deployments/{name}")
def detail(name: str, request: Request, me: ConsoleUser, app: AppDep, done: str = "") -> Response:
    return _show(request, me, app, name, DONE.get(done, ""))


def _show(
    request, me: Principal, app, name: str, message: str = "", error: str = "", code: int = 200, **answers
) -> Response:
    """The deployment's page; a plan awaiting authorisation also shows what authorising it would mean (and,
    to an officer who may authorise it, the checklist: `answers` refills it after a refusal)."""
    d = app.deployments.get(me, name)
    stats = app.deployments.statistics(me, name)[0] if me.may(Permission.STATS_READ) else None
    recent = app.alerts.of_deployment(me, name, limit=50) if me.may(Permission.ALERT_READ) else []
    preview = app.deployments.preview(me, name) if d.state == "draft" else None
    return render(
        request,
        "deployment.html",
        me,
        code,
        d=d,
        running=d.running,
        run_error=d.run_error,
        stats=stats,
        recent=recent,
        watchlist_size=d.watchlist_size,
        preview=preview,
        ticked=answers.get("ticked", set()),
        note=answers.get("note", ""),
        message=message,
        error=error,
    )


def _step(request, me: Principal, app, name: str, verb: str, action, **answers) -> Response:
    """Run one deployment step; a refusal shows its reason on the deployment's page."""
    try:
        done = action()
    except BadInputError as exc:
        return _show(request, me, app, name, error=f"Not {verb}: {exc}", code=status_for(exc), **answers)
    return _back(name, done)


@router.post("/deployments/{name}/authorise")
def authorise(
    name: str,
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    note: Annotated[str, Form(max_length=5000)] = "",
    checklist: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """The decision, with the checklist's ticked items (each box sends its item's key)."""
    answers = dict.fromkeys(checklist, True)
    return _step(
        request,
        me,
        app,
        name,
        "authorised",
        lambda: app.deployments.authorise(me, name, note, answers) and "authorised",
        ticked=set(checklist),
        note=note,
    )


@router.get("/deployments/{name}/watchlist")
def watchlist_faces(name: str, request: Request, me: ConsoleUser, app: AppDep, page: Page = 1) -> Response:
    """The faces of the people a plan would put on its watchlist, a page at a time, for the officer who may
    authorise it (each page and each image is recorded)."""
    faces = app.deployments.watchlist_faces(me, name, offset=(page - 1) * FACES_PAGE, limit=FACES_PAGE)
    pages = max(1, -(-faces["total"] // FACES_PAGE))
    return render(request, "deployment_watchlist.html", me, name=name, faces=faces, page=page, pages=pages)


@router.get("/deployments/{name}/watchlist/{image_id}")
def watchlist_face(name: str, image_id: RowId, me: ConsoleUser, app: AppDep, grant: Grant = None) -> Response:
    """One image on that watchlist, never cached; each look is recorded (with its page, through the grant)."""
    path = app.deployments.watchlist_face(me, name, image_id, grant=grant)
    return private_file(path)


@router.post("/deployments/{name}/start")
def start(name: str, request: Request, app: AppDep, me: ConsoleUser) -> Response:
    return _step(
        request, me, app, name, "started", lambda: "started" if app.deployments.start(me, name).started else "running"
    )


@router.post("/deployments/{name}/stop")
def stop(name: str, request: Request, app: AppDep, me: ConsoleUser) -> Response:
    return _step(request, me, app, name, "stopped", lambda: app.deployments.stop(me, name) or "stopped")


@router.post("/deployments/{name}/close")
def close(
    name: str, request: Request, app: AppDep, me: ConsoleUser, reason: Annotated[str, Form(max_length=5000)] = ""
) -> Response:
    return _step(request, me, app, name, "closed", lambda: app.deployments.close(me, name, reason) and "closed")
