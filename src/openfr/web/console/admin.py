"""Users (administrators) and the audit trail (auditors): browse, filter, verify, export."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from openfr.errors import BadInputError
from openfr.governance import accounts, audit
from openfr.governance.permissions import Permission, Role
from openfr.store import User
from openfr.web.deps import AuthUser, Db
from openfr.web.pages import render
from openfr.web.sessions import Allow, ConsoleUser

router = APIRouter(include_in_schema=False)
Admin = Annotated[AuthUser, Depends(Allow(Permission.USERS_MANAGE))]


def _users_page(request, user, session, code: int = 200, **extra) -> Response:
    users = session.scalars(select(User).order_by(User.username)).all()
    return render(request, "users.html", user, code, users=users, roles=[r.value for r in Role], **extra)


@router.get("/users", dependencies=[Depends(Allow(Permission.USERS_MANAGE))])
def users(request: Request, user: ConsoleUser, session: Db) -> Response:
    return _users_page(request, user, session)


@router.post("/users")
def create_user(
    request: Request,
    session: Db,
    user: Admin,
    username: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=1000)],
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        with session.begin_nested():  # a refusal undoes only this step, not the request's transaction
            accounts.create_user(
                session, username.strip(), role, password, actor=user.username, display_name=display_name
            )
    except BadInputError as exc:
        return _users_page(request, user, session, 400, error=str(exc), form={"username": username, "role": role})
    return _users_page(request, user, session, 201, message=f"Created {username.strip()} ({role}).")


@router.post("/users/{username}/active")
def set_active(username: str, request: Request, session: Db, user: Admin, active: Annotated[bool, Form()]) -> Response:
    if username == user.username and not active:
        return _users_page(request, user, session, 400, error="You cannot disable your own account.")
    try:
        accounts.set_active(session, username, active, actor=user.username)
    except BadInputError as exc:
        return _users_page(request, user, session, 404, error=str(exc))
    return _users_page(request, user, session, message=f"{username} {'enabled' if active else 'disabled'}.")


_FILTERS = ("actor", "action", "resource", "since", "until")


@router.get("/audit", dependencies=[Depends(Allow(Permission.AUDIT_READ))])
def audit_page(request: Request, user: ConsoleUser, session: Db, verify: bool = False) -> Response:
    filters = {k: request.query_params.get(k, "").strip() or None for k in _FILTERS}
    rows = audit.events(session, **filters, limit=500, newest_first=True)
    check = audit.verify(session) if verify else None
    qs = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "audit.html", user, rows=rows, filters=filters, check=check, head=audit.head(session), qs=qs)


@router.get("/audit/export")
def audit_export(request: Request, session: Db, user: Annotated[AuthUser, Depends(Allow(Permission.AUDIT_READ))]):
    """Every matching event, oldest first, with its hashes (so the export can be re-verified elsewhere).
    The export is itself recorded."""
    filters = {k: request.query_params.get(k, "").strip() or None for k in _FILTERS}
    fmt = request.query_params.get("format", "csv")
    rows = audit.events(session, **filters)
    given = {f"filter_{k}": v for k, v in filters.items() if v}
    audit.record(session, user.username, "audit.export", "audit", format=fmt, events=len(rows), **given)
    if fmt == "jsonl":
        body = "".join(json.dumps(r, default=str) + "\n" for r in rows)
        return Response(body, media_type="application/x-ndjson", headers=_attachment("openfr-audit.jsonl"))
    out = io.StringIO()
    writer = csv.writer(out)
    columns = ["id", "at", "actor", "action", "resource", "reason", "details", "prev_hash", "hash"]
    writer.writerow(columns)
    for r in rows:
        writer.writerow([json.dumps(r.get(c), default=str) if c == "details" else r.get(c, "") for c in columns])
    return Response(out.getvalue(), media_type="text/csv", headers=_attachment("openfr-audit.csv"))


def _attachment(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
