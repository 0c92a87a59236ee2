"""Rendering console pages: one Jinja2 environment (autoescaped), the signed-in user, their permissions,
the CSRF token and, for those who decide alerts, how many await a decision, handed to every template, so
that no page can forget them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from openfr.governance.permissions import Permission
from openfr.services import Principal

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def _when(value: Any) -> str:
    """Times in the console are UTC, to the second, the way they go into the audit trail and court."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


templates = Jinja2Templates(directory=TEMPLATES)
templates.env.filters["when"] = _when


def csrf_token(request: Request) -> str:
    """The signed token asgi-csrf checks on every POST (form field or x-csrftoken header)."""
    factory = request.scope.get("csrftoken")
    return factory() if factory else ""


def render(
    request: Request, template: str, user: Principal | None, status_code: int = 200, /, **context: Any
) -> HTMLResponse:
    # What the page offers (links, buttons) follows the role; what it may do is checked by the services.
    permissions = {p.value for p in Permission if user is not None and user.may(p)}
    if "pending_alerts" not in context:
        context["pending_alerts"] = _pending_alerts(request, user)
    context.setdefault("pending_poll_s", request.app.state.openfr.settings.web.pending_poll_s)
    return templates.TemplateResponse(
        request,
        template,
        {"user": user, "perms": permissions, "csrf": csrf_token(request), **context},
        status_code=status_code,
    )


def _pending_alerts(request: Request, user: Principal | None) -> int | None:
    """Alerts awaiting a decision, for the header's counter and the title badge of those who decide (None
    for everyone else: the header shows nothing)."""
    if user is None or not user.may(Permission.ALERT_ADJUDICATE):
        return None
    return request.app.state.openfr.alerts.awaiting_decision(user)
