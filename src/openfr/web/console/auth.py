"""Signing in and out of the console (password, then the TOTP code where the account has one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from openfr.governance import accounts
from openfr.web.deps import ServicesDep
from openfr.web.pages import render
from openfr.web.routes.system import LOGIN_LIMIT
from openfr.web.sessions import COOKIE, clear_session_cookie, set_session_cookie

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only paths on this site: an open redirect would let a phishing link borrow the console's address."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", None, next=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    totp: Annotated[str, Form(max_length=12)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    def refuse(message: str, code: int) -> Response:
        return render(request, "login.html", None, code, error=message, username=username, next=next)

    address = request.client.host if request.client else "?"
    if not LOGIN_LIMIT.allow(address):
        return refuse("Too many failed sign-ins from this address. Wait a few minutes.", 429)
    try:
        user = accounts.login(services.db, username, password, totp or None, channel="web")
    except accounts.AuthError:
        LOGIN_LIMIT.failed(address)
        return refuse("Sign-in refused: wrong username, password or code, or the account is locked.", 401)
    with services.db.transaction() as session:
        token = accounts.open_web_session(session, user["id"], services.settings.web.session_hours)
    response = RedirectResponse(_safe_next(next), status_code=303)
    web = services.settings.web
    set_session_cookie(response, token, hours=web.session_hours, secure=web.secure_cookies)
    return response


@router.post("/logout")
def logout(request: Request, services: ServicesDep) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        with services.db.transaction() as session:
            user = accounts.user_for_token(session, token, web_session=True)
            accounts.close_web_session(session, token, user.username if user else "?")
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, secure=services.settings.web.secure_cookies)
    return response
