"""Security headers on every response: what a browser must not do with openfr's pages.

- Content-Security-Policy: scripts, styles and images from openfr itself only (htmx is vendored), no
  framing, forms post only to openfr. Inline styles are allowed for the QR code's SVG attributes only
  through `style-src 'self' 'unsafe-inline'`; no inline script is allowed.
- X-Frame-Options DENY and frame-ancestors 'none': no clickjacking of the Confirm button.
- X-Content-Type-Options nosniff: an uploaded or exported file is never run as something else.
- Referrer-Policy no-referrer: URLs can carry search filters.
- Cache-Control no-store on everything but static assets: pages and images show personal data and faces,
  and must not stay in a shared computer's cache.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
COMMON = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control" or static]
                headers += COMMON
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
