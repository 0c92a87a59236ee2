"""The console over HTTP: sessions and their cookie flags, CSRF, sign-in with a second factor, the page x
role matrix, uploads for enrolment and search, camera sources, the event stream, vendored assets."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient

from actors import PASSWORD, TEMPORARY, add_user, api_token, console_sign_in, demo_installation, make_app, take_over
from actors import sign_in as principal
from live_data import a_plan
from openfr.governance import audit
from openfr.governance.credentials import TokenKind
from openfr.governance.permissions import Role
from openfr.services import Application, demo
from openfr.store import SearchRecord, User
from openfr.web.app import create_app
from web_server import alert_summary, running_console

STATIC = Path(__file__).resolve().parents[1] / "src" / "openfr" / "web" / "static"
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}


@pytest.fixture(scope="module")
def svc(tmp_path_factory) -> Application:
    application = make_app(tmp_path_factory.mktemp("console"))
    demo_installation(application, password=PASSWORD, deployment=False)
    application.admin = principal(application, "demo-admin")
    # The demo has one administrator: a second comes by the bootstrap and approves the privileged accounts.
    application.accounts.create_first_administrator("administrator", TEMPORARY, by="test set-up")
    second = take_over(application, "administrator")
    for role in Role:
        if role is not Role.ADMINISTRATOR:
            add_user(application, application.admin, role.value.replace("-", "_"), role.value, approver=second)
    return application


@pytest.fixture(scope="module")
def app(svc):
    return create_app(svc)


def _events(svc: Application, **filters) -> list[dict]:
    with svc.runtime.db.read() as session:
        return audit.events(session, **filters)


def browser(app) -> TestClient:
    # https: the session cookie is Secure, and a cookie jar only sends it back over https (or to localhost)
    return TestClient(app, base_url="https://testserver")


def csrf(client: TestClient) -> str:
    page = client.get("/login")
    return re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)


def sign_in(app, username: str, password: str = PASSWORD, totp: str = "") -> TestClient:
    client = browser(app)
    client.csrf = console_sign_in(client, username, password, totp)
    return client


def _flatten(routes):
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _flatten(included.routes) if included is not None else [route]


def console_routes(app) -> list[tuple[str, str]]:
    found = [
        (method, route.path)
        for route in _flatten(app.routes)
        if hasattr(route, "dependant") and not route.path.startswith("/api")
        for method in route.methods
        if not route.path.startswith(("/docs", "/redoc", "/openapi"))
    ]
    assert len(found) >= 25
    return found


def test_without_a_session_every_page_sends_the_browser_to_sign_in_and_changes_nothing(app, svc):
    anonymous = browser(app)
    anonymous_csrf = csrf(anonymous)
    before = len(_events(svc))
    for method, path in console_routes(app):
        if (method, path) in PUBLIC:
            continue
        url = re.sub(r"\{name\}", "nope", path).replace("{alert_id}", "1").replace("{username}", "operator")
        url = url.replace("{subject}", "nobody")
        data = {"csrftoken": anonymous_csrf, "active": "false", "reason": "r", "decision": "confirmed"}
        answer = anonymous.request(method, url, data=data if method == "POST" else None, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), (method, path)
    assert len(_events(svc)) == before


def test_session_cookie_flags_logout_and_kept_apart_from_api_tokens(app, svc):
    client = sign_in(app, "auditor")
    cookies = {c.name: c for c in client.cookies.jar}
    session_cookie = cookies["openfr_session"]
    assert session_cookie.secure and session_cookie.has_nonstandard_attr("HttpOnly")
    assert session_cookie.get_nonstandard_attr("SameSite").lower() == "strict"
    assert cookies["csrftoken"].secure and cookies["csrftoken"].get_nonstandard_attr("SameSite") == "Strict"
    assert client.get("/audit").status_code == 200
    # The session token is no bearer token for the API, and an API token opens no console session.
    assert (
        client.get("/api/audit/verify", headers={"Authorization": f"Bearer {session_cookie.value}"}).status_code == 401
    )
    bearer = api_token(svc, "auditor")
    stranger = browser(app)
    stranger.cookies.set("openfr_session", bearer, domain="testserver")
    assert stranger.get("/audit", follow_redirects=False).status_code == 303
    # Signing out ends the session on the server: a copy of the cookie is worthless afterwards.
    stolen = session_cookie.value
    assert client.post("/logout", data={"csrftoken": client.csrf}, follow_redirects=False).status_code == 303
    thief = browser(app)
    thief.cookies.set("openfr_session", stolen, domain="testserver")
    assert thief.get("/audit", follow_redirects=False).status_code == 303


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(app, svc):
    admin = sign_in(app, "administrator")
    form = {"username": "forged", "role": "administrator", "password": PASSWORD}
    assert admin.post("/users", data=form).status_code == 403
    assert admin.post("/users", data={**form, "csrftoken": "forged-token"}).status_code == 403
    with svc.runtime.db.read() as session:
        assert session.query(User).filter_by(username="forged").count() == 0
    assert admin.post("/users", data={**form, "csrftoken": admin.csrf}).status_code == 201
    upload = {"gallery": "g", "subject": "S", "source": "s", "csrftoken": admin.csrf}
    image = {"image": ("x.png", _grey_png(), "image/png")}
    no_token = {k: v for k, v in upload.items() if k != "csrftoken"}
    refused = admin.post("/enrol", data=no_token, files=image)
    assert refused.status_code == 403 and "security token" in refused.text
    # The token as the form's own field (a browser without JavaScript) passes: the gallery is what is wrong.
    assert admin.post("/enrol", data=upload, files=image).status_code == 404
    forged = admin.post("/enrol", data=upload, files=image, headers={"x-csrftoken": "forged-token"})
    assert forged.status_code == 403
    # A login form posted from another site (no CSRF cookie) is refused too: no login CSRF.
    cold = browser(app)
    assert cold.post("/login", data={"username": "auditor", "password": PASSWORD}).status_code == 403


def test_sign_in_failures_totp_and_redirects(app, svc):
    client = browser(app)
    token = csrf(client)
    refused = client.post("/login", data={"csrftoken": token, "username": "operator", "password": "wrong password!"})
    assert refused.status_code == 401 and "Sign-in refused" in refused.text
    add_user(svc, svc.admin, "two_factor", "investigator")
    secret_uri = svc.staff.enable_totp(svc.admin, "two_factor")
    failed = _events(svc, action="login.failed", actor="operator")
    assert failed and failed[-1]["reason"] == "wrong password or code"
    code = pyotp.parse_uri(secret_uri).now()
    data = {"csrftoken": token, "username": "two_factor", "password": PASSWORD}
    assert client.post("/login", data=data).status_code == 401  # the second factor is required
    done = client.post("/login", data={**data, "totp": code, "next": "//evil.example/x"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/"  # never an open redirect
    last = _events(svc, action="login", actor="two_factor")[-1]
    assert last["details"]["channel"] == "web"
    assert browser(app).get("/search?x=1", follow_redirects=False).headers["location"] == "/login?next=/search?x=1"


def test_enrol_by_upload_then_search_records_who_why_and_keeps_no_probe(app, svc, sample_paths):
    admin = sign_in(app, "administrator")
    portrait = sample_paths["yaoming"].read_bytes()
    form = {"csrftoken": admin.csrf, "gallery": "custody", "subject": "CUST-1", "display_name": "Yao"}
    form |= {"source": "custody suite, 2026-11-01"}  # no watchlist category: this gallery feeds no watchlist
    files = {"image": ("yao.jpg", portrait, "image/jpeg")}
    admin.headers["x-csrftoken"] = admin.csrf  # uploads go through htmx, which sends the token as a header
    approved = {"uses": ["oifr", "rfr"], "uses_shown": "1"}  # searched below by an officer, in OIFR mode
    created = admin.post("/galleries", data={"name": "custody", "purpose": "custody images (test)", **approved})
    assert created.status_code == 201 and "Created gallery custody" in created.text
    enrolled = admin.post("/enrol", data=form, files=files)
    assert enrolled.status_code == 201 and "Enrolled one image of CUST-1" in enrolled.text
    again = admin.post("/enrol", data=form, files=files)
    assert again.status_code == 200 and "already enrolled" in again.text
    no_face = admin.post(
        "/enrol", data={**form, "subject": "CUST-2"}, files={"image": ("x.png", _grey_png(), "image/png")}
    )
    assert no_face.status_code == 422 and "no face found" in no_face.text
    no_source = admin.post("/enrol", data={**form, "source": " "}, files=files)
    assert no_source.status_code == 400 and "provenance" in no_source.text
    assert not (svc.runtime.home / "tmp").exists()  # an upload is analysed in memory: no temporary folder

    token = api_token(svc, "officer")
    api = browser(app)
    headers = {"Authorization": f"Bearer {token}"}
    photo = {"image": ("probe.jpg", portrait, "image/jpeg")}
    before = {p for p in svc.runtime.home.rglob("*") if p.is_file()}
    missing_details = {"gallery": "custody", "grounds": "refuses", "details": " "}
    assert api.post("/api/oifr/search", data=missing_details, files=photo, headers=headers).status_code == 400
    grounds = {"gallery": "custody", "grounds": "refuses", "details": "refuses to give a name", "location": "CR/1/26"}
    found = api.post("/api/oifr/search", data=grounds, files=photo, headers=headers)
    assert found.status_code == 200, found.text
    assert found.json()["candidates"][0]["subject"] == "CUST-1"
    written = {p for p in svc.runtime.home.rglob("*") if p.is_file()} - before
    assert all(p.suffix not in (".jpg", ".png") for p in written), written  # the probe photo is never stored
    with svc.runtime.db.read() as session:
        record = session.query(SearchRecord).order_by(SearchRecord.id.desc()).first()
        assert (record.actor, record.mode, record.reason, record.location) == (
            "officer",
            "OIFR",
            "refuses to give a name",
            "CR/1/26",
        )
    listed = api.get("/api/galleries/custody/subjects", headers=headers)
    assert listed.status_code == 403  # officers search; they do not browse custody images


def test_uploads_up_to_the_limit_are_held_in_memory_never_spooled_to_a_temporary_file(tmp_path, monkeypatch):
    """A probe photo must never touch the disk: Starlette spools a part above `spool_max_size` (1 MiB) to a
    temporary file, so the server raises it to the upload limit. A 3 MB upload under a 4 MB limit is read
    without one rollover to disk."""
    import tempfile

    from starlette.formparsers import MultiPartParser

    monkeypatch.setattr(MultiPartParser, "spool_max_size", 1024 * 1024)  # Starlette's own, whatever ran before
    rolled: list[int] = []
    original = tempfile.SpooledTemporaryFile.rollover

    def rollover(self):
        rolled.append(self.tell())
        return original(self)

    monkeypatch.setattr(tempfile.SpooledTemporaryFile, "rollover", rollover)
    roomy_app = make_app(tmp_path, web={"upload_max_mb": 4})
    roomy = create_app(roomy_app)
    roomy_app.accounts.create_first_administrator("admin", PASSWORD, by="test")
    add_user(roomy_app, principal(roomy_app, "admin"), "investigator", "investigator")
    token = api_token(roomy_app, "investigator")
    photo = {"image": ("big.jpg", b"\xff" * 3_000_000, "image/jpeg")}
    answer = browser(roomy).post(
        "/api/search", data={"gallery": "g", "reason": "r"}, files=photo, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 404, answer.text  # read whole, then: no gallery g
    assert rolled == [], "an upload under the limit was spooled to a temporary file"


def test_oversized_uploads_are_refused(tmp_path):
    small_app = make_app(tmp_path, web={"upload_max_mb": 0.1})
    small = create_app(small_app)
    small_app.accounts.create_first_administrator("admin", PASSWORD, by="test")
    admin = principal(small_app, "admin")
    add_user(small_app, admin, "officer", "officer")
    token = api_token(small_app, "officer")
    big = {"image": ("big.jpg", b"\xff" * 300_000, "image/jpeg")}
    answer = browser(small).post(
        "/api/search", data={"gallery": "g", "reason": "r"}, files=big, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 413


def _grey_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), (128, 128, 128)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_camera_sources_from_the_web_are_urls_webcams_or_files_in_the_video_folder(app, svc):
    admin = sign_in(app, "administrator")
    base = {
        "csrftoken": admin.csrf,
        "name": "sources",
        "grounds": "g",
        "categories": "wanted-serious-offence",
        "source_gallery": demo.GALLERY,
        "location": "here",
        "location_rationale": "why",
        "camera_name_0": "cam",
        "notice_signage": "signs",
    }
    for bad in ("/etc/passwd", "../secrets/csrf.key", "file:///etc/passwd"):
        refused = admin.post("/deployments", data={**base, "camera_source_0": bad})
        assert refused.status_code == 400 and "video file in" in refused.text, bad
    made = admin.post("/deployments", data={**base, "camera_source_0": "rtsp://cam.example/1"}, follow_redirects=False)
    assert made.status_code == 303
    too_low = admin.post("/deployments", data={**base, "name": "low", "camera_source_0": "0", "threshold": "0.1"})
    assert too_low.status_code == 400 and "locked" in too_low.text
    for bad in ("nan", "inf", "1.5", "lots"):
        refused = admin.post("/deployments", data={**base, "name": "odd", "camera_source_0": "0", "threshold": bad})
        assert refused.status_code == 400 and "threshold" in refused.text, bad


def test_event_stream_delivers_new_alerts_and_replays_missed_ones(svc):
    """Against a real server: a published alert arrives as a rendered card; a reconnecting browser that
    sends Last-Event-ID gets the alerts stored since."""

    with running_console(svc) as base:
        # httpx sends Secure cookies over https only (browsers also to loopback: see test_browser), so the
        # cookies are carried by hand here.
        client = httpx.Client(base_url=base)
        page = client.get("/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        cookie = f"csrftoken={page.cookies['csrftoken']}"
        done = client.post(
            "/login",
            data={"csrftoken": token, "username": "operator", "password": PASSWORD},
            headers={"Cookie": cookie},
        )
        client.cookies.clear()
        client.headers["Cookie"] = f"{cookie}; openfr_session={done.cookies['openfr_session']}"
        assert client.get("/console").status_code == 200
        stored = _store_alerts(svc, 3)
        with client.stream("GET", "/console/events", timeout=10) as stream:
            svc.runtime.bus.publish("camera.health", {"deployment_id": 1, "camera": "gate", "state": "healthy"})
            svc.runtime.bus.publish("alert.created", alert_summary(stored[2]))  # as the alert store announces it
            seen = _read_events(stream, until="alert")
        assert any(e["event"] == "health" and "camera gate: healthy" in e["data"] for e in seen)
        card = next(e for e in seen if e["event"] == "alert")
        assert card["id"] == str(stored[2]) and f'id="alert-{stored[2]}"' in card["data"]
        # The card, read from the store, says where (deployment and location) and the score in words.
        assert "Confirm match" in card["data"] and "stream-" in card["data"] and "Stream Street" in card["data"]
        assert ">Strong</strong> (0.950; threshold 0.900): well above the threshold" in card["data"]
        # The stream ends once the session does (here: the account is disabled).
        from openfr.web.console import alerts_pages as console_alerts

        console_alerts.SESSION_CHECK_S, saved = 0.2, console_alerts.SESSION_CHECK_S
        try:
            with client.stream("GET", "/console/events", timeout=10) as stream:
                svc.staff.set_active(svc.admin, "operator", False, "test: the stream ends")
                ended = _read_events(stream, until="never")  # returns when the server closes the stream
            assert [e for e in ended if e["event"] != "ping"] == []  # an idle stream only says it is alive
        finally:
            console_alerts.SESSION_CHECK_S = saved
            svc.staff.set_active(svc.admin, "operator", True)
        # Enabling the account again does not revive the session disabling ended: it must sign in again.
        assert client.get("/console", follow_redirects=False).status_code in (303, 401)
        again = client.post(
            "/login",
            data={"csrftoken": token, "username": "operator", "password": PASSWORD},
            headers={"Cookie": cookie},
        )
        client.headers["Cookie"] = f"{cookie}; openfr_session={again.cookies['openfr_session']}"
        # A browser that saw the first of the stored alerts reconnects: it is sent the others, oldest first.
        with client.stream("GET", "/console/events", headers={"Last-Event-ID": str(stored[0])}, timeout=10) as stream:
            replayed = _read_events(stream, until="alert")
        assert replayed[-1]["id"] == str(stored[1]) and f'id="alert-{stored[1]}"' in replayed[-1]["data"]


def test_a_console_that_reconnects_gets_each_missed_alert_once(svc):
    """The page asks for the alerts after the newest it holds (`after`); a browser's own reconnection sends
    Last-Event-ID: the later of the two counts. An alert both replayed and announced on the bus (stored while
    the stream started) is sent once."""
    with running_console(svc) as base:
        client = _stream_client(base, "operator")
        first, missed, raced = _store_alerts(svc, 3)
        url = f"/console/events?after={first}"
        with client.stream("GET", url, headers={"Last-Event-ID": "0"}, timeout=10) as stream:
            lines = stream.iter_lines()
            caught_up = [e["id"] for e in _read_events(lines, until="alert", count=2) if e["event"] == "alert"]
            svc.runtime.bus.publish("alert.created", alert_summary(raced))  # replayed already: not again
            (new,) = _store_alerts(svc, 1)
            svc.runtime.bus.publish("alert.created", alert_summary(new))
            live = [e["id"] for e in _read_events(lines, until="alert") if e["event"] == "alert"]
        assert caught_up == [str(missed), str(raced)] and live == [str(new)]
        with client.stream("GET", url, headers={"Last-Event-ID": str(raced)}, timeout=10) as stream:
            (new_again,) = [e["id"] for e in _read_events(stream, until="alert") if e["event"] == "alert"]
        assert new_again == str(new)  # Last-Event-ID, later than `after`, wins
        assert client.get("/console/events?after=-1").status_code == 422
        assert client.get("/console/events?after=soon").status_code == 422


def _stream_client(base: str, username: str) -> httpx.Client:
    """A client signed in to a real server. httpx sends Secure cookies over https only (browsers also to
    loopback: see test_browser), so the cookies are carried by hand."""
    client = httpx.Client(base_url=base)
    page = client.get("/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
    cookie = f"csrftoken={page.cookies['csrftoken']}"
    done = client.post(
        "/login", data={"csrftoken": token, "username": username, "password": PASSWORD}, headers={"Cookie": cookie}
    )
    client.cookies.clear()
    client.headers["Cookie"] = f"{cookie}; openfr_session={done.cookies['openfr_session']}"
    return client


def _store_alerts(svc: Application, n: int) -> list[int]:
    """Alerts as a camera would store them, on a deployment made for the purpose."""
    from openfr.live import lifecycle
    from openfr.store import Alert

    with svc.runtime.db.transaction() as session:
        now = lifecycle.now_utc()
        name = f"stream-{now.timestamp():.6f}".replace(".", "-")
        plan = a_plan({"gate": "rtsp://cam.example/1"}, name=name, categories=["missing-person"],
                      source_gallery=demo.GALLERY, location="Stream Street", starts_at=now, threshold=0.9)  # fmt: skip
        deployment = lifecycle.create(session, plan, created_by="test", floor=0.0, box=svc.runtime.secret_box)
        ids = []
        for i in range(n):
            alert = Alert(
                deployment_id=deployment.id,
                subject_ref=f"S-{i}",
                category="missing-person",
                camera="gate",
                track=i,
                score=0.95,
                threshold=0.9,
                quality={},
                frame=i,
                stream_time=0.0,
                first_usable_frame=i,
                time_to_alert_ms=1.0,
                state="pending",
            )
            session.add(alert)
            session.flush()
            ids.append(alert.id)
    return ids


def _read_events(stream, until: str, count: int = 1) -> list[dict]:
    """The events up to the `count`-th named `until` (all of them if the stream ends first). `stream`: a
    response, or the iterator of its lines to go on reading where an earlier call stopped."""
    events, current = [], {"data": ""}
    for line in stream.iter_lines() if hasattr(stream, "iter_lines") else stream:
        if not line:
            if "event" in current:
                events.append(current)
                if current["event"] == until and sum(e["event"] == until for e in events) == count:
                    return events
            current = {"data": ""}
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            current[field] = current["data"] + value if field == "data" else value
    return events


def test_vendored_assets_match_their_pinned_hashes_and_pages_load_nothing_from_elsewhere():
    vendor = STATIC / "vendor"
    pinned = dict(reversed(line.split()) for line in (vendor / "ASSETS.sha256").read_text().splitlines())
    assert set(pinned) == {p.name for p in vendor.glob("*.js")}  # every vendored script pinned, no stray one
    for name, digest in pinned.items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
    templates = (STATIC.parent / "templates").glob("*.html")
    for template in templates:
        text = template.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), f"{template.name} loads from another site"
        for asset in re.findall(r'src="/static/vendor/([^"]+)"', text):
            assert asset in pinned, asset


def test_api_token_can_run_a_deployment_lifecycle(app, svc):
    """Create (administrator), authorise (authorising officer), close (operator) over the API."""
    tokens = {u: api_token(svc, u) for u in ("administrator", "authorising_officer", "operator")}
    api = browser(app)

    def call(user, method, url, body=None):
        return api.request(method, url, json=body, headers={"Authorization": f"Bearer {tokens[user]}"})

    plan = {
        "name": "api-made",
        "grounds": "g",
        "categories": ["wanted-serious-offence"],
        "source_gallery": demo.GALLERY,
        "location": "l",
        "location_rationale": "r",
        "cameras": {"cam": "rtsp://cam.example/1"},
        "public_notice": {"signage": "signs"},
    }
    made = call("administrator", "POST", "/api/deployments", plan)
    assert made.status_code == 201 and made.json()["state"] == "draft"
    assert call("administrator", "POST", "/api/deployments", plan).status_code == 409  # same name
    assert call("administrator", "POST", "/api/deployments/api-made/authorise", {"note": ""}).status_code == 403
    checklist = dict.fromkeys(("necessity", "watchlist", "notice", "threshold"), True)  # every item confirmed
    authorised = call(
        "authorising_officer", "POST", "/api/deployments/api-made/authorise", {"note": "ok", "checklist": checklist}
    )
    assert authorised.status_code == 200 and authorised.json()["watchlist_entries"] == 1
    assert call("operator", "POST", "/api/deployments/api-made/stop").status_code == 409  # not running
    closed = call("operator", "POST", "/api/deployments/api-made/close", {"reason": "operation over"})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert call("operator", "POST", "/api/deployments/api-made/start").status_code == 409
    spec = api.get("/openapi.json").json()
    assert {"/api/search", "/api/galleries/{name}/enrol", "/api/deployments/{name}/start"} <= spec["paths"].keys()
    assert json.dumps(spec).count("/console") == 0  # pages stay out of the API description


def test_auditor_filters_verifies_and_exports_the_trail_and_the_export_is_recorded(app, svc):
    auditor = sign_in(app, "auditor")
    page = auditor.get("/audit", params={"action": "login", "actor": "auditor"})
    assert page.status_code == 200
    actions = re.findall(r"<td>(login[^<]*)</td>", page.text)
    assert actions and set(actions) <= {"login", "login.failed"}
    assert "Chain verified" in auditor.get("/audit", params={"verify": 1}).text
    exported = auditor.get("/audit/export", params={"format": "csv", "action": "login"})
    assert exported.status_code == 200 and exported.headers["content-disposition"].endswith('openfr-audit.csv"')
    rows = exported.text.strip().splitlines()
    assert rows[0].startswith("id,at,actor,action") and all(",login" in r for r in rows[1:])
    lines = auditor.get("/audit/export", params={"format": "jsonl"}).text.strip().splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)  # oldest first, hashes included
    assert all(len(e["hash"]) == 64 for e in events)
    recorded = _events(svc, action="audit.export", actor="auditor")
    assert [r["details"]["format"] for r in recorded][-2:] == ["csv", "jsonl"]


def test_administrator_disables_a_user_whose_session_then_ends(app, svc):
    add_user(svc, svc.admin, "leaver", "operator")
    leaver = sign_in(app, "leaver")
    assert leaver.get("/console").status_code == 200
    admin = sign_in(app, "administrator")
    own = admin.post("/users/administrator/active", data={"csrftoken": admin.csrf, "active": "false"})
    assert own.status_code == 409  # no administrator locks themselves out
    asked = admin.post("/users/leaver/active", data={"csrftoken": admin.csrf, "active": "false"})
    assert asked.status_code == 200 and "Disable leaver?" in asked.text  # a second step, nothing changed yet
    assert leaver.get("/console").status_code == 200
    form = {"csrftoken": admin.csrf, "active": "false", "confirm": "yes", "reason": "left the force"}
    done = admin.post("/users/leaver/active", data=form)
    assert done.status_code == 200 and "leaver disabled" in done.text
    assert leaver.get("/console", follow_redirects=False).status_code == 303  # signed out at once


def test_deleting_a_subject_needs_a_reason_and_is_recorded(app, svc, sample_paths):
    admin = sign_in(app, "administrator")
    admin.headers["x-csrftoken"] = admin.csrf
    form = {"gallery": "erasure", "subject": "GONE-1", "source": "test upload"}
    image = {"image": ("p.jpg", sample_paths["yaoming"].read_bytes(), "image/jpeg")}
    assert admin.post("/galleries", data={"name": "erasure", "purpose": "deletion test"}).status_code == 201
    assert admin.post("/enrol", data=form, files=image).status_code == 201
    no_reason = admin.post("/galleries/erasure/subjects/GONE-1/delete", data={"reason": "", "confirm": "yes"})
    assert no_reason.status_code == 400 and "reason is required" in no_reason.text
    why = {"reason": "acquitted: record removed"}
    asked = admin.post("/galleries/erasure/subjects/GONE-1/delete", data=why)  # first step: asks, deletes nothing
    assert asked.status_code == 200 and "Delete GONE-1 from erasure?" in asked.text
    done = admin.post("/galleries/erasure/subjects/GONE-1/delete", data={**why, "confirm": "yes"})
    assert done.status_code == 200 and "Deleted GONE-1" in done.text and "GONE-1</td>" not in done.text
    event = [e for e in _events(svc, resource="gallery:erasure") if e["action"] == "subject.delete"][-1]
    assert event["actor"] == "administrator" and event["reason"] == "acquitted: record removed"


def test_users_set_up_their_own_second_factor_and_change_their_password(app, svc):
    add_user(svc, svc.admin, "self_service", "auditor")
    me = sign_in(app, "self_service")
    new = "a much longer passphrase"
    bad = me.post("/account/password", data={"csrftoken": me.csrf, "current": "not it at all", "new": new})
    assert bad.status_code == 400
    good = me.post("/account/password", data={"csrftoken": me.csrf, "current": PASSWORD, "new": new})
    assert good.status_code == 200 and "Password changed" in good.text
    assert svc.accounts.sign_in("self_service", new, None, TokenKind.API).principal.role is Role.AUDITOR

    started = me.post("/account/totp", data={"csrftoken": me.csrf})
    assert started.status_code == 200 and "<svg" in started.text
    secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', started.text).group(1)
    wrong = me.post("/account/totp/confirm", data={"csrftoken": me.csrf, "secret": secret, "code": "000000"})
    assert wrong.status_code == 400 and 'class="totp-state">off<' in wrong.text  # nothing stored yet
    code = pyotp.TOTP(secret).now()
    taken = me.post("/account/totp/confirm", data={"csrftoken": me.csrf, "secret": secret, "code": code})
    assert taken.status_code == 400 and "password" in taken.text  # a session alone cannot set a factor
    bad_key = {"csrftoken": me.csrf, "secret": "not base32!", "code": code, "password": new}
    assert me.post("/account/totp/confirm", data=bad_key).status_code == 400  # a clear refusal, not a 500
    on = me.post("/account/totp/confirm", data={"csrftoken": me.csrf, "secret": secret, "code": code, "password": new})
    assert on.status_code == 200 and 'class="totp-state">on<' in on.text
    client = browser(app)
    data = {"csrftoken": csrf(client), "username": "self_service", "password": new}
    assert client.post("/login", data=data).status_code == 401  # now a code is required
    assert client.post("/login", data={**data, "totp": code}).status_code == 401  # and the one used is spent
    next_code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
    assert client.post("/login", data={**data, "totp": next_code}, follow_redirects=False).status_code == 303
