"""The live alert console: alerts pushed by server-sent events as soon as they are stored, each shown with
the scene frame, the live face crop and the watchlist image, and the operator's decision and outcome
recorded; the pending-alert counter every page shows to those who decide; the "Live:" line.

The stream carries rendered cards (static/alerts.js inserts them, with sound, notification and an
announcement); the images are fetched separately, behind the same permission, and are never cached by the
browser. A console that loses the stream says so, reconnects and asks for the alerts after the last one it
holds, so none is missed and none is shown twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from openfr.bus.inprocess import Subscription
from openfr.errors import BadInputError, NotFoundError
from openfr.governance.credentials import TokenKind
from openfr.governance.permissions import Permission
from openfr.services import Principal
from openfr.store.live_tables import OUTCOMES
from openfr.web.deps import AppDep, Grant, RowId
from openfr.web.pages import csrf_token, render, templates
from openfr.web.pictures import private_file
from openfr.web.sessions import COOKIE, ConsoleUser

router = APIRouter(include_in_schema=False)
# How long an open stream may outlive its session, and how often an idle stream sends a `ping` event: a
# console that hears nothing for three of these knows its stream is dead even if no error reached it.
SESSION_CHECK_S = 15.0


@router.get("/console")
def console(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    pending, recent = app.alerts.queue(me)
    shown = app.alerts.shown(me, pending + recent)  # one recorded view of every card on the page
    pending, recent = shown[: len(pending)], shown[len(pending) :]
    return render(
        request,
        "console.html",
        me,
        live=app.alerts.live_now(me),
        last_alert=app.alerts.latest_id(me),
        heartbeat_s=SESSION_CHECK_S,
        pending=pending,
        recent=recent,
        outcomes=OUTCOMES,
    )


@router.get("/console/live")
def live_line(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    """The "Live:" line alone, refreshed when a deployment starts or stops and every half minute."""
    return render(request, "_live_line.html", me, live=app.alerts.live_now(me))


@router.get("/alerts/pending")
def pending_badge(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    """The header's counter alone (polled by every page of those who decide; the title badge follows it)."""
    return render(request, "_pending_badge.html", me, pending_alerts=app.alerts.awaiting_decision(me))


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
    after: Annotated[int | None, Query(ge=0, lt=2**63)] = None,
) -> AsyncIterator[ServerSentEvent]:
    """New alerts as rendered cards (event `alert`, id = alert id), camera and deployment health (event
    `health`) and, when idle, `ping`. The alerts stored after `after` (the newest the page holds) or after
    Last-Event-ID (sent by a reconnecting browser), whichever is later, come first: the feed is subscribed
    before they are read, so none falls between, and none is sent twice. The stream ends within
    SESSION_CHECK_S of the session ending (sign-out, expiry, account disabled)."""
    subscription, wake = feed
    token, checked = request.cookies.get(COOKIE, ""), time.monotonic()
    header = request.headers.get("last-event-id", "")
    marks = [m for m in (after, int(header) if header.isdigit() and len(header) < 19 else None) if m is not None]
    replayed: set[int] = set()
    if marks:
        missed = await run_in_threadpool(app.alerts.since, me, max(marks))
        for view in await run_in_threadpool(app.alerts.shown, me, missed):
            replayed.add(view["id"])
            yield _card_event(request, me, view)
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
            try:
                await asyncio.wait_for(wake.wait(), SESSION_CHECK_S)
            except TimeoutError:
                yield ServerSentEvent(event="ping", data="")
            continue
        if event.topic == "alert.created":
            if event.data["id"] in replayed:
                continue  # stored after the subscription and before the replay read it: sent already
            with contextlib.suppress(NotFoundError):  # purged since: nothing to show
                view = await run_in_threadpool(app.alerts.get, me, event.data["id"])
                (card,) = await run_in_threadpool(app.alerts.shown, me, [view])
                yield _card_event(request, me, card)
        elif event.topic in ("camera.health", "deployment.live", "deployment.stopped"):
            html = templates.get_template("_health.html").render(topic=event.topic, data=event.data, at=event.at)
            yield ServerSentEvent(raw_data=html.replace("\n", " "), event="health")


def _card_event(request: Request, me: Principal, view: dict) -> ServerSentEvent:
    html = _card_html(request, me, view)
    return ServerSentEvent(raw_data=html.replace("\n", " "), event="alert", id=str(view["id"]))


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
    alert_id: RowId,
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
    alert_id: RowId,
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
    (card,) = app.alerts.shown(me, [summary])
    return Response(_card_html(request, me, card, error), media_type="text/html")


@router.get("/alerts/{alert_id}/crop.jpg")
def crop(alert_id: RowId, app: AppDep, me: ConsoleUser, grant: Grant = None) -> Response:
    return private_file(app.alerts.image(me, alert_id, "crop", grant=grant))


@router.get("/alerts/{alert_id}/scene.jpg")
def scene(alert_id: RowId, app: AppDep, me: ConsoleUser, grant: Grant = None) -> Response:
    """The frame the alert was raised on, scaled down: the matched face outlined, every other face pixelated."""
    return private_file(app.alerts.image(me, alert_id, "scene", grant=grant))


@router.get("/alerts/{alert_id}/watchlist.jpg")
def watchlist_image(alert_id: RowId, app: AppDep, me: ConsoleUser, grant: Grant = None) -> Response:
    """The watchlist image the alert matched, from the deployment's snapshot (gone once it is erased)."""
    return private_file(app.alerts.image(me, alert_id, "watchlist", grant=grant))
