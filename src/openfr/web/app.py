"""The FastAPI application: built from the services, routers registered like the CLI's command groups."""

from __future__ import annotations

from fastapi import FastAPI

from openfr.runtime import Services
from openfr.web.routes import governance, live, system


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="openfr",
        description=(
            "Open, auditable facial recognition. A match is a prompt for a trained person, never an identification."
        ),
        version="0.1",
    )
    app.state.services = services
    for router in (system.router, live.router, governance.router):
        app.include_router(router)
    return app
