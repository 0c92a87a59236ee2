"""The JSON API under /api, one router per area."""

from openfr.web.routes import gallery_api, governance_api, live_api, oifr_api, reports_api, system_api

API_ROUTERS = (
    system_api.router,
    live_api.router,
    gallery_api.router,
    oifr_api.router,
    governance_api.router,
    reports_api.router,
)
