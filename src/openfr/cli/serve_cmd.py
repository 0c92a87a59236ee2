"""`openfr serve`: the console and the API on http://127.0.0.1:8000 (OpenAPI at /openapi.json), with
deployments started from any door running inside the server, sharing its event bus."""

from __future__ import annotations

from typing import Annotated

import typer

from openfr.cli.common import application, err, guarded
from openfr.services import Application


@guarded
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (keep 127.0.0.1 unless behind a TLS proxy).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
) -> None:
    """Serve the console (sign in at /login) and the JSON API (bearer token from POST /api/login)."""
    err.print(f"openfr console on http://{host}:{port}/ ; API: /openapi.json, token from POST /api/login")
    run_server(application(), host, port)


def run_server(app: Application, host: str, port: int) -> None:
    import uvicorn

    from openfr.web.app import create_app

    web = create_app(app)
    try:
        # No access log: URLs can carry search filters and names. Open event streams are cut after 2 s.
        uvicorn.run(web, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    finally:
        app.close()  # cameras stop cleanly and their counters are saved
