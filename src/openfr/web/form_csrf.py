"""CSRF for the console's upload forms (multipart/form-data), with or without JavaScript.

asgi-csrf 0.11 checks a form's token against its signed `csrftoken` cookie, but its multipart path is broken
with current python-multipart (it passes a FileClass argument that is gone), so uploads are settled here, with
the same signed double-submit rule, before they reach it. The token is taken from the x-csrftoken header when
there is one (htmx and the phone page's script send it; a wrong one is refused), or else from the ordinary
`csrftoken` field of the body itself (what a browser sends with JavaScript off, and always for the
subject-access form). The body is read with python-multipart's streaming parser only as far as the end of that
field, in memory (the app's body limit still applies: a larger body is a 413, and nothing is spooled to disk,
so a search photo never reaches it), then replayed unchanged to the app. A request settled here carries
`SETTLED` in its scope, which asgi-csrf is told to skip; one that fails is refused (403) before the app sees
it, so nothing changes. The API is unaffected: it takes bearer tokens, and asgi-csrf skips /api/.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie

from fastapi.responses import PlainTextResponse
from itsdangerous import BadSignature, URLSafeSerializer
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

FIELD = "csrftoken"  # asgi-csrf's form field, cookie name and signing namespace
HEADER = b"x-csrftoken"
SETTLED = "openfr.csrf_settled"  # scope key: this request's token was checked here
SAFE = ("GET", "HEAD", "OPTIONS", "TRACE")
MAX_TOKEN_BYTES = 512  # a signed token is about 90 characters; anything far longer is not one
REFUSAL = "this form's security token is missing or out of date: reload the page and try again (nothing was changed)"


def settled(scope: dict) -> bool:
    """For asgi-csrf's skip hook: the API (bearer tokens, no cookies) and the uploads settled here."""
    return scope["path"].startswith("/api/") or bool(scope.get(SETTLED))


class UploadFormsCarryCsrfToken:
    """Console multipart POSTs need a token (header or form field) equal to the signed csrftoken cookie."""

    def __init__(self, app, signing_secret: str):
        self.app = app
        self.signer = URLSafeSerializer(signing_secret)

    async def __call__(self, scope, receive, send):
        if not _console_upload(scope):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        cookie = _csrf_cookie(headers)
        if HEADER in headers:  # sent by a script: it decides, right or wrong
            if self._matches(headers[HEADER].decode("latin-1"), cookie):
                await self.app({**scope, SETTLED: True}, receive, send)
            else:
                await PlainTextResponse(REFUSAL, 403)(scope, receive, send)
            return
        _, options = parse_options_header(headers.get(b"content-type", b""))
        finder, received = TokenField(options.get(b"boundary", b"")), []
        while not finder.done:
            message = await receive()  # the app's body limit applies here: beyond it, a 413
            received.append(message)
            if message["type"] != "http.request":
                break  # the client went away
            finder.feed(message.get("body", b""))
            if not message.get("more_body", False):
                break
        if not self._matches(finder.token, cookie):
            await PlainTextResponse(REFUSAL, 403)(scope, receive, send)
            return

        async def replay():
            return received.pop(0) if received else await receive()

        await self.app({**scope, SETTLED: True}, replay, send)

    def _matches(self, sent: str | None, cookie: str) -> bool:
        """The signed double-submit rule: the token sent equals the cookie, and the cookie is one we signed."""
        if not sent or not cookie or not secrets.compare_digest(sent.encode(), cookie.encode()):
            return False
        try:
            self.signer.loads(cookie, FIELD)
        except BadSignature:
            return False
        return True


class TokenField:
    """The value of a multipart body's `csrftoken` field, fed chunk by chunk to python-multipart's streaming
    parser. Only that field's bytes are kept; files and other fields pass by. `done` once the field has
    ended (or the body, or it proved malformed): the caller reads no further."""

    def __init__(self, boundary: bytes):
        self.token: str | None = None
        self.done = False
        self._header, self._value, self._disposition = bytearray(), bytearray(), b""
        self._collecting, self._data = False, bytearray()
        try:
            self._parser = MultipartParser(
                boundary,
                {
                    "on_part_begin": self._part_begins,
                    "on_header_field": lambda data, start, end: self._header.extend(data[start:end]),
                    "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
                    "on_header_end": self._header_ends,
                    "on_headers_finished": self._headers_finished,
                    "on_part_data": self._part_data,
                    "on_part_end": self._part_ends,
                    "on_end": self._finished,
                },
            )
        except (FormParserError, ValueError):  # no boundary, or one too long: no token can be found
            self.done = True

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except FormParserError:  # malformed: whatever it held is no token
            self.token, self.done = None, True

    def _part_begins(self) -> None:
        self._disposition, self._collecting = b"", False

    def _header_ends(self) -> None:
        if bytes(self._header).strip().lower() == b"content-disposition":
            self._disposition = bytes(self._value)
        self._header.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._collecting = options.get(b"name") == FIELD.encode() and b"filename" not in options

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._collecting and not self.done:
            self._data.extend(data[start : min(end, start + MAX_TOKEN_BYTES + 1 - len(self._data))])

    def _part_ends(self) -> None:
        if self._collecting and not self.done:
            self.done = True
            if len(self._data) <= MAX_TOKEN_BYTES:
                self.token = self._data.decode("latin-1")

    def _finished(self) -> None:
        self.done = True


def _console_upload(scope) -> bool:
    if scope["type"] != "http" or scope["method"] in SAFE or scope["path"].startswith("/api/"):
        return False
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
    return parse_options_header(content_type)[0] == b"multipart/form-data"


def _csrf_cookie(headers: dict[bytes, bytes]) -> str:
    cookies = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
    return cookies[FIELD].value if FIELD in cookies else ""
