"""Typed dependencies shared by every route: the application and the caller.

Routes stay thin: they declare `AppDep` and `CurrentUser` (API bearer token) or `ConsoleUser` (console
session, see sessions.py), call one service method and render its answer. Permissions are checked by the
services, never here; a refusal comes back as PermissionDeniedError, which the app turns into 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from openfr.governance.credentials import TokenKind
from openfr.services import Application, Principal

_bearer = HTTPBearer(auto_error=False)

# Every whole number a request carries has both bounds (tests/test_integer_bounds.py walks every route): an
# unbounded one reached SQLite as an OverflowError, a 500. Ids are INTEGER columns (PostgreSQL's int4), and no
# table holds more rows than its ids can number, so ids and offsets share one ceiling.
ROW_ID_MAX = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
Offset = Annotated[int, Query(ge=0, le=ROW_ID_MAX, description="How many rows to skip.")]
Page = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")]  # pages of >= 24 rows
Rank = Annotated[int, Path(ge=1, le=200, description="The candidate's rank in the search (1 = best; at most 200).")]
# The grant a recorded page view gave for one of the faces it showed (governance/grants.py): with it, the image
# is part of that page's audit event; without it, the image is recorded on its own.
Grant = Annotated[str | None, Query(max_length=64, description="From the page or answer that listed the image.")]
# A subject-access photo match's candidate image, as both doors link it: the candidate's position in the match and
# the match's sealed ticket (services/subject_access.py), which the service checks.
CandidateIndex = Annotated[int, Path(ge=0, le=1000)]
MatchTicket = Annotated[str, Query(max_length=20000)]
# A console form's free text (a reason, a note, a purpose) and its "yes" to a two-step confirmation.
TextForm = Annotated[str, Form(max_length=2000)]
ConfirmForm = Annotated[str, Form(max_length=10)]


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
