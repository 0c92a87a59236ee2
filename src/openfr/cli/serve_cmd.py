"""`openfr serve`: the API on http://127.0.0.1:8000 (OpenAPI at /openapi.json)."""

from __future__ import annotations

from typing import Annotated

import typer

from openfr.cli.common import err, guarded, services


@guarded
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (keep 127.0.0.1 unless behind a TLS proxy).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
) -> None:
    """Serve the JSON API. Every route but /api/health and /api/login needs a bearer token."""
    import uvicorn

    from openfr.web.app import create_app

    app = create_app(services())
    err.print(f"openfr API on http://{host}:{port} (OpenAPI: /openapi.json); log in with POST /api/login")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)  # access logs could hold tokens
