"""The officer's phone page (/oifr): operator-initiated facial recognition on a demo installation.

At the door (TestClient): the page offers the camera, the approved grounds and the web-app manifest; a search
answers with the probe drawn inline (never a URL), the wording, the candidates' audited custody images and
`Cache-Control: no-store`; refusals (no face, grounds not on the list, a role without search.run) say why and
record nothing; the officer's result is recorded once. In a real browser at a Pixel 7's viewport (touch,
mobile): an officer signs in, takes a photo, survives no signal, a busy server and a time-out with Retry
(the same photo each time), sees the candidates with their images, records the result, and axe finds no
serious or critical violation before and after.
"""

from __future__ import annotations

import io
import json
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from actors import PASSWORD, console_client, demo_installation, make_app
from browsers import serious, shot
from openfr.services import demo
from openfr.store import AuditEvent, SearchRecord
from openfr.web.app import create_app
from web_server import running_console

OFFICER, AUDITOR = "demo-officer", "demo-auditor"
DETAILS = "Stopped leaving a shop with unpaid goods; refuses to give a name."
WORDING = "Possible match: confirm identity by other means."
MANIFEST = "/static/oifr.webmanifest"


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    """A demo installation: its accounts, and its custody gallery approved for OIFR."""
    app = make_app(tmp_path_factory.mktemp("oifr-phone"))
    demo_installation(app, password=PASSWORD, deployment=False)
    return app


@pytest.fixture(scope="module")
def web(installation):
    return create_app(installation)


def _console(web, name: str) -> TestClient:
    return console_client(web, name)


@pytest.fixture(scope="module")
def officer(web):
    return _console(web, OFFICER)


def _searches(app) -> int:
    with app.runtime.db.read() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(SearchRecord))


def _result_events(app, search_id: int) -> list[AuditEvent]:
    with app.runtime.db.read() as session:
        query = sa.select(AuditEvent).where(AuditEvent.action == "search.result")
        return list(session.scalars(query.where(AuditEvent.resource == f"search:{search_id}")))


def _search(client, photo: bytes, grounds: str = "refuses", details: str = DETAILS, location: str = "High St"):
    form = {"grounds": grounds, "details": details, "location": location}
    return client.post("/oifr", data=form, files={"image": ("photo.jpg", photo, "image/jpeg")})


def test_the_page_offers_the_camera_the_approved_grounds_and_the_web_app(installation, officer):
    page = officer.get("/oifr")
    assert page.status_code == 200
    html = page.text
    assert re.search(r'<input[^>]*type="file"[^>]*accept="image/\*"[^>]*capture="environment"', html)
    assert ">Take photo<" in html
    for grounds in installation.oifr.grounds():
        assert f'type="radio" name="grounds" value="{grounds["key"]}"' in html
        assert grounds["label"] in html
    assert f'<link rel="manifest" href="{MANIFEST}">' in html and '<meta name="theme-color"' in html
    assert '<script src="/static/oifr.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # the CSP forbids inline scripts
    home = officer.get("/").text  # officers land on the dashboard: the phone page is one tap away
    assert 'class="card oifr-card" href="/oifr"' in home and '<a href="/oifr">Identify a person</a>' in home


def test_the_manifest_makes_an_installable_app_with_icons_of_its_own(officer):
    answer = officer.get(MANIFEST)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(answer.text)
    assert manifest["start_url"] == "/oifr" and manifest["display"] == "standalone"
    assert manifest["name"] and 0 < len(manifest["short_name"]) <= 12
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"]) and manifest["background_color"]
    sizes = set()
    for icon in manifest["icons"]:
        served = officer.get(icon["src"])
        assert served.status_code == 200 and served.headers["content-type"].startswith(icon["type"]), icon
        if icon["type"] == "image/png":
            picture = Image.open(io.BytesIO(served.content))
            assert f"{picture.width}x{picture.height}" == icon["sizes"], icon
            sizes.add((picture.width, icon["purpose"]))
    assert {(192, "any"), (512, "any"), (512, "maskable")} <= sizes  # what Android's install prompt wants


def test_a_search_answers_with_the_probe_inline_the_wording_and_custody_images_never_cached(
    installation, officer, sample_paths
):
    before = _searches(installation)
    answer = _search(officer, sample_paths["yaoming"].read_bytes())
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["cache-control"] == "no-store"
    html = answer.text
    assert WORDING in html
    assert 'href="data:image/jpeg;base64,' in html  # the probe travels inside the page, never as a URL
    search_id = int(re.search(r'data-search-id="(\d+)"', html).group(1))
    images = re.findall(rf'src="(/searches/{search_id}/candidates/(\d+)/image.jpg\?grant=[^"]+)"', html)
    assert images and images[0][1] == "1"  # each with the grant that makes it part of the search's record
    assert "Yao Ming (demo)" in html  # the same face, enrolled in demo-custody, comes first
    for src, _rank in images:
        custody = officer.get(src)
        assert custody.status_code == 200 and custody.headers["content-type"] == "image/jpeg"
    assert f'action="/oifr/searches/{search_id}/result"' in html
    assert _searches(installation) == before + 1
    with installation.runtime.db.read() as session:
        record = session.get(SearchRecord, search_id)
        recorded = (record.mode, record.gallery, record.grounds, record.location)
    assert recorded == ("OIFR", demo.CUSTODY, "refuses", "High St")
    assert record.actor == OFFICER and record.result is None


def test_no_face_is_a_400_that_says_so_on_the_page_and_keeps_what_was_typed(installation, officer):
    blank = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 130, 140)).save(blank, format="JPEG")
    before = _searches(installation)
    answer = _search(officer, blank.getvalue())
    assert answer.status_code == 400
    assert "no face found" in answer.text
    assert DETAILS in answer.text and 'value="refuses" required checked' in answer.text
    assert _searches(installation) == before


def test_grounds_not_on_the_approved_list_are_a_400_before_the_photo_is_looked_at(installation, officer, sample_paths):
    before = _searches(installation)
    answer = _search(officer, sample_paths["yaoming"].read_bytes(), grounds="looked-suspicious")
    assert answer.status_code == 400 and "grounds must be one of" in answer.text
    empty = _search(officer, sample_paths["yaoming"].read_bytes(), details="  ")
    assert empty.status_code == 400 and "details" in empty.text
    assert _searches(installation) == before


def test_a_role_without_search_run_is_refused_the_page_the_search_and_the_result(installation, web, sample_paths):
    auditor = _console(web, AUDITOR)
    before = _searches(installation)
    assert auditor.get("/oifr").status_code == 403
    assert _search(auditor, sample_paths["yaoming"].read_bytes()).status_code == 403
    refused = auditor.post("/oifr/searches/1/result", data={"result": "inconclusive", "csrftoken": auditor.csrf})
    assert refused.status_code == 403
    assert _searches(installation) == before
    assert 'href="/oifr"' not in auditor.get("/").text  # no link to a page the role may not use


def test_the_officers_result_is_recorded_once_in_the_search_record_and_the_audit_trail(
    installation, officer, sample_paths
):
    html = _search(officer, sample_paths["yaoming"].read_bytes()).text
    search_id = int(re.search(r'data-search-id="(\d+)"', html).group(1))
    url = f"/oifr/searches/{search_id}/result"
    bad = officer.post(url, data={"result": "probably", "csrftoken": officer.csrf})
    assert bad.status_code == 400 and "result must be one of" in bad.text
    done = officer.post(url, data={"result": "not-the-person", "note": "PNC check", "csrftoken": officer.csrf})
    assert done.status_code == 200
    assert 'data-recorded="not-the-person"' in done.text and f"for search {search_id}" in done.text
    again = officer.post(url, data={"result": "inconclusive", "csrftoken": officer.csrf})
    assert again.status_code == 409 and "recorded already" in again.text
    with installation.runtime.db.read() as session:
        record = session.get(SearchRecord, search_id)
        assert (record.result, record.result_by) == ("not-the-person", OFFICER)
    events = _result_events(installation, search_id)
    assert [(e.actor, e.reason, e.details["result"]) for e in events] == [(OFFICER, "PNC check", "not-the-person")]


# -- in a real browser, at a phone's viewport --------------------------------------------------------------------
PIXEL_7 = {  # Playwright's "Pixel 7" descriptor, written out so that the test does not depend on its version
    "viewport": {"width": 412, "height": 915},
    "device_scale_factor": 2.625,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36"
    ),
}


@pytest.fixture(scope="module")
def phone_site(installation):
    with running_console(installation) as base:
        yield base


def _failure_shown(page, words: str) -> None:
    from playwright.sync_api import expect

    failure = page.locator("#oifr-form [data-failure]")
    expect(failure).to_be_visible()
    expect(failure).to_contain_text(words)
    retry = failure.locator("[data-retry]")
    expect(retry).to_be_visible()
    expect(retry).to_be_focused()  # where the thumb goes next


def _phone(chromium, base: str):
    """A Pixel 7 signed in as the demo officer (tapping, not clicking), on the dashboard."""
    page = chromium.signed_in(base, OFFICER, PASSWORD, **PIXEL_7)
    return page.context, page


def test_an_officer_searches_from_a_phone_through_poor_signal_and_records_the_result(
    installation, phone_site, chromium, sample_paths
):
    from playwright.sync_api import expect

    base = phone_site
    context, page = _phone(chromium, base)
    page.tap("a.oifr-card")  # the dashboard's card
    page.wait_for_url(f"{base}/oifr")
    assert serious(page) == []

    manifest = page.request.get(page.get_attribute("link[rel=manifest]", "href"))
    fields = json.loads(manifest.text())
    assert (fields["start_url"], fields["display"]) == ("/oifr", "standalone") and fields["icons"]
    for target in ("label.take-photo", "#oifr-form label.choice", "#oifr-form button[type=submit]"):
        for box in page.eval_on_selector_all(target, "all => all.map(e => e.getBoundingClientRect().height)"):
            assert box >= 44, target  # large touch targets

    photo = sample_paths["yaoming"]
    page.set_input_files("#oifr-photo", str(photo))
    expect(page.locator("[data-photo-ready]")).to_be_visible()
    expect(page.locator("[data-photo-label]")).to_have_text("Retake photo")
    page.tap("label.choice:has(input[value=refuses])")
    page.fill("#oifr-details", DETAILS)
    page.fill("#oifr-location", "High Street")

    # No signal: said in words, with Retry; nothing reached the server.
    before = _searches(installation)
    context.set_offline(True)
    page.tap("#oifr-form button[type=submit]")
    _failure_shown(page, "the request did not complete")
    context.set_offline(False)
    assert _searches(installation) == before

    # A busy server (503 with Retry-After) and then no answer at all: each said in words, and each Retry sends the
    # same photo, held in the page's memory.
    bodies = []

    def busy(route):
        bodies.append(route.request.post_data_buffer)
        route.fulfill(status=503, headers={"Retry-After": "3"}, body="the server is busy; try again shortly")

    page.route("**/oifr", busy)
    page.tap("#oifr-form [data-retry]")
    _failure_shown(page, "The server is busy. Wait 3 seconds")
    page.unroute("**/oifr")
    page.route("**/oifr", lambda route: bodies.append(route.request.post_data_buffer))  # never answered
    page.eval_on_selector("#oifr-form", "form => form.setAttribute('data-timeout-s', '2')")
    page.tap("#oifr-form [data-retry]")
    _failure_shown(page, "No answer after 2 seconds")
    page.unroute_all(behavior="ignoreErrors")
    # Chromium hands Playwright a request's form fields but not a file's bytes: each attempt carried the photo
    # taken (its name), and the last Retry below, the same again, is searched and finds that face.
    assert len(bodies) == 2 and all(b'name="image"; filename="yaoming.jpg"' in body for body in bodies)
    assert _searches(installation) == before

    # Signal again: Retry, and the candidates arrive beside the photo.
    with page.expect_response(lambda r: r.url == f"{base}/oifr" and r.request.method == "POST") as answered:
        page.tap("#oifr-form [data-retry]")
    assert answered.value.status == 200 and answered.value.headers["cache-control"] == "no-store"
    results = page.locator("#oifr-results")
    expect(results).to_be_visible()
    expect(page.locator("#oifr-results-title")).to_be_focused()
    expect(page.locator("[data-wording]")).to_have_text(WORDING)
    expect(page.locator(".oifr-candidate").first).to_contain_text("Yao Ming (demo)")
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.custody')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert page.locator("img.custody").count() >= 1
    probe = page.get_attribute("#oifr-probe-image", "href")
    assert probe.startswith("data:image/jpeg;base64,")  # drawn in memory: there is no URL to fetch it again
    sources = page.eval_on_selector_all("main img", "all => all.map(i => i.getAttribute('src'))")
    assert sources and all(src.startswith(f"/searches/{results.get_attribute('data-search-id')}/") for src in sources)
    search_id = int(results.get_attribute("data-search-id"))
    assert _searches(installation) == before + 1
    shot(page, "oifr-phone-results")
    assert serious(page) == []

    # The officer's result: recorded, and it stays on the page beside the photo and the candidates.
    page.tap("#oifr-outcome label.choice:has(input[value=confirmed-by-other-means])")
    page.tap("#oifr-outcome button[type=submit]")
    recorded = page.locator("#oifr-outcome [data-recorded]")
    expect(recorded).to_have_attribute("data-recorded", "confirmed-by-other-means")
    expect(recorded).to_contain_text(f"for search {search_id}")
    expect(page.locator("#oifr-outcome form")).to_have_count(0)
    expect(page.locator("#oifr-probe-image")).to_have_count(1)
    expect(page.locator(".oifr-candidate")).not_to_have_count(0)
    assert serious(page) == []
    page.emulate_media(color_scheme="dark")  # a night shift: the dark theme's colours too
    assert serious(page) == []
    with installation.runtime.db.read() as session:
        record = session.get(SearchRecord, search_id)
        assert (record.result, record.result_by, record.grounds) == ("confirmed-by-other-means", OFFICER, "refuses")
        assert record.location == "High Street"
    assert [(e.actor, e.details["result"]) for e in _result_events(installation, search_id)] == [
        (OFFICER, "confirmed-by-other-means")
    ]
    context.close()


def test_a_large_photo_is_shrunk_on_the_phone_before_it_is_sent(phone_site, chromium, sample_paths, tmp_path):
    """A 12 MP photo goes as a ~5 MP JPEG made on the phone (SEND_MAX_SIDE): four times less to send."""
    from playwright.sync_api import expect

    from openfr.web.console.oifr_pages import SEND_MAX_SIDE

    big = tmp_path / "big.jpg"
    portrait = Image.open(sample_paths["yaoming"])
    portrait.resize((portrait.width * 14, portrait.height * 14)).save(big, quality=92)  # 3262 x 4018
    assert max(Image.open(big).size) > SEND_MAX_SIDE
    context, page = _phone(chromium, phone_site)
    page.goto("/oifr")
    page.set_input_files("#oifr-photo", str(big))
    page.tap("label.choice:has(input[value=injury])")
    page.fill("#oifr-details", DETAILS)
    bodies = []

    def watch(route):
        bodies.append(route.request.post_data_buffer)
        route.continue_()

    page.route("**/oifr", watch)
    page.tap("#oifr-form button[type=submit]")
    expect(page.locator(".oifr-candidate").first).to_contain_text("Yao Ming (demo)")
    # The part's name and type are the phone's own JPEG's, not the file's (Chromium does not show its bytes).
    assert len(bodies) == 1 and b'name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg' in bodies[0]
    context.close()
