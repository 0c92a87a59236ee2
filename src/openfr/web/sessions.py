"""Console sign-in: a server-side session whose random token travels in an HttpOnly, SameSite=Strict
cookie (Secure unless turned off for a lab). The database keeps only the token's digest; signing out or
disabling the account ends the session at once, which a signed stateless cookie could not do.

Pages declare `ConsoleUser` or `Allow(Permission.X)`, the console's twins of the API's `CurrentUser` and
`Require`; a visitor without a session is sent to the sign-in page, an htmx request gets 401.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response, status

from openfr.governance.permissions import Permission, allowed
from openfr.web.deps import AuthUser, ServicesDep

COOKIE = "openfr_session"


class LoginRequiredError(Exception):
    """Raised by page dependencies; the app turns it into a redirect to /login."""


def set_session_cookie(response: Response, token: str, *, hours: float, secure: bool) -> None:
    response.set_cookie(
        COOKIE, token, max_age=int(hours * 3600), path="/", secure=secure, httponly=True, samesite="strict"
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="strict")


def console_user(request: Request, services: ServicesDep) -> AuthUser:
    from openfr.governance.accounts import user_for_token

    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequiredError
    with services.db.transaction() as session:
        user = user_for_token(session, token, web_session=True)
        if user is None:
            raise LoginRequiredError
        return AuthUser(user.id, user.username, user.role)


ConsoleUser = Annotated[AuthUser, Depends(console_user)]


class Allow:
    """`Depends(Allow(Permission.X))` on a page: 403 unless the signed-in user's role holds it."""

    def __init__(self, permission: Permission):
        self.permission = permission

    def __call__(self, user: ConsoleUser) -> AuthUser:
        if not allowed(user.role, self.permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"your role may not {self.permission.value}")
        return user


def can(user: AuthUser, permission: Permission | str) -> bool:
    return allowed(user.role, Permission(permission))
