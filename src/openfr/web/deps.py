"""Typed dependencies shared by every route: the services, a database session, the caller, permissions.

Routes stay thin: they declare what they need (`Db`, `CurrentUser`, `Require(Permission.X)`) and call the
same service functions the CLI uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from openfr.governance.permissions import Permission, allowed
from openfr.runtime import Services

_bearer = HTTPBearer(auto_error=False)


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    with services.db.transaction() as session:
        yield session


Db = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class AuthUser:
    id: int
    username: str
    role: str


def current_user(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> AuthUser:
    """The caller, from an API bearer token. 401 without a valid one (the reason is not detailed)."""
    from openfr.governance.accounts import user_for_token

    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "authentication required", {"WWW-Authenticate": "Bearer"})
    with services.db.transaction() as session:
        user = user_for_token(session, credentials.credentials)
        if user is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "invalid or expired token", {"WWW-Authenticate": "Bearer"}
            )
        return AuthUser(user.id, user.username, user.role)


CurrentUser = Annotated[AuthUser, Depends(current_user)]


class Require:
    """`Depends(Require(Permission.X))`: 403 unless the caller's role holds the permission. The route x role
    test finds these on every route, so no route can forget its check."""

    def __init__(self, permission: Permission):
        self.permission = permission

    def __call__(self, user: CurrentUser) -> AuthUser:
        if not allowed(user.role, self.permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"your role may not {self.permission.value}")
        return user
