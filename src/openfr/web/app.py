"""The web application, assembled like a boot script: services, API routers, console pages, static files,
error pages, CSRF protection. Routers are registered like the CLI's command groups.

A server's app owns the server's lifecycle in its lifespan, however the server was started (`openfr serve`,
or uvicorn or gunicorn directly with `--factory openfr.web.app:from_environment`): start-up recovery before
the first request, the retention schedule while it serves, and on shutdown the schedule stopped and the
Application closed, so cameras stop cleanly and their counters are saved. An app made over an Application
that someone else built (`create_app(application)`, as the tests do) leaves its lifecycle to them: a test's
prepared, back-dated records are not purged under it, and its Application is not closed. Importing this
module builds nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from asgi_csrf import asgi_csrf
from fastapi import FastAPI, HTTPException
from fastapi.staticfiles import StaticFiles
from starlette.formparsers import MultiPartParser

from openfr.errors import OpenFRError
from openfr.services import Application, boot
from openfr.services.retention import Housekeeper
from openfr.settings import Settings
from openfr.web.admission import Admission
from openfr.web.console import CONSOLE_ROUTERS
from openfr.web.csrf import SessionBoundCsrf, signing_secret
from openfr.web.error_answers import LoginRequiredError, http_error, openfr_error, to_login
from openfr.web.form_csrf import UploadFormsCarryCsrfToken, settled
from openfr.web.headers import SecurityHeaders
from openfr.web.pages import STATIC
from openfr.web.routes import API_ROUTERS

server_log = logging.getLogger("uvicorn.error")  # where the server's own messages go, on stderr


def from_environment() -> FastAPI:
    """The app factory for a server: settings from the environment, an Application of its own (closed at
    shutdown). `uvicorn --factory openfr.web.app:from_environment`; `openfr serve` runs the same."""
    return create_app(boot(serving(Settings.from_environment())), lifecycle=True)


def serving(settings: Settings) -> Settings:
    """A server runs `web.heavy_requests` searches side by side, one model thread each (unless the engine's
    threads are set), so that the cameras it runs keep a core."""
    if settings.engine.threads:
        return settings
    return settings.model_copy(update={"engine": settings.engine.model_copy(update={"threads": 1})})


def create_app(application: Application, *, lifecycle: bool = False) -> FastAPI:
    """The app over `application`. `lifecycle=True`: the app runs the server's lifecycle over it (start-up,
    the retention schedule, closing it at shutdown), as `from_environment` does. False: whoever built the
    Application runs its lifecycle (a test sharing its Application with a server)."""
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
        lifespan=_server_lifecycle(application) if lifecycle else None,
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


def _server_lifecycle(application: Application):
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Blocking work (the database, cameras resuming) runs in a worker thread, as it did before the loop.
        started = await to_thread.run_sync(application.start_up)  # before the first request
        if started["resumed"] or started["interrupted"]:
            resumed, interrupted = started["resumed"] or "none", started["interrupted"] or "none"
            server_log.warning("deployments resumed: %s; interrupted: %s", resumed, interrupted)
        interval_s = application.settings.retention.interval_minutes * 60
        housekeeper = Housekeeper(application.retention, interval_s).start()
        try:
            yield
        finally:
            await to_thread.run_sync(housekeeper.stop)
            await to_thread.run_sync(application.close)  # cameras stop cleanly and their counters are saved

    return lifespan
