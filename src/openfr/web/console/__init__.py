"""The web console: server-rendered pages (Jinja2 + htmx), one router per area, signed in by cookie."""

from openfr.web.console import account, admin, alerts, auth, deployments, galleries, home, oifr, records

CONSOLE_ROUTERS = (
    auth.router,
    home.router,
    account.router,
    alerts.router,
    deployments.router,
    galleries.router,
    oifr.router,
    admin.router,
    records.router,
)
