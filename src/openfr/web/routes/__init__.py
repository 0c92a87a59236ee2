"""The JSON API under /api, one router per area."""

from openfr.web.routes import gallery, governance, live, oifr, reports, system

API_ROUTERS = (system.router, live.router, gallery.router, oifr.router, governance.router, reports.router)
