"""Health, model cards, login (token issue) and the caller's own account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from openfr.governance.credentials import TokenKind
from openfr.governance.scopes import MAX_TOKEN_DAYS
from openfr.web.admission import RequestKind, heavy
from openfr.web.deps import AppDep, CurrentToken, CurrentUser, RowId

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
    """A bearer token valid for one day. Five failures lock the account (an account with a second factor
    still signs in with a fresh code); failures from one address slow its later attempts down, up to ten
    seconds each (429 with Retry-After only when too many wait at once)."""
    address = request.client.host if request.client else "?"
    credentials = (body.username, body.password, body.totp, TokenKind.API)
    turn = await app.accounts.wait_turn(address, body.username)
    done = await heavy(request).run(RequestKind.SIGN_IN, app.accounts.sign_in, *credentials, address=address, turn=turn)
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


class NewToken(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100, description="What the token is for.")]
    scope: Annotated[str, Field(max_length=20, description="read, search, enrol or live (GET /api/me/token-scopes).")]
    days: Annotated[int, Field(ge=1, le=MAX_TOKEN_DAYS, description="Days until it expires.")] = 30
    password: Annotated[str, Field(max_length=1000, description="Your password, again.")]
    totp: Annotated[str | None, Field(max_length=12, description="A fresh code, if you have a second factor.")] = None


@router.post("/me/tokens", status_code=201)
def issue_token(body: NewToken, app: AppDep, me: CurrentUser) -> dict:
    """An API token for yourself (never for anyone else), with one scope within your role, for at most 90
    days; needs a sign-in token (from POST /api/login, not another API token) and your password again. The
    token is in the answer once; only its digest is kept."""
    return app.accounts.issue_own_token(me, body.name, body.scope, body.days, password=body.password, totp=body.totp)


@router.get("/me/tokens")
def my_tokens(app: AppDep, me: CurrentUser) -> list[dict]:
    """Your API tokens: id, label, scope, dates, state (never the token)."""
    return app.accounts.my_tokens(me)


@router.get("/me/token-scopes")
def token_scopes(app: AppDep, me: CurrentUser) -> list[dict]:
    """The scopes a token of yours can carry, with what each grants your role."""
    return app.accounts.token_scopes(me)


@router.delete("/me/tokens/{token_id}")
def revoke_my_token(token_id: RowId, app: AppDep, me: CurrentUser) -> dict:
    """Revoke one of your API tokens at once."""
    app.accounts.revoke_own_token(me, token_id)
    return {"token": token_id, "revoked": True}
