"""Users (administrators) and the audit trail (auditors): browse, filter, verify, export."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from openfr.csvsafe import to_csv
from openfr.errors import BadInputError
from openfr.governance.permissions import Role
from openfr.services import Principal
from openfr.web.deps import AppDep
from openfr.web.errors import status_for
from openfr.web.pages import render
from openfr.web.sessions import ConsoleUser

router = APIRouter(include_in_schema=False)


def _users_page(request: Request, me: Principal, app, code: int = 200, **extra) -> Response:
    users = app.staff.list_users(me)
    return render(request, "users.html", me, code, users=users, roles=[r.value for r in Role], **extra)


@router.get("/users")
def users(request: Request, me: ConsoleUser, app: AppDep) -> Response:
    return _users_page(request, me, app)


@router.post("/users")
def create_user(
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    username: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=1000)],
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        row = app.staff.create_user(me, username, role, password, display_name)
    except BadInputError as exc:
        form = {"username": username, "role": role}
        return _users_page(request, me, app, status_for(exc), error=str(exc), form=form)
    waits = " It stays disabled until a second administrator approves it." if row["awaiting_approval"] else ""
    return _users_page(request, me, app, 201, message=f"Created {row['username']} ({row['role']}).{waits}")


@router.post("/users/{username}/approve")
def approve(username: str, request: Request, app: AppDep, me: ConsoleUser) -> Response:
    try:
        app.staff.approve(me, username)
    except BadInputError as exc:
        return _users_page(request, me, app, status_for(exc), error=str(exc))
    return _users_page(request, me, app, message=f"{username} approved and enabled.")


@router.post("/users/{username}/active")
def set_active(username: str, request: Request, app: AppDep, me: ConsoleUser, active: Annotated[bool, Form()]):
    try:
        row = app.staff.set_active(me, username, active)
    except BadInputError as exc:
        return _users_page(request, me, app, status_for(exc), error=str(exc))
    done = (
        "awaits a second administrator's approval"
        if row["awaiting_approval"]
        else ("enabled" if active else "disabled")
    )
    return _users_page(request, me, app, message=f"{username} {done}.")


@router.get("/users/{username}/tokens")
def user_tokens(username: str, request: Request, app: AppDep, me: ConsoleUser) -> Response:
    return render(request, "user_tokens.html", me, username=username, tokens=app.staff.tokens(me, username))


@router.post("/users/{username}/tokens/{token_id}/revoke")
def revoke_token(
    username: str, token_id: int, request: Request, app: AppDep, me: ConsoleUser, reason: Annotated[str, Form()] = ""
) -> Response:
    try:
        app.staff.revoke_api_token(me, username, token_id, reason)
    except BadInputError as exc:
        rows = app.staff.tokens(me, username)
        return render(request, "user_tokens.html", me, status_for(exc), username=username, tokens=rows, error=str(exc))
    rows = app.staff.tokens(me, username)
    message = f"Token {token_id} revoked."
    return render(request, "user_tokens.html", me, username=username, tokens=rows, message=message)


_FILTERS = ("actor", "action", "resource", "since", "until")


@router.get("/audit")
def audit_page(request: Request, me: ConsoleUser, app: AppDep, verify: bool = False) -> Response:
    filters = {k: request.query_params.get(k, "").strip() or None for k in _FILTERS}
    check = app.audit.verify(me) if verify else None
    qs = urlencode({k: v for k, v in filters.items() if v})
    head = app.audit.head(me)
    try:
        rows = app.audit.events(me, **filters, limit=500, newest_first=True)
    except BadInputError as exc:
        return render(request, "audit.html", me, 400, rows=[], filters=filters, check=check, head=head, qs=qs,
                      error=str(exc))  # fmt: skip
    return render(request, "audit.html", me, rows=rows, filters=filters, check=check, head=head, qs=qs)


@router.get("/audit/export")
def audit_export(request: Request, app: AppDep, me: ConsoleUser) -> Response:
    """Every matching event, oldest first, with its hashes (so the export can be re-verified elsewhere).
    The export is itself recorded."""
    filters = {k: request.query_params.get(k, "").strip() or None for k in _FILTERS}
    fmt = request.query_params.get("format", "csv")
    rows = app.audit.export(me, fmt, **filters)
    if fmt == "jsonl":
        body = "".join(json.dumps(r, default=str) + "\n" for r in rows)
        return Response(body, media_type="application/x-ndjson", headers=_attachment("openfr-audit.jsonl"))
    columns = ["id", "at", "actor", "action", "resource", "reason", "details", "prev_hash", "hash"]
    cells = ([json.dumps(r.get(c), default=str) if c == "details" else r.get(c, "") for c in columns] for r in rows)
    return Response(to_csv(columns, cells), media_type="text/csv", headers=_attachment("openfr-audit.csv"))


def _attachment(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
