"""Health, model cards, login (token issue) and the caller's own account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from openfr.governance.accounts import TokenKind
from openfr.web.admission import RequestKind, heavy
from openfr.web.deps import AppDep, CurrentToken, CurrentUser

router = APIRouter(prefix="/api", tags=["system"])


@router.get("/health")
def health() -> dict:
    return {"status": "ok"}


@router.get("/models")
def models(app: AppDep, me: CurrentUser) -> list[dict]:
    """Model cards: licence, training data, published accuracy, calibrated threshold."""
    return app.model_cards(me)


class LoginRequest(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[str, Field(min_length=1, max_length=1000)]
    totp: Annotated[str | None, Field(max_length=12)] = None


@router.post("/login")
async def login(body: LoginRequest, request: Request, app: AppDep) -> dict:
    """A bearer token valid for one day. Five failures lock the account; ten failures for one account, or
    fifty for any, from one address within five minutes make that address wait (429)."""
    address = request.client.host if request.client else "?"
    credentials = (body.username, body.password, body.totp, TokenKind.API)
    done = await heavy(request).run(RequestKind.SIGN_IN, app.accounts.sign_in, *credentials, address=address)
    role = done.principal.role.value if done.principal.role else ""
    # True: the password was set by an administrator; every other call answers 403 until POST /api/me/password.
    must_change = done.principal.must_change_password
    return {"token": done.token, "username": done.principal.username, "role": role, "must_change_password": must_change}


@router.get("/me")
def me(app: AppDep, me: CurrentUser) -> dict:
    """The caller's account (never a hash, secret or token)."""
    return app.accounts.me(me)


class PasswordChange(BaseModel):
    current: Annotated[str, Field(max_length=1000)]
    new: Annotated[str, Field(max_length=1000)]


@router.post("/me/password")
def change_password(body: PasswordChange, app: AppDep, me: CurrentUser, token: CurrentToken) -> dict:
    """Replace your own password (the current one is required); every other session and token ends."""
    app.accounts.change_own_password(me, body.current, body.new, keep=token)
    return {"username": me.username, "password_changed": True}
