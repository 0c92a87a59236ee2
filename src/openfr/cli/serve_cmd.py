"""`openfr serve`: the console and the API on http://127.0.0.1:8000 (OpenAPI at /openapi.json), with
deployments started from any door running inside the server, sharing its event bus."""

from __future__ import annotations

from typing import Annotated

import typer

from openfr.cli.common import err, guarded
from openfr.services import Application, boot
from openfr.settings import Settings


@guarded
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (keep 127.0.0.1 unless behind a TLS proxy).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
) -> None:
    """Serve the console (sign in at /login) and the JSON API (bearer token from POST /api/login)."""
    err.print(f"openfr console on http://{host}:{port}/ ; API: /openapi.json, token from POST /api/login")
    run_server(boot(serving(Settings.from_environment())), host, port)


def serving(settings: Settings) -> Settings:
    """A server runs `web.heavy_requests` searches side by side, one model thread each (unless the engine's
    threads are set), so that the cameras it runs keep a core."""
    if settings.engine.threads:
        return settings
    return settings.model_copy(update={"engine": settings.engine.model_copy(update={"threads": 1})})


def run_server(app: Application, host: str, port: int) -> None:
    import uvicorn

    from openfr.services.retention import Housekeeper
    from openfr.web.app import create_app

    web = create_app(app)
    started = app.start_up()  # orphans swept, interrupted deployments resumed: before the first request
    if started["resumed"] or started["interrupted"]:
        err.print(
            f"deployments resumed: {started['resumed'] or 'none'}; interrupted: {started['interrupted'] or 'none'}"
        )
    housekeeper = Housekeeper(app.retention, app.settings.retention.interval_minutes * 60).start()
    try:
        # No access log: URLs can carry search filters and names. Open event streams are cut after 2 s.
        # No proxy headers unless the installation names its proxies: otherwise X-Forwarded-For from any
        # local process would choose the address that the sign-in limits count.
        proxies = app.settings.web.trusted_proxies
        uvicorn.run(
            web, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=2,
            proxy_headers=bool(proxies), forwarded_allow_ips=",".join(proxies) or None,
        )  # fmt: skip
    finally:
        housekeeper.stop()
        app.close()  # cameras stop cleanly and their counters are saved
