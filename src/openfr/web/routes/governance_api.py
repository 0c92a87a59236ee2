"""The audit trail and accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from openfr.services.audit_trail import MAX_ROWS
from openfr.web.deps import AppDep, CurrentUser, Offset, RowId

router = APIRouter(prefix="/api", tags=["governance"])


class AuditFilters(BaseModel):
    actor: str | None = None
    action: Annotated[
        str | None,
        Field(max_length=60, description="An action or a family of them, e.g. 'deployment' (GET /api/audit/actions)."),
    ] = None
    resource: str | None = None
    since: Annotated[str | None, Field(description="From this UTC date or time (ISO 8601, e.g. 2026-11-22).")] = None
    until: Annotated[
        str | None, Field(description="Until this UTC date (the whole day included) or before this time (ISO 8601).")
    ] = None


Filters = Annotated[AuditFilters, Query()]


@router.get("/audit/events")
def audit_events(
    app: AppDep,
    me: CurrentUser,
    filters: Filters,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 500,
    offset: Offset = 0,
) -> list[dict]:
    """Matching events, oldest first, `limit` from `offset`; the header X-Total-Count says how many match in
    all. A filter that cannot be read, or an offset past the last match, is a 400 with the reason."""
    page = app.audit.page(me, limit=limit, offset=offset, newest_first=False, **filters.model_dump())
    response.headers["X-Total-Count"] = str(page.total)
    return page.events


@router.get("/audit/actions")
def audit_actions(app: AppDep, me: CurrentUser) -> list[dict]:
    """Every action an audit event can record, with its meaning (the values the `action` filter takes)."""
    return app.audit.actions(me)


@router.get("/audit/verify")
def audit_verify(app: AppDep, me: CurrentUser) -> dict:
    """The chain, every seal and the checkpoints checked: ok, events, head, first_bad (the position of the
    first bad event, or null) and every problem found."""
    return app.audit.verify(me).as_dict()


@router.get("/audit/export")
def audit_export(app: AppDep, me: CurrentUser, filters: Filters) -> list[dict]:
    """Every matching event with its hashes, oldest first; the export itself is recorded."""
    return app.audit.export(me, "jsonl", **filters.model_dump())


@router.get("/users")
def users(app: AppDep, me: CurrentUser) -> list[dict]:
    return app.staff.list_users(me)


class NewUser(BaseModel):
    username: Annotated[str, Field(max_length=100)]
    role: Annotated[str, Field(max_length=40)]
    password: Annotated[str, Field(max_length=1000)]
    display_name: Annotated[str, Field(max_length=200)] = ""
    rank: Annotated[str | None, Field(max_length=40, description="Police rank; required for authorising officers.")] = (
        None
    )


@router.post("/users", status_code=201)
def create_user(body: NewUser, app: AppDep, me: CurrentUser) -> dict:
    return app.staff.create_user(me, body.username, body.role, body.password, body.display_name, body.rank)


class RankChange(BaseModel):
    rank: Annotated[str, Field(max_length=40, description="e.g. superintendent.")]


@router.post("/users/{username}/rank")
def set_rank(username: str, body: RankChange, app: AppDep, me: CurrentUser) -> dict:
    """Record the account's rank; for an administrator or authorising officer it awaits a second administrator."""
    return app.staff.set_rank(me, username, body.rank)


class Activity(BaseModel):
    active: bool
    reason: Annotated[str, Field(max_length=2000, description="Why (required to disable; recorded).")] = ""


@router.post("/users/{username}/active")
def set_active(username: str, body: Activity, app: AppDep, me: CurrentUser) -> dict:
    """Disabling ends the account's sessions and tokens at once; it needs a reason, which is recorded."""
    return app.staff.set_active(me, username, body.active, body.reason)


@router.post("/users/{username}/approve")
def approve(username: str, app: AppDep, me: CurrentUser) -> dict:
    """A second administrator approves a privileged account's creation, re-enabling or password reset."""
    return app.staff.approve(me, username)


class PasswordReset(BaseModel):
    password: Annotated[str, Field(max_length=1000)]


@router.post("/users/{username}/password")
def reset_password(username: str, body: PasswordReset, app: AppDep, me: CurrentUser) -> dict:
    """The owner must replace it at next sign-in; a privileged account also awaits a second administrator."""
    return app.staff.set_password(me, username, body.password)


@router.get("/users/{username}/tokens")
def tokens(username: str, app: AppDep, me: CurrentUser) -> list[dict]:
    """The user's API tokens: id, label, dates, revoked (never the token)."""
    return app.staff.tokens(me, username)


@router.delete("/users/{username}/tokens/{token_id}")
def revoke_token(username: str, token_id: RowId, app: AppDep, me: CurrentUser, reason: str = "") -> dict:
    """Revoke one API token at once; the reason is required and recorded."""
    app.staff.revoke_api_token(me, username, token_id, reason)
    return {"username": username, "token": token_id, "revoked": True}
