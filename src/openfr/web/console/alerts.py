"""The live alert console: alerts pushed by server-sent events as soon as they are stored, each shown with
the live face crop beside the watchlist image, and the operator's decision and outcome recorded.

The stream carries rendered cards (htmx swaps them in); the images are fetched separately, behind the same
permission, and are never cached by the browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import FileResponse, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from openfr.errors import BadInputError
from openfr.governance.permissions import Permission, allowed
from openfr.live import alerts
from openfr.store import Alert, Deployment, WatchlistEntry
from openfr.store.live import OUTCOMES
from openfr.web.deps import AuthUser, Db, ServicesDep
from openfr.web.pages import csrf_token, render, templates
from openfr.web.sessions import COOKIE, Allow, ConsoleUser

router = APIRouter(include_in_schema=False)
SESSION_CHECK_S = 15.0  # how long an open stream may outlive its session
Operator = Annotated[AuthUser, Depends(Allow(Permission.ALERT_ADJUDICATE))]


@router.get("/console", dependencies=[Depends(Allow(Permission.ALERT_READ))])
def console(request: Request, user: ConsoleUser, session: Db, services: ServicesDep) -> Response:
    live = session.scalars(select(Deployment).where(Deployment.state == "live").order_by(Deployment.name)).all()
    pending = session.scalars(select(Alert).where(Alert.state == "pending").order_by(Alert.id.desc())).all()
    recent = session.scalars(select(Alert).where(Alert.state != "pending").order_by(Alert.id.desc()).limit(20)).all()
    return render(
        request,
        "console.html",
        user,
        live=[(d, services.live.is_running(d.id)) for d in live],
        pending=[alerts.alert_summary(a) for a in pending],
        recent=[alerts.alert_summary(a) for a in recent],
        outcomes=OUTCOMES,
    )


@router.get("/console/events", response_class=EventSourceResponse, dependencies=[Depends(Allow(Permission.ALERT_READ))])
async def events(request: Request, user: ConsoleUser, services: ServicesDep) -> AsyncIterator[ServerSentEvent]:
    """New alerts as rendered cards (event `alert`, id = alert id) and camera health (event `health`).
    A reconnecting browser sends Last-Event-ID and first receives the alerts it missed. The stream ends
    within SESSION_CHECK_S of the session ending (sign-out, expiry, account disabled)."""
    loop, wake = asyncio.get_running_loop(), asyncio.Event()
    token, checked = request.cookies.get(COOKIE, ""), time.monotonic()
    # The bus wakes this stream from the publisher's thread: no polling, no thread held per open console.
    subscription = services.bus.subscribe("", maxsize=500, notify=lambda: loop.call_soon_threadsafe(wake.set))
    try:
        last = request.headers.get("last-event-id", "")
        if last.isdigit():
            with services.db.transaction() as session:
                missed = session.scalars(select(Alert).where(Alert.id > int(last)).order_by(Alert.id)).all()
                for alert in missed:
                    yield _card_event(request, user, alerts.alert_summary(alert))
        while True:
            if time.monotonic() - checked > SESSION_CHECK_S:
                if not await run_in_threadpool(_still_signed_in, services, token):
                    return
                checked = time.monotonic()
            event = subscription.get(timeout=0)
            if event is None:
                wake.clear()
                if subscription.pending():  # published between the get and the clear
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), SESSION_CHECK_S)
                continue
            if event.topic == "alert.created":
                yield _card_event(request, user, event.data)
            elif event.topic in ("camera.health", "deployment.live", "deployment.stopped"):
                html = templates.get_template("_health.html").render(topic=event.topic, data=event.data, at=event.at)
                yield ServerSentEvent(raw_data=html.replace("\n", " "), event="health")
    finally:
        subscription.close()


def _still_signed_in(services, token: str) -> bool:
    from openfr.governance.accounts import user_for_token

    with services.db.transaction() as session:
        return user_for_token(session, token, web_session=True) is not None


def _card_event(request: Request, user: AuthUser, summary: dict) -> ServerSentEvent:
    html = _card_html(request, user, summary)
    return ServerSentEvent(raw_data=html.replace("\n", " "), event="alert", id=str(summary["id"]))


def _card_html(request: Request, user: AuthUser, summary: dict, error: str = "") -> str:
    return templates.get_template("_alert_card.html").render(
        a=summary,
        outcomes=OUTCOMES,
        can_decide=allowed(user.role, Permission.ALERT_ADJUDICATE),
        csrf=csrf_token(request),
        error=error,
    )


@router.post("/alerts/{alert_id}/decision")
def decide(
    alert_id: int,
    request: Request,
    session: Db,
    user: Operator,
    decision: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    if decision not in ("confirmed", "rejected"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "decision must be confirmed or rejected")
    return _act(
        request,
        session,
        user,
        alert_id,
        lambda: alerts.adjudicate(session, alert_id, confirmed=decision == "confirmed", user=user.username, note=note),
    )


@router.post("/alerts/{alert_id}/outcome")
def outcome(
    alert_id: int,
    request: Request,
    session: Db,
    user: Operator,
    outcome: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    return _act(
        request,
        session,
        user,
        alert_id,
        lambda: alerts.record_outcome(session, alert_id, outcome=outcome, user=user.username, note=note),
    )


def _act(request: Request, session, user: AuthUser, alert_id: int, action) -> Response:
    """Run the action and answer with the updated card; a refused action shows why on the card."""
    try:
        with session.begin_nested():
            alert = action()
        error = ""
    except BadInputError as exc:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}") from None
        error = str(exc)
    return Response(_card_html(request, user, alerts.alert_summary(alert), error), media_type="text/html")


@router.get("/alerts/{alert_id}/crop.jpg", dependencies=[Depends(Allow(Permission.ALERT_READ))])
def crop(alert_id: int, session: Db, services: ServicesDep) -> Response:
    alert = session.get(Alert, alert_id)
    if alert is None or not alert.crop_path:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such image")
    return _private_file(services.home / alert.crop_path)


@router.get("/alerts/{alert_id}/watchlist.jpg", dependencies=[Depends(Allow(Permission.ALERT_READ))])
def watchlist_image(alert_id: int, session: Db, services: ServicesDep) -> Response:
    """The watchlist image the alert matched, from the deployment's snapshot (gone once it is erased)."""
    alert = session.get(Alert, alert_id)
    entry = session.get(WatchlistEntry, alert.entry_id) if alert is not None and alert.entry_id else None
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the watchlist snapshot has been erased")
    return _private_file(services.home / entry.image_path)


def _private_file(path) -> Response:
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such image")
    return FileResponse(path, headers={"Cache-Control": "no-store, private"})
