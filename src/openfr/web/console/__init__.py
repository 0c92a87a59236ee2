"""The web console: server-rendered pages (Jinja2 + htmx), one router per area, signed in by cookie."""

from openfr.web.console import (
    account_pages,
    admin_pages,
    alerts_pages,
    auth_pages,
    deployments_pages,
    galleries_pages,
    home_pages,
    oifr_pages,
    records_pages,
)

CONSOLE_ROUTERS = (
    auth_pages.router,
    home_pages.router,
    account_pages.router,
    alerts_pages.router,
    deployments_pages.router,
    galleries_pages.router,
    oifr_pages.router,
    admin_pages.router,
    records_pages.router,
)
