"""Health, model cards and login (token issue)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from openfr.governance.permissions import Permission
from openfr.web.deps import Require, ServicesDep
from openfr.web.ratelimit import SlidingWindowLimit

router = APIRouter(prefix="/api", tags=["system"])
# Ten failed logins per address per five minutes: ample for people mistyping, a wall for a script.
LOGIN_LIMIT = SlidingWindowLimit(attempts=10, window_s=300)


@router.get("/health")
def health() -> dict:
    return {"status": "ok"}


@router.get("/models", dependencies=[Depends(Require(Permission.MODELS_READ))])
def models(services: ServicesDep) -> list[dict]:
    """Model cards: licence, training data, published accuracy, calibrated threshold."""
    from openfr.engine.packs import get_pack, pack_ids

    cards = []
    for pack_id in pack_ids():
        pack = get_pack(services.settings, pack_id)
        cards.append({**pack.card.as_dict(), "installed": pack.available()[0]})
    return cards


class LoginRequest(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[str, Field(min_length=1, max_length=1000)]
    totp: str | None = None


@router.post("/login")
def login(body: LoginRequest, request: Request, services: ServicesDep) -> dict:
    """A bearer token valid for one day. Five failures lock the account (see governance/accounts); ten
    failures from one address within five minutes make it wait (429)."""
    from openfr.governance import accounts

    address = request.client.host if request.client else "?"
    if not LOGIN_LIMIT.allow(address):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed logins; try again later")
    try:
        user = accounts.login(services.db, body.username, body.password, body.totp)
    except accounts.AuthError as exc:
        LOGIN_LIMIT.failed(address)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None
    with services.db.transaction() as session:
        token = accounts.issue_token(session, user["username"], "api login", actor=user["username"], days=1)
    return {"token": token, "username": user["username"], "role": user["role"]}
