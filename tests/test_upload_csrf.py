"""CSRF for the console's upload forms at the door: a multipart form carrying its token as the ordinary
`csrftoken` field (what a browser sends with JavaScript off, and always for subject access) passes, wherever
the field sits in the body; the x-csrftoken header (htmx, the phone page's script) still does. Every forgery
(no token, a wrong one, another session's, a token only in the cookie, a wrong header) is a 403 that changes
nothing; a body past the upload limit is a 413, and an allowed one never reaches a temporary file.

Before issue 21 a multipart form was refused unless its token came in the header (403 "uploads must carry the
CSRF token in the x-csrftoken header"), so the subject-access form failed in every browser.
"""

from __future__ import annotations

import re
import tempfile

import pytest
from fastapi.testclient import TestClient

from actors import console_sign_in, make_app, staff
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.settings import WebSettings
from openfr.web.app import create_app

AUDITOR = "auditor"
EMPTY_FILE = ("", b"", "application/octet-stream")  # what a browser sends for a file input left empty


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("upload-csrf"), web=WebSettings(upload_max_mb=0.1))
    staff(app)
    return app, create_app(app)


def _console(web) -> TestClient:
    client = TestClient(web, base_url="https://testserver")
    client.csrf = console_sign_in(client, AUDITOR)
    return client


def _requests(app, reason: str) -> int:
    with app.runtime.db.read() as session:
        return sum(1 for e in audit.events(session, action="subject-access") if e["reason"] == reason)


def _subject_access(client, reason: str, token: str | None, **request):
    """The subject-access form as a browser sends it: multipart, the token as a field, the empty photo."""
    fields = {"reason": reason, "reference": "NOBODY-1", "gallery": ""}
    if token is not None:
        fields = {"csrftoken": token, **fields}
    return client.post("/subject-access", data=fields, files={"photo": EMPTY_FILE}, **request)


def test_the_form_as_a_browser_sends_it_without_javascript_passes(site):
    app, web = site
    client = _console(web)
    answer = _subject_access(client, "DPO-1", client.csrf)
    # asgi-csrf's own multipart parsing is broken with this python-multipart: had it looked again, a 500.
    assert answer.status_code == 200, answer.text[:300]
    assert "Subjects matched (0)" in answer.text
    assert _requests(app, "DPO-1") == 1


def test_the_token_field_is_found_after_the_file_and_the_header_still_works(site):
    app, web = site
    client = _console(web)
    late = [("photo", EMPTY_FILE), ("csrftoken", (None, client.csrf))]  # a field without a filename, last
    answer = client.post("/subject-access", data={"reason": "DPO-2", "reference": "NOBODY-1"}, files=late)
    assert answer.status_code == 200 and _requests(app, "DPO-2") == 1
    scripted = _subject_access(client, "DPO-3", None, headers={"x-csrftoken": client.csrf})
    assert scripted.status_code == 200 and _requests(app, "DPO-3") == 1


def _signed_token_of_no_session(web) -> str:
    """A token we signed, from a signed-out visitor's login page: valid, but not this session's cookie."""
    page = TestClient(web, base_url="https://testserver").get("/login")
    return re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)


FORGERIES = {
    "the token only in the cookie": lambda client, web: (None, {}),
    "an empty token field": lambda client, web: ("", {}),
    "a made-up token": lambda client, web: ("forged-token", {}),
    "a signed token that is not the cookie": lambda client, web: (_signed_token_of_no_session(web), {}),
    "another session's token": lambda client, web: (_console(web).csrf, {}),
    "a wrong header beside the right field": lambda client, web: (client.csrf, {"headers": {"x-csrftoken": "x"}}),
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_uploads_are_refused_and_change_nothing(site, forgery):
    app, web = site
    client = _console(web)
    token, request = FORGERIES[forgery](client, web)
    reason = f"forged: {forgery}"
    answer = _subject_access(client, reason, token, **request)
    assert answer.status_code == 403, (forgery, answer.status_code, answer.text[:200])
    assert "nothing was changed" in answer.text
    assert _requests(app, reason) == 0


def test_a_body_past_the_limit_is_a_413_and_an_allowed_one_never_touches_the_disk(site, monkeypatch):
    app, web = site
    client = _console(web)

    def rollover(self):
        raise AssertionError("an upload was spooled to a temporary file")

    monkeypatch.setattr(tempfile.SpooledTemporaryFile, "rollover", rollover)
    fields = {"csrftoken": client.csrf, "reason": "DPO-BIG", "reference": "NOBODY-1"}
    too_big = {"photo": ("p.jpg", b"\xff" * 200_000, "image/jpeg")}  # the limit is 0.1 MB
    assert client.post("/subject-access", data=fields, files=too_big).status_code == 413
    assert _requests(app, "DPO-BIG") == 0
    # Just under the limit, with the token after the photo: the whole body is read to find it, in memory.
    near = [("photo", ("p.jpg", b"\xff" * 90_000, "image/jpeg")), ("csrftoken", (None, client.csrf))]
    answer = client.post("/subject-access", data={"reason": "DPO-NEAR"}, files=near)
    assert answer.status_code == 400 and "photo" in answer.text.lower()  # not an image: refused by the service
    assert _requests(app, "DPO-NEAR") == 0


def test_the_token_is_read_as_the_body_streams_and_reading_stops_at_its_end():
    from openfr.web.form_csrf import TokenField

    boundary = b"----form7"
    head = (
        b'------form7\r\nContent-Disposition: form-data; name="csrftoken"\r\n\r\nsigned.token-value\r\n'
        b'------form7\r\nContent-Disposition: form-data; name="photo"; filename="p.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n"
    )
    body = head + b"\xff" * 5000 + b"\r\n------form7--\r\n"
    finder, fed = TokenField(boundary), 0
    while not finder.done:
        finder.feed(body[fed : fed + 1])  # one byte at a time: the field may be split anywhere
        fed += 1
    assert finder.token == "signed.token-value"
    assert fed < len(head)  # the photo is not read to find the token
    filename_field = body.replace(b'name="csrftoken"', b'name="csrftoken"; filename="t"')
    as_file = TokenField(boundary)
    as_file.feed(filename_field)
    assert as_file.done and as_file.token is None  # a file called csrftoken is not the field
    broken = TokenField(boundary)
    broken.feed(b"not multipart at all\r\n\r\n")
    assert broken.token is None


def test_a_role_without_the_permission_passes_the_token_check_and_meets_the_services_refusal(site):
    app, web = site
    client = TestClient(web, base_url="https://testserver")
    token = console_sign_in(client, Role.OPERATOR.value)
    answer = _subject_access(client, "DPO-OP", token)
    assert answer.status_code == 403 and "may not subject-access.read" in answer.text
    assert _requests(app, "DPO-OP") == 0
