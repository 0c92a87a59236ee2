"""Users (administrators) and the audit trail (auditors): browse, filter, page, verify, export.

Disabling an account and revoking a token take two steps: the first POST answers with a page that says what
will happen and asks for the reason; only the second, carrying `confirm=yes`, acts (no script needed)."""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from openfr.csvsafe import to_csv
from openfr.errors import BadInputError, SafeguardMissingError
from openfr.governance.events import FAMILIES
from openfr.governance.permissions import Role
from openfr.governance.ranks import RANKS
from openfr.services import Principal
from openfr.services.audit_trail import PAGE_ROWS
from openfr.web.console.two_steps import two_steps
from openfr.web.deps import AppDep, ConfirmForm, RowId, TextForm
from openfr.web.error_answers import status_for
from openfr.web.pages import render
from openfr.web.sessions import ConsoleUser

router = APIRouter(include_in_schema=False)


def _users_page(request: Request, me: Principal, app, code: int = 200, **extra) -> Response:
    users = app.staff.list_users(me)
    return render(request, "users.html", me, code, users=users, roles=[r.value for r in Role], ranks=RANKS, **extra)


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
    rank: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        row = app.staff.create_user(me, username, role, password, display_name, rank or None)
    except BadInputError as exc:
        form = {"username": username, "role": role, "rank": rank}
        return _users_page(request, me, app, status_for(exc), error=str(exc), form=form)
    waits = " It stays disabled until a second administrator approves it." if row["awaiting_approval"] else ""
    return _users_page(request, me, app, 201, message=f"Created {row['username']} ({row['role']}).{waits}")


@router.post("/users/{username}/rank")
def set_rank(
    username: str, request: Request, app: AppDep, me: ConsoleUser, rank: Annotated[str, Form(max_length=40)] = ""
) -> Response:
    try:
        row = app.staff.set_rank(me, username, rank)
    except BadInputError as exc:
        return _users_page(request, me, app, status_for(exc), error=str(exc))
    waits = " It awaits a second administrator's approval." if row["awaiting_approval"] else ""
    return _users_page(request, me, app, message=f"Rank of {username}: {row['rank']}.{waits}")


@router.post("/users/{username}/approve")
def approve(username: str, request: Request, app: AppDep, me: ConsoleUser) -> Response:
    try:
        app.staff.approve(me, username)
    except BadInputError as exc:
        return _users_page(request, me, app, status_for(exc), error=str(exc))
    return _users_page(request, me, app, message=f"{username} approved and enabled.")


@router.post("/users/{username}/active")
def set_active(
    username: str,
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    active: Annotated[bool, Form()],
    reason: TextForm = "",
    confirm: ConfirmForm = "",
):
    try:
        if not active and confirm != "yes":
            return _confirm_disable(request, me, app, username, reason)
        row = app.staff.set_active(me, username, active, reason)
    except BadInputError as exc:
        if not active and type(exc) in (BadInputError, SafeguardMissingError):  # the reason: asked again, same step
            return _confirm_disable(request, me, app, username, reason, 400, error=str(exc))
        return _users_page(request, me, app, status_for(exc), error=str(exc))
    done = (
        "awaits a second administrator's approval"
        if row["awaiting_approval"]
        else ("enabled" if active else "disabled")
    )
    return _users_page(request, me, app, message=f"{username} {done}.")


def _confirm_disable(request: Request, me: Principal, app, username: str, reason: str, code: int = 200, **extra):
    """The second step's page; the service's checks (permission, the account exists, not one's own) first."""
    row = app.staff.disable_preview(me, username)
    tokens = row["live_tokens"]
    return render(
        request, "confirm.html", me, code, **extra, heading=f"Disable {username}?", action=f"/users/{username}/active",
        hidden={"active": "false"}, reason=reason, confirm_label=f"Disable {username}", cancel="/users",
        reason_hint="For example: left the force; suspended pending inquiry; password may be known to others.",
        consequences=[
            f"{username} ({row['role']}) can no longer sign in.",
            f"Their console sessions end at once, and their {tokens} live API token(s) are revoked for good.",
            "Their history stays in the audit trail; an administrator can enable the account again later.",
        ],
    )  # fmt: skip


@router.get("/users/{username}/tokens")
def user_tokens(username: str, request: Request, app: AppDep, me: ConsoleUser) -> Response:
    return render(request, "user_tokens.html", me, username=username, tokens=app.staff.tokens(me, username))


@router.post("/users/{username}/tokens/{token_id}/revoke")
def revoke_token(
    username: str,
    token_id: RowId,
    request: Request,
    app: AppDep,
    me: ConsoleUser,
    reason: TextForm = "",
    confirm: ConfirmForm = "",
) -> Response:
    def tokens_page(code: int = 200, **extra) -> Response:
        rows = app.staff.tokens(me, username)
        return render(request, "user_tokens.html", me, code, username=username, tokens=rows, **extra)

    return two_steps(
        confirm,
        ask=partial(_confirm_revoke, request, me, app, username, token_id, reason),
        act=lambda: app.staff.revoke_api_token(me, username, token_id, reason),
        done=lambda _: tokens_page(message=f"Token {token_id} revoked."),
        refused=lambda exc: tokens_page(status_for(exc), error=str(exc)),
    )


def _confirm_revoke(request, me: Principal, app, username: str, token_id: int, reason: str, code: int = 200, **extra):
    token = app.staff.token(me, username, token_id)
    return render(
        request, "confirm.html", me, code, **extra, heading=f"Revoke API token {token_id} of {username}?",
        action=f"/users/{username}/tokens/{token_id}/revoke", reason=reason, cancel=f"/users/{username}/tokens",
        confirm_label=f"Revoke token {token_id}", reason_hint="For example: leaked; integration retired.",
        consequences=[
            f"Token {token_id} ({token['name'] or 'no label'}) stops working at once, for good.",
            "Whatever uses it (an integration, a phone) needs a new token.",
        ],
    )  # fmt: skip


_FILTERS = ("actor", "action", "resource", "since", "until")


@router.get("/audit")
def audit_page(request: Request, me: ConsoleUser, app: AppDep, verify: bool = False, page: str = "1") -> Response:
    """Newest first, PAGE_ROWS at a time, saying how many match ("Showing 1-500 of 12,345 events"). A filter
    or page that cannot be read is a 400 with the reason, never an empty table."""
    filters = {k: request.query_params.get(k, "").strip() or None for k in _FILTERS}
    check = app.audit.verify(me) if verify else None
    qs = urlencode({k: v for k, v in filters.items() if v})
    head = app.audit.head(me)
    try:
        number = _page_number(page)
        listing = app.audit.page(me, **filters, limit=PAGE_ROWS, offset=(number - 1) * PAGE_ROWS)
    except BadInputError as exc:
        return render(request, "audit.html", me, status_for(exc), listing=None, filters=filters, check=check,
                      head=head, qs=qs, error=str(exc), actions=app.audit.actions(me), families=FAMILIES)  # fmt: skip
    return render(
        request, "audit.html", me, listing=listing, filters=filters, check=check, head=head, qs=qs,
        actions=app.audit.actions(me), families=FAMILIES,
    )  # fmt: skip


def _page_number(text: str) -> int:
    """A page number from the query string: a whole number from 1, or a 400 that says so."""
    text = (text or "").strip()
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise BadInputError(f"page must be a whole number from 1, not {text[:20]!r}")
    return int(text)


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
