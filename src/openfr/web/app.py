"""The web application, assembled like a boot script: services, API routers, console pages, static files,
error pages, CSRF protection. Routers are registered like the CLI's command groups."""

from __future__ import annotations

from asgi_csrf import asgi_csrf
from fastapi import FastAPI, HTTPException
from fastapi.staticfiles import StaticFiles
from starlette.formparsers import MultiPartParser

from openfr.errors import OpenFRError
from openfr.services import Application
from openfr.web.admission import Admission
from openfr.web.console import CONSOLE_ROUTERS
from openfr.web.csrf import SessionBoundCsrf, signing_secret
from openfr.web.errors import LoginRequiredError, http_error, openfr_error, to_login
from openfr.web.form_csrf import UploadFormsCarryCsrfToken, settled
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
    secret = signing_secret(home)
    app.add_middleware(
        asgi_csrf,
        signing_secret=secret,
        always_protect={"/login"},  # login CSRF: a forged form must not sign a victim into an attacker's account
        skip_if_scope=settled,  # the API (bearer tokens, no cookies), and uploads already checked (below)
        cookie_secure=settings.web.secure_cookies,
        cookie_samesite="Strict",
    )
    app.add_middleware(UploadFormsCarryCsrfToken, signing_secret=secret)  # runs before asgi-csrf
    app.add_middleware(SessionBoundCsrf, signing_secret=secret, secure=settings.web.secure_cookies)
    app.add_middleware(SecurityHeaders)  # outermost: every answer, refusals included, carries them
    return app
