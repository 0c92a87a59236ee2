"""The audit trail and accounts."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import select

from openfr.governance import audit
from openfr.governance.permissions import Permission
from openfr.store import User
from openfr.web.deps import Db, Require

router = APIRouter(prefix="/api", tags=["governance"])


@router.get("/audit/events", dependencies=[Depends(Require(Permission.AUDIT_READ))])
def audit_events(
    session: Db,
    actor: str | None = None,
    action: str | None = None,
    resource: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 500,
) -> list[dict]:
    return audit.events(
        session, actor=actor, action=action, resource=resource, since=since, until=until, limit=min(limit, 5000)
    )


@router.get("/audit/verify", dependencies=[Depends(Require(Permission.AUDIT_READ))])
def audit_verify(session: Db) -> dict:
    return audit.verify(session).as_dict()


@router.get("/users", dependencies=[Depends(Require(Permission.USERS_MANAGE))])
def users(session: Db) -> list[dict]:
    return [
        {"username": u.username, "name": u.display_name, "role": u.role, "active": u.active}
        for u in session.scalars(select(User).order_by(User.username))
    ]
