"""Console sign-in: a server-side session whose random token travels in an HttpOnly, SameSite=Strict
cookie (Secure unless turned off for a lab). The database keeps only the token's digest; signing out or
disabling the account ends the session at once, which a signed stateless cookie could not do.

Pages declare `ConsoleUser`, the console's twin of the API's `CurrentUser`; a visitor without a session is
sent to the sign-in page, an htmx request gets 401.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from openfr.governance.credentials import TokenKind
from openfr.services import Principal
from openfr.web.deps import AppDep
from openfr.web.error_answers import LoginRequiredError

COOKIE = "openfr_session"


def set_session_cookie(response: Response, token: str, *, hours: float, secure: bool) -> None:
    response.set_cookie(
        COOKIE, token, max_age=int(hours * 3600), path="/", secure=secure, httponly=True, samesite="strict"
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="strict")


def console_user(request: Request, app: AppDep) -> Principal:
    token = request.cookies.get(COOKIE)
    principal = app.accounts.principal_for_token(token, TokenKind.WEB) if token else None
    if principal is None:
        raise LoginRequiredError
    return principal


ConsoleUser = Annotated[Principal, Depends(console_user)]
