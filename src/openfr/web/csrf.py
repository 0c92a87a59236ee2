"""CSRF protection for the console, on top of asgi-csrf's signed double-submit cookie.

asgi-csrf checks that a form's token equals the signed `csrftoken` cookie. That alone does not tie the token
to whoever is signed in: anyone able to plant a cookie (a sibling subdomain, a network attacker over plain
HTTP) can pair a token of their own with a victim's session. So the cookie is bound to the session: once a
session cookie is present, the only acceptable csrftoken is a keyed function of that session's token, set on
the next page load, and a change request carrying any other is refused before asgi-csrf sees it. Upload
forms are settled in `form_csrf.py`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from http.cookies import SimpleCookie
from pathlib import Path

from fastapi.responses import PlainTextResponse
from itsdangerous import URLSafeSerializer

from openfr.web.sessions import COOKIE

CSRF_COOKIE = "csrftoken"  # asgi-csrf's cookie and signing namespace
SAFE = ("GET", "HEAD", "OPTIONS", "TRACE")


def signing_secret(home: Path) -> str:
    """The CSRF signing key, made once per installation and kept beside the data, readable by the owner only
    (so tokens outlive a restart and differ between installations)."""
    path = home / "secrets" / "csrf.key"
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another server process made it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class SessionBoundCsrf:
    """A console request with a session must carry that session's csrftoken cookie: pages loaded with another
    get it set (and see it, so they render it); a change request with another is refused (403)."""

    def __init__(self, app, signing_secret: str, secure: bool):
        self.app, self.secure = app, secure
        self._key = signing_secret.encode()
        self.signer = URLSafeSerializer(signing_secret)

    def bound_token(self, session_token: str) -> str:
        tag = hmac.new(self._key, b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()[:32]
        return self.signer.dumps(tag, CSRF_COOKIE)  # deterministic: no timestamp in a URLSafeSerializer

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers") or [])
        cookies = _cookies(headers)
        session = cookies.get(COOKIE)
        bound = self.bound_token(session) if session else None
        if bound is None or secrets.compare_digest(cookies.get(CSRF_COOKIE, ""), bound):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in SAFE:
            refusal = "this form belongs to another sign-in: reload the page and try again (nothing was changed)"
            await PlainTextResponse(refusal, 403)(scope, receive, send)
            return
        cookies[CSRF_COOKIE] = bound
        header = "; ".join(f"{name}={value}" for name, value in cookies.items()).encode("latin-1")
        headers = [(k, v) for k, v in headers if k != b"cookie"] + [(b"cookie", header)]
        attributes = f"{CSRF_COOKIE}={bound}; Path=/; SameSite=Strict" + ("; Secure" if self.secure else "")

        async def send_with_cookie(event):
            if event["type"] == "http.response.start":
                event = {**event, "headers": [*event.get("headers", []), (b"set-cookie", attributes.encode())]}
            await send(event)

        await self.app({**scope, "headers": headers}, receive, send_with_cookie)


def _cookies(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    jar: dict[str, str] = {}
    for name, value in headers:
        if name == b"cookie":
            parsed = SimpleCookie(value.decode("latin-1"))
            jar.update({key: morsel.value for key, morsel in parsed.items()})
    return jar
