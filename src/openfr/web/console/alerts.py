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

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from openfr.bus.inprocess import Subscription
from openfr.errors import BadInputError, NotFoundError
from openfr.governance.accounts import TokenKind
from openfr.governance.permissions import Permission
from openfr.services import Principal
from openfr.store.live import OUTCOMES
from openfr.web.deps import AppDep
from openfr.web.pages import csrf_token, render, templates
from openfr.web.sessions import COOKIE, ConsoleUser

router = APIRouter(include_in_schema=False)
SESSION_CHECK_S = 15.0  # how long an open stream may outlive its session


@router.get("/console")
def console(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    pending, recent = app.alerts.queue(me)
    live = [d for d in app.deployments.list(me, open_only=True) if d.state == "live"]
    return render(
        request,
        "console.html",
        me,
        live=sorted(live, key=lambda d: d.name),
        pending=pending,
        recent=recent,
        outcomes=OUTCOMES,
    )


async def alert_feed(me: ConsoleUser, app: AppDep) -> AsyncIterator[tuple[Subscription, asyncio.Event]]:
    """The live feed, subscribed before the response starts (a role that may not read alerts gets 403, not a
    broken stream); the bus wakes the stream from the publisher's thread: no polling, no thread held."""
    loop, wake = asyncio.get_running_loop(), asyncio.Event()
    subscription = app.alerts.subscribe(me, notify=lambda: loop.call_soon_threadsafe(wake.set))
    try:
        yield subscription, wake
    finally:
        subscription.close()


@router.get("/console/events", response_class=EventSourceResponse)
async def events(
    request: Request,
    me: ConsoleUser,
    app: AppDep,
    feed: Annotated[tuple[Subscription, asyncio.Event], Depends(alert_feed)],
) -> AsyncIterator[ServerSentEvent]:
    """New alerts as rendered cards (event `alert`, id = alert id) and camera health (event `health`).
    A reconnecting browser sends Last-Event-ID and first receives the alerts it missed. The stream ends
    within SESSION_CHECK_S of the session ending (sign-out, expiry, account disabled)."""
    subscription, wake = feed
    token, checked = request.cookies.get(COOKIE, ""), time.monotonic()
    last = request.headers.get("last-event-id", "")
    if last.isdigit():
        for summary in await run_in_threadpool(app.alerts.since, me, int(last)):
            yield _card_event(request, me, summary)
    while True:
        if time.monotonic() - checked > SESSION_CHECK_S:
            if await run_in_threadpool(app.accounts.principal_for_token, token, TokenKind.WEB) is None:
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
            yield _card_event(request, me, event.data)
        elif event.topic in ("camera.health", "deployment.live", "deployment.stopped"):
            html = templates.get_template("_health.html").render(topic=event.topic, data=event.data, at=event.at)
            yield ServerSentEvent(raw_data=html.replace("\n", " "), event="health")


def _card_event(request: Request, me: Principal, summary: dict) -> ServerSentEvent:
    html = _card_html(request, me, summary)
    return ServerSentEvent(raw_data=html.replace("\n", " "), event="alert", id=str(summary["id"]))


def _card_html(request: Request, me: Principal, summary: dict, error: str = "") -> str:
    return templates.get_template("_alert_card.html").render(
        a=summary,
        outcomes=OUTCOMES,
        can_decide=me.may(Permission.ALERT_ADJUDICATE),
        csrf=csrf_token(request),
        error=error,
    )


@router.post("/alerts/{alert_id}/decision")
def decide(
    alert_id: int,
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    decision: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    if decision not in ("confirmed", "rejected"):
        raise BadInputError("decision must be confirmed or rejected")
    return _act(
        request,
        app,
        me,
        alert_id,
        lambda: app.alerts.decide(me, alert_id, confirmed=decision == "confirmed", note=note),
    )


@router.post("/alerts/{alert_id}/outcome")
def outcome(
    alert_id: int,
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    outcome: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    return _act(request, app, me, alert_id, lambda: app.alerts.outcome(me, alert_id, outcome, note))


def _act(request: Request, app, me: Principal, alert_id: int, action) -> Response:
    """Run the action and answer with the updated card; a refused action shows why on the card."""
    try:
        summary, error = action(), ""
    except NotFoundError:
        raise
    except BadInputError as exc:
        summary, error = app.alerts.get(me, alert_id), str(exc)
    return Response(_card_html(request, me, summary, error), media_type="text/html")


@router.get("/alerts/{alert_id}/crop.jpg")
def crop(alert_id: int, app: AppDep, me: ConsoleUser) -> Response:
    return _private_file(app.alerts.image(me, alert_id, "crop"))


@router.get("/alerts/{alert_id}/watchlist.jpg")
def watchlist_image(alert_id: int, app: AppDep, me: ConsoleUser) -> Response:
    """The watchlist image the alert matched, from the deployment's snapshot (gone once it is erased)."""
    return _private_file(app.alerts.image(me, alert_id, "watchlist"))


def _private_file(path) -> Response:
    return FileResponse(path, headers={"Cache-Control": "no-store, private"})
