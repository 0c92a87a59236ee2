"""Typed dependencies shared by every route: the application and the caller.

Routes stay thin: they declare `AppDep` and `CurrentUser` (API bearer token) or `ConsoleUser` (console
session, see sessions.py), call one service method and render its answer. Permissions are checked by the
services, never here; a refusal comes back as PermissionDeniedError, which the app turns into 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from openfr.governance.accounts import TokenKind
from openfr.services import Application, Principal

_bearer = HTTPBearer(auto_error=False)


def get_app(request: Request) -> Application:
    return request.app.state.openfr


AppDep = Annotated[Application, Depends(get_app)]


def current_user(
    app: AppDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The caller, from an API bearer token. 401 without a valid one (the reason is not detailed)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "authentication required", {"WWW-Authenticate": "Bearer"})
    principal = app.accounts.principal_for_token(credentials.credentials, TokenKind.API)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or expired token", {"WWW-Authenticate": "Bearer"})
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def current_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str | None:
    """The bearer token itself (a password change keeps the session that made it)."""
    return credentials.credentials if credentials is not None else None


CurrentToken = Annotated[str | None, Depends(current_token)]
