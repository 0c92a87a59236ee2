"""The web application, assembled like a boot script: services, API routers, console pages, static files,
error pages, CSRF protection. Routers are registered like the CLI's command groups."""

from __future__ import annotations

import os
import secrets
from http.cookies import SimpleCookie
from pathlib import Path

from asgi_csrf import asgi_csrf
from fastapi import FastAPI, HTTPException
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.formparsers import MultiPartParser

from openfr.errors import OpenFRError
from openfr.services import Application
from openfr.web.admission import Admission
from openfr.web.console import CONSOLE_ROUTERS
from openfr.web.errors import LoginRequiredError, http_error, openfr_error, to_login
from openfr.web.headers import SecurityHeaders
from openfr.web.pages import STATIC
from openfr.web.routes import API_ROUTERS


def create_app(application: Application) -> FastAPI:
    # Request bodies are capped just above the largest allowed upload (413 beyond it), and uploads up to
    # that size stay in memory: a search photo must never reach the disk, not even as a temporary file.
    settings, home = application.settings, application.runtime.home
    application.runtime.db  # noqa: B018 - migrate the store before the first request, not during one
    body_limit = int(settings.web.upload_max_mb * 1024 * 1024) + 64 * 1024
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, body_limit)
    app = FastAPI(
        max_body_size=body_limit,
        title="openfr",
        description=(
            "Open, auditable facial recognition. A match is a prompt for a trained person, never an identification."
        ),
        version="0.1",
    )
    app.state.openfr = application
    app.state.admission = Admission.from_settings(settings.web)  # searches, enrolments, sign-ins: bounded
    for router in (*API_ROUTERS, *CONSOLE_ROUTERS):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(LoginRequiredError, to_login)
    app.add_exception_handler(OpenFRError, openfr_error)
    app.add_exception_handler(HTTPException, http_error)
    secret = _signing_secret(home)
    app.add_middleware(
        asgi_csrf,
        signing_secret=secret,
        always_protect={"/login"},  # login CSRF: a forged form must not sign a victim into an attacker's account
        skip_if_scope=lambda scope: scope["path"].startswith("/api/"),  # the API takes bearer tokens, no cookies
        cookie_secure=settings.web.secure_cookies,
        cookie_samesite="Strict",
    )
    app.add_middleware(UploadsCarryCsrfHeader, signing_secret=secret)  # runs before asgi-csrf
    app.add_middleware(SecurityHeaders)  # outermost: every answer, refusals included, carries them
    return app


def _signing_secret(home: Path) -> str:
    """The CSRF signing key, made once per installation and kept beside the data, readable by the owner only
    (so tokens outlive a restart and differ between installations)."""
    path = home / "secrets" / "csrf.key"
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another server process made it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class UploadsCarryCsrfHeader:
    """Console uploads (multipart forms, sent by htmx) must carry the CSRF token in the x-csrftoken header,
    equal to the signed csrftoken cookie. asgi-csrf 0.11 would otherwise look inside the multipart body,
    a path broken with current python-multipart (its FileClass argument is gone), so such requests are
    settled here with the same signed double-submit rule, before they reach it. The API is unaffected: it
    takes bearer tokens, and asgi-csrf skips /api/."""

    def __init__(self, app, signing_secret: str):
        self.app = app
        self.signer = URLSafeSerializer(signing_secret)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            headers = dict(scope.get("headers") or [])
            multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
            if multipart and not scope["path"].startswith("/api/") and not self._token_ok(headers):
                response = PlainTextResponse(
                    "uploads must carry the CSRF token in the x-csrftoken header (the console sends it)", 403
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _token_ok(self, headers: dict[bytes, bytes]) -> bool:
        sent = headers.get(b"x-csrftoken", b"").decode("latin-1")
        cookies = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
        cookie = cookies["csrftoken"].value if "csrftoken" in cookies else ""
        if not sent or not secrets.compare_digest(sent, cookie):
            return False
        try:
            self.signer.loads(cookie, "csrftoken")  # asgi-csrf's namespace
        except BadSignature:
            return False
        return True
