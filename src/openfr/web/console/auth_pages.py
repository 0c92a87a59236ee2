"""Signing in and out of the console (password, then the TOTP code where the account has one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from openfr.governance.credentials import AuthError, TokenKind, TooManyAttemptsError
from openfr.web.admission import RequestKind, heavy
from openfr.web.deps import AppDep
from openfr.web.pages import render
from openfr.web.sessions import COOKIE, clear_session_cookie, set_session_cookie

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only paths on this site: an open redirect would let a phishing link borrow the console's address."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", None, next=_safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    app: AppDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    totp: Annotated[str, Form(max_length=12)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    def refuse(message: str, code: int) -> Response:
        return render(request, "login.html", None, code, error=message, username=username, next=next)

    address = request.client.host if request.client else "?"
    try:
        turn = await app.accounts.wait_turn(address, username)  # failures from this address slow it down
        done = await heavy(request).run(
            RequestKind.SIGN_IN, app.accounts.sign_in, username, password, totp or None, TokenKind.WEB,
            address=address, turn=turn,
        )  # fmt: skip
    except TooManyAttemptsError as exc:
        page = refuse(f"Too many failed sign-ins from this address: try again in {exc.retry_after} s.", 429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except AuthError:
        return refuse("Sign-in refused: wrong username, password or code, or the account is locked.", 401)
    # A password an administrator chose is replaced first: every other page refuses until then.
    target = "/account?first=1" if done.principal.must_change_password else _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, done.token, hours=done.hours, secure=app.settings.web.secure_cookies)
    return response


@router.post("/logout")
def logout(request: Request, app: AppDep) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        app.accounts.sign_out(token, TokenKind.WEB)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, secure=app.settings.web.secure_cookies)
    return response
