"""The JSON API under /api, one router per area."""

from openfr.web.routes import gallery, governance, live, reports, system

API_ROUTERS = (system.router, live.router, gallery.router, governance.router, reports.router)
