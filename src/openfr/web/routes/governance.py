"""The audit trail and accounts."""

from __future__ import annotations

from fastapi import APIRouter

from openfr.web.deps import AppDep, CurrentUser

router = APIRouter(prefix="/api", tags=["governance"])


@router.get("/audit/events")
def audit_events(
    app: AppDep,
    me: CurrentUser,
    actor: str | None = None,
    action: str | None = None,
    resource: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 500,
) -> list[dict]:
    return app.audit.events(me, actor=actor, action=action, resource=resource, since=since, until=until, limit=limit)


@router.get("/audit/verify")
def audit_verify(app: AppDep, me: CurrentUser) -> dict:
    return app.audit.verify(me).as_dict()


@router.get("/users")
def users(app: AppDep, me: CurrentUser) -> list[dict]:
    return app.accounts.list_users(me)
