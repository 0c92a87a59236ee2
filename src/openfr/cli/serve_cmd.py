"""`openfr serve`: the console and the API on http://127.0.0.1:8000 (OpenAPI at /openapi.json), with
deployments started from any door running inside the server, sharing its event bus.

This is uvicorn and the app factory, nothing more: the app's lifespan (`openfr.web.app`) owns start-up
recovery, the retention schedule and shutdown, so a server started by uvicorn or gunicorn directly behaves
the same. The factory is named, not imported: one door does not import another.
"""

from __future__ import annotations

from typing import Annotated

import typer

from openfr.cli.common import err, guarded
from openfr.settings import Settings

APP_FACTORY = "openfr.web.app:from_environment"


@guarded
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (keep 127.0.0.1 unless behind a TLS proxy).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
) -> None:
    """Serve the console (sign in at /login) and the JSON API (bearer token from POST /api/login)."""
    settings = Settings.from_environment()  # refused here in one line, before the server starts
    err.print(f"openfr console on http://{host}:{port}/ ; API: /openapi.json, token from POST /api/login")
    run_server(settings, host, port)


def run_server(settings: Settings, host: str, port: int) -> None:
    """uvicorn over the app factory, which reads the same settings from the environment. A failure to build
    the app (configuration, the store, the audit key) reaches the caller's `guarded` as an openfr error."""
    import uvicorn

    # No access log: URLs can carry search filters and names. Open event streams are cut after 2 s.
    # No proxy headers unless the installation names its proxies: otherwise X-Forwarded-For from any
    # local process would choose the address that the sign-in limits count.
    proxies = settings.web.trusted_proxies
    uvicorn.run(
        APP_FACTORY, factory=True, host=host, port=port, log_level="warning", access_log=False,
        timeout_graceful_shutdown=2, proxy_headers=bool(proxies), forwarded_allow_ips=",".join(proxies) or None,
        lifespan="on",
    )  # fmt: skip
