"""Pictures where people look: the search probe drawn in the page with a box round every face (never stored,
never cached), candidates at or above the threshold unless all are asked for (and that choice recorded),
thumbnails served by audited routes, and a gallery's subjects a page at a time."""

from __future__ import annotations

import base64
import html
import io
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from actors import PASSWORD, api_token, console_client, demo_installation, make_app
from openfr.governance import audit
from openfr.services import Application, demo
from openfr.store import SearchRecord, SourceImage, Subject
from openfr.thresholds import identification_threshold
from openfr.web.app import create_app

GALLERY = demo.GALLERY  # the demo's watchlist: Yao Ming alone, with templates
EXTRA = 120  # subjects added for paging: 121 in all, three pages of 50
INLINE_PROBE = re.compile(r'<image href="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"')
VIEWBOX = re.compile(r'class="probe-picture" viewBox="0 0 (\d+) (\d+)"')


@pytest.fixture(scope="module")
def svc(tmp_path_factory) -> Application:
    application = make_app(tmp_path_factory.mktemp("pictures"))
    demo_installation(application, password=PASSWORD, deployment=False)
    # Paging needs more subjects than the demo has: rows that reuse the demo portrait as their image (the
    # list and its thumbnails are what is tested here, not enrolment, which has its own tests).
    with application.runtime.db.transaction() as session:
        yao = session.scalar(sa.select(Subject).where(Subject.external_id == "yao"))
        image = session.scalar(sa.select(SourceImage).where(SourceImage.subject_id == yao.id))
        for i in range(EXTRA):
            subject = Subject(gallery_id=yao.gallery_id, external_id=f"P-{i:03d}", display_name=f"Person {i}")
            session.add(subject)
            session.flush()
            session.add(
                SourceImage(
                    subject_id=subject.id, sha256=image.sha256, stored_path=image.stored_path, original_name="p.jpg",
                    provenance="paging test", status="enrolled",
                )
            )  # fmt: skip
    return application


@pytest.fixture(scope="module")
def web(svc):
    return create_app(svc)


def console(web, username: str) -> TestClient:
    return console_client(web, username, PASSWORD)


def search(client: TestClient, photo: bytes, **extra) -> object:
    form = {"gallery": GALLERY, "reason": "pictures test", **extra}
    return client.post("/search", data=form, files={"image": ("probe.jpg", photo, "image/jpeg")})


def oifr_search(client: TestClient, photo: bytes) -> object:
    form = {"grounds": "refuses", "details": "pictures test"}
    return client.post("/oifr", data=form, files={"image": ("probe.jpg", photo, "image/jpeg")})


def events(svc: Application, **filters) -> list[dict]:
    with svc.runtime.db.read() as session:
        return audit.events(session, **filters)


def last_search_event(svc: Application) -> dict:
    return [e for e in events(svc, action="search") if e["action"] == "search"][-1]


def last_record(svc: Application) -> SearchRecord:
    with svc.runtime.db.read() as session:
        return session.scalars(sa.select(SearchRecord).order_by(SearchRecord.id.desc())).first()


def every_file(svc: Application) -> dict:
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in svc.runtime.home.rglob("*") if p.is_file()}


def test_the_probe_is_drawn_inline_with_its_face_boxes_and_never_reaches_disk(web, svc, sample_paths):
    investigator = console(web, "demo-investigator")
    crowd = sample_paths["players"].read_bytes()
    assert search(investigator, sample_paths["yaoming"].read_bytes()).status_code == 200  # builds the index
    before = every_file(svc)
    page = search(investigator, crowd)
    after = every_file(svc)
    assert page.status_code == 200, page.text[:500]
    assert set(after) == set(before), "a search wrote a new file under $OPENFR_HOME"
    changed = {p.name for p in after if after[p] != before[p]}
    assert changed <= {"openfr.db", "openfr.db-wal", "openfr.db-shm", "audit-checkpoints.jsonl"}, changed
    assert "no-store" in page.headers["cache-control"]
    # The picture travels inside the page: a JPEG as big as the SVG's own coordinates, no URL to fetch it by.
    inline = INLINE_PROBE.search(page.text)
    assert inline is not None and "/probe" not in page.text
    picture = Image.open(io.BytesIO(base64.b64decode(inline.group(1))))
    width, height = (int(v) for v in VIEWBOX.search(page.text).groups())
    assert picture.format == "JPEG" and picture.size == (width, height) and max(width, height) <= 720
    # A box for every face in the team photo, exactly one of them (number 1) the face searched, inside it.
    boxes = re.findall(r'<g class="face-box( searched)?" data-face="(\d+)">\s*<rect class="halo" x="([\d.]+)" '
                       r'y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', page.text)  # fmt: skip
    assert len(boxes) >= 10 and [b[1] for b in boxes if b[0]] == ["1"]
    for _, _, x, y, w, h in boxes:
        assert float(x) >= 0 and float(x) + float(w) <= width + 0.1 and 0 <= float(y) <= height and float(h) > 0
    assert f"{len(boxes)} faces found" in page.text
    # The quality notes of the face searched, each beside the gate's limit.
    assert re.search(r"eyes \d+ px apart \(at least 16 needed\)", page.text)
    assert "Sharpness" in page.text and "Detector confidence" in page.text


def test_only_candidates_at_the_threshold_are_listed_unless_all_are_asked_for_and_that_is_recorded(
    web, svc, sample_paths
):
    investigator = console(web, "demo-investigator")
    stranger = sample_paths["gdp"].read_bytes()  # nobody in the watchlist
    default = search(investigator, stranger)
    assert default.status_code == 200
    record, event = last_record(svc), last_search_event(svc)
    # The identification threshold for the gallery's size (never below the 1:1 one), as recorded and shown.
    engine = svc.runtime.engine
    size = event["details"]["gallery_size"]
    threshold = identification_threshold(engine.card, size, svc.runtime.settings.search.rfr_target_fpir,
                                         at_least=engine.threshold)  # fmt: skip
    assert event["details"]["threshold"] == round(threshold, 4) and threshold >= engine.threshold
    assert f"No candidate reached the threshold ({threshold:.3f})." in default.text
    assert "below threshold" not in default.text and 'class="candidates"' not in default.text
    assert record.candidates == [] and event["details"]["show_all"] is False
    assert event["details"]["candidates"] == 0 and event["details"]["reached"] == 0

    everything = search(investigator, stranger, show_all="true")
    assert everything.status_code == 200
    rows = re.findall(r'<tr class="(above|below)"><td>(\d+)</td>', everything.text)
    assert rows and all(kind == "below" for kind, _ in rows)
    assert everything.text.count(">below threshold<") == len(rows)
    assert "No candidate reached the threshold" in everything.text
    assert 'name="show_all" value="true" checked' in everything.text  # the form keeps the choice
    record, event = last_record(svc), last_search_event(svc)
    assert event["details"]["show_all"] is True and event["details"]["candidates"] == len(rows)
    assert [c["subject"] for c in record.candidates] == ["yao"] and record.candidates[0]["score"] < threshold

    known = search(investigator, sample_paths["yaoming"].read_bytes())
    assert re.search(r'<tr class="above"><td>1</td>', known.text) and "below threshold" not in known.text
    assert "No candidate reached" not in known.text


def test_the_api_lists_candidates_at_the_threshold_unless_show_all(web, svc, sample_paths):
    token = api_token(svc, "demo-investigator", PASSWORD)  # retrospective searches are an investigator's
    api = TestClient(web, base_url="https://testserver", headers={"Authorization": f"Bearer {token}"})
    photo = {"image": ("p.jpg", sample_paths["gdp"].read_bytes(), "image/jpeg")}
    form = {"gallery": GALLERY, "reason": "api pictures test"}
    plain = api.post("/api/search", data=form, files=photo)
    assert plain.status_code == 200, plain.text
    body = plain.json()
    assert body["candidates"] == [] and body["show_all"] is False and body["threshold"] > 0
    assert body["faces"] and sum(f["searched"] for f in body["faces"]) == 1
    assert all(len(f["box"]) == 4 for f in body["faces"])
    listed = api.post("/api/search", data={**form, "show_all": "true"}, files=photo).json()
    assert [c["subject"] for c in listed["candidates"]] == ["yao"] and listed["candidates"][0]["reached"] is False
    assert last_search_event(svc)["details"]["show_all"] is True
    searches = len(events(svc, action="search"))
    refused = api.post("/api/search", data={**form, "show_all": "perhaps"}, files=photo)
    assert refused.status_code == 422  # neither yes nor no: nothing searched, nothing recorded
    assert len(events(svc, action="search")) == searches


def test_candidate_thumbnails_are_for_the_searcher_alone_and_each_look_is_recorded(web, svc, sample_paths):
    investigator, officer = console(web, "demo-investigator"), console(web, "demo-officer")
    page = search(investigator, sample_paths["yaoming"].read_bytes())
    src = re.search(r'<img class="thumb" src="(/searches/(\d+)/candidates/1/image\.jpg)\?grant=([^"]+)"', page.text)
    assert src is not None
    url, search_id, grant = src.group(1), int(src.group(2)), html.unescape(src.group(3))
    before = len(events(svc))
    shown = investigator.get(url, params={"grant": grant})
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert "no-store" in shown.headers["cache-control"]
    assert max(Image.open(io.BytesIO(shown.content)).size) <= 192  # a thumbnail, not the stored original
    assert len(events(svc)) == before  # seen with its search, whose event lists the candidates
    # Fetched without the search's grant, the look is an event of its own.
    assert investigator.get(url).status_code == 200
    viewed = events(svc, action="search.candidate-image.view")[-1]
    assert viewed["actor"] == "demo-investigator" and viewed["resource"] == f"search:{search_id}"
    assert viewed["details"] == {"rank": 1, "subject": "yao"}
    assert len(events(svc)) == before + 1
    # Another person's search (with its grant too), a rank it did not list, a search that does not exist:
    # nothing, and no record but the officer's refusal (they run no retrospective search).
    assert officer.get(url, params={"grant": grant}).status_code in (403, 404)
    assert investigator.get(f"/searches/{search_id}/candidates/2/image.jpg").status_code == 404
    assert investigator.get("/searches/999999/candidates/1/image.jpg").status_code == 404
    assert len([e for e in events(svc)[before:] if e["action"] != "refused"]) == 1
    # An officer has no gallery.read, yet sees the candidates of their own (OIFR) search, and only those.
    own = oifr_search(officer, sample_paths["yaoming"].read_bytes())
    own_url = html.unescape(re.search(r'src="(/searches/\d+/candidates/1/image\.jpg\?grant=[^"]+)"', own.text).group(1))
    assert officer.get(own_url).status_code == 200
    assert officer.get("/galleries/demo-watchlist/subjects/yao/image.jpg").status_code == 403


def test_subject_thumbnails_are_recorded_and_refused_without_gallery_read(web, svc):
    url = f"/galleries/{GALLERY}/subjects/yao/image.jpg"
    refused = [console(web, username) for username in ("demo-officer", "demo-operator", "demo-authoriser")]
    auditor = console(web, "demo-auditor")
    before = len(events(svc))
    assert [client.get(url).status_code for client in refused] == [403, 403, 403]
    assert [e["action"] for e in events(svc)[before:]] == ["refused"] * 3  # a refusal is not a look, but recorded
    before = len(events(svc))
    shown = auditor.get(url)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert "no-store" in shown.headers["cache-control"]
    Image.open(io.BytesIO(shown.content)).verify()
    assert auditor.get(f"/galleries/{GALLERY}/subjects/nobody/image.jpg").status_code == 404
    viewed = events(svc)[before:]
    assert [(e["actor"], e["action"], e["resource"], e["details"]) for e in viewed] == [
        ("demo-auditor", "subject.image.view", f"gallery:{GALLERY}", {"subject": "yao"})
    ]


def test_a_gallery_pages_through_its_subjects_with_lazy_thumbnails(web, svc):
    investigator = console(web, "demo-investigator")
    first = investigator.get(f"/galleries/{GALLERY}")
    assert first.status_code == 200
    assert f"Subjects 1–50 of {EXTRA + 1}" in first.text
    assert first.text.count('loading="lazy"') == 50
    assert f'src="/galleries/{GALLERY}/subjects/P-000/image.jpg?grant=' in first.text
    assert 'href="?page=2" rel="next"' in first.text and 'rel="prev"' not in first.text
    last = investigator.get(f"/galleries/{GALLERY}", params={"page": 3})
    assert f"Subjects 101–{EXTRA + 1} of {EXTRA + 1}" in last.text and "Page 3 of 3" in last.text
    assert 'href="?page=2" rel="prev"' in last.text and 'rel="next"' not in last.text
    assert ">yao<" in last.text  # ordered by reference: the demo subject comes last
    views = events(svc, action="gallery.view")[-2:]
    assert [(e["details"]["offset"], e["details"]["shown"], e["details"]["total"]) for e in views] == [
        (0, 50, EXTRA + 1),
        (100, EXTRA + 1 - 100, EXTRA + 1),
    ]
    filtered = investigator.get(f"/galleries/{GALLERY}", params={"q": "P-1"})
    assert "Subjects 1–20 of 20" in filtered.text and 'class="pager"' not in filtered.text
    assert investigator.get(f"/galleries/{GALLERY}", params={"q": "P-", "page": 2}).text.count("?q=P-&amp;page=") == 2


@pytest.mark.parametrize("page", ["0", "4", "-1", "two", "", "1.5", "²", "9" * 12])
def test_a_page_that_does_not_exist_is_a_clear_400_and_not_recorded(web, svc, page):
    investigator = console(web, "demo-investigator")
    before = len(events(svc, action="gallery.view"))
    answer = investigator.get(f"/galleries/{GALLERY}", params={"page": page})
    assert answer.status_code == 400, answer.text[:300]
    assert "page" in answer.text and ("whole number" in answer.text or "3 pages" in answer.text)
    assert len(events(svc, action="gallery.view")) == before


def two_people(sample_paths) -> bytes:
    """Yao Ming's portrait beside a smaller group photo: his is the largest face (the one searched), the
    others get boxes of their own. Made in memory and handed to the browser as a buffer."""
    portrait = Image.open(sample_paths["yaoming"]).convert("RGB")
    group = Image.open(sample_paths["gdp"]).convert("RGB")
    group = group.resize((group.width // 2, group.height // 2))
    canvas = Image.new("RGB", (portrait.width + group.width, max(portrait.height, group.height)), (200, 200, 200))
    canvas.paste(portrait, (0, 0))
    canvas.paste(group, (portrait.width, 0))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def site(svc):
    from web_server import running_console

    with running_console(svc) as base:
        yield base


VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 412, "height": 915}, "is_mobile": True, "color_scheme": "dark"},
}


@pytest.mark.parametrize("screen", list(VIEWPORTS))
def test_in_a_browser_the_probe_shows_its_boxes_beside_candidate_thumbnails(site, chromium, sample_paths, screen):
    from playwright.sync_api import expect

    from browsers import image_loaded, serious, shot

    page = chromium.page(site, **VIEWPORTS[screen])
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security" in message.text else None)
    page.goto("/login")
    page.fill("input[name=username]", "demo-investigator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")
    page.goto("/search")
    page.select_option("select[name=gallery]", GALLERY)
    page.fill("input[name=reason]", "Suspect in a theft, CCTV still")
    photo = {"name": "still.jpg", "mimeType": "image/jpeg", "buffer": two_people(sample_paths)}
    page.set_input_files("input[name=image]", photo)
    page.click("form[action='/search'] button[type=submit]")
    picture = page.locator("svg.probe-picture")
    expect(picture).to_be_visible()
    expect(page.locator("svg.probe-picture g.face-box.searched")).to_have_count(1)
    assert page.locator("svg.probe-picture g.face-box").count() >= 2
    assert page.evaluate("document.activeElement.id") == "results"  # focus follows the swap to the result
    # The inline picture is painted (the CSP lets `data:` images through): not one flat colour.
    drawn = Image.open(io.BytesIO(picture.screenshot())).convert("L")
    assert drawn.getextrema()[1] - drawn.getextrema()[0] > 100 and not blocked, blocked
    row = page.locator("table.candidates tr.above").first
    expect(row).to_contain_text("yao")
    thumb = row.locator("img.thumb")
    thumb.scroll_into_view_if_needed()
    assert image_loaded(thumb)
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[screen]["viewport"]["width"]
    shot(page, f"10-search-pictures-{screen}")
    assert serious(page) == []
    page.goto(f"/galleries/{GALLERY}")
    first = page.locator("table.subjects img.thumb").first
    assert image_loaded(first)
    expect(page.locator(".listing-count")).to_have_text(f"Subjects 1–50 of {EXTRA + 1}")
    shot(page, f"11-gallery-pictures-{screen}")
    assert serious(page) == []
    page.context.close()
