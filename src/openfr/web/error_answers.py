"""One mapping from openfr's errors to HTTP answers, for the API and the console alike: routes raise what
the services raise and never translate errors themselves."""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse, Response

from openfr.errors import (
    BadInputError,
    ConflictError,
    EnrolmentRejectedError,
    NotFoundError,
    NotSignedInError,
    OpenFRError,
    PermissionDeniedError,
    UploadTooLargeError,
)
from openfr.governance.credentials import AuthError, TooManyAttemptsError
from openfr.web.pages import render

# Most specific first: NotFoundError, ConflictError and UploadTooLargeError are all BadInputErrors.
STATUS: tuple[tuple[type[Exception], int], ...] = (
    (NotSignedInError, 401),
    (TooManyAttemptsError, 429),
    (AuthError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (EnrolmentRejectedError, 422),
    (UploadTooLargeError, 413),
    (BadInputError, 400),
)


def status_for(exc: Exception) -> int:
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 500)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or bool(request.headers.get("hx-request"))


async def openfr_error(request: Request, exc: Exception) -> Response:
    """JSON for the API and htmx, a page for people; the message is the error's own one-line reason."""
    assert isinstance(exc, OpenFRError)
    code = status_for(exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttemptsError) else None
    if _wants_json(request):
        return JSONResponse({"detail": str(exc)}, code, headers=headers)
    return render(request, "error.html", None, code, message=str(exc), code=code)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _wants_json(request):
        return await http_exception_handler(request, exc)
    return render(request, "error.html", None, exc.status_code, message=exc.detail, code=exc.status_code)


class LoginRequiredError(Exception):
    """Raised by console page dependencies; answered with a redirect to /login."""


async def to_login(request: Request, exc: Exception) -> Response:
    if request.headers.get("hx-request"):  # htmx follows HX-Redirect with a full page load
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={target}" if request.method == "GET" else "/login", status_code=303)
