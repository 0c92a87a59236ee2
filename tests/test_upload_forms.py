"""Every upload form of the console, submitted in a real browser (Debian's Chromium) as a person would, with
JavaScript on and off: enrolment (galleries page), retrospective search, the officer's OIFR page (desktop
and phone size) and subject access (by reference and by photo). Each checks what the person sees after
submitting and what the store then holds.

With JavaScript off the browser sends a plain multipart form whose CSRF token is its `csrftoken` field (the
subject-access form has no script at all, so it is always sent that way): before issue 21 every one of these
was refused with 403 ("uploads must carry the CSRF token in the x-csrftoken header").

One helper per form (fill, attach, submit), so that a form that changes is changed here once.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from actors import PASSWORD, demo_installation, make_app
from browsers import PHONE, needs_chromium
from openfr.governance import audit
from openfr.services import demo
from openfr.store import Gallery, SearchRecord, Subject
from web_server import running_console

pytestmark = needs_chromium

WORDING = "Possible match: confirm identity by other means."
ENROLMENTS = "browser-enrolments"
JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    """A demo installation (its accounts, watchlist and custody gallery) served on a free loopback port."""
    app = make_app(tmp_path_factory.mktemp("upload-forms"))
    demo_installation(app, password=PASSWORD, deployment=False)
    investigator = demo.sign_in(app, "demo-investigator", PASSWORD)
    app.galleries.create(investigator, ENROLMENTS, "browser test enrolments")  # apart from what is searched
    with running_console(app) as base:
        yield app, base


def _label(javascript: bool, device: str | None = None) -> str:
    return ("js-on" if javascript else "js-off") + (f"-{device.lower().replace(' ', '-')}" if device else "")


# -- one helper per form -------------------------------------------------------------------------------------


def enrol(page, *, gallery: str, subject: str, source: str, photo) -> None:
    page.goto("/galleries")
    form = page.locator("form[action='/enrol']")
    form.locator("select[name=gallery]").select_option(gallery)
    form.locator("input[name=subject]").fill(subject)
    form.locator("input[name=source]").fill(source)
    form.locator("input[name=image]").set_input_files(str(photo))
    form.locator("button[type=submit]").click()


def search(page, *, gallery: str, reason: str, photo) -> None:
    page.goto("/search")
    form = page.locator("form[action='/search']")
    form.locator("select[name=gallery]").select_option(gallery)
    form.locator("input[name=reason]").fill(reason)
    form.locator("input[name=image]").set_input_files(str(photo))
    form.locator("button[type=submit]").click()


def oifr(page, *, grounds: str, details: str, location: str, photo, gallery: str | None = None) -> None:
    page.goto("/oifr")
    page.set_input_files("#oifr-photo", str(photo))
    if gallery is not None:  # offered when several galleries are approved for OIFR
        page.select_option("#oifr-gallery", gallery)
    page.click(f"#oifr-form label.choice:has(input[value={grounds}])")
    page.fill("#oifr-details", details)
    page.fill("#oifr-location", location)
    page.click("#oifr-form button[type=submit]")


def subject_access(page, *, reason: str, reference: str = "", photo=None) -> None:
    page.goto("/subject-access")
    form = page.locator("form[action='/subject-access']")
    form.locator("input[name=reason]").fill(reason)
    form.locator("input[name=reference]").fill(reference)
    if photo is not None:
        form.locator("input[name=photo]").set_input_files(str(photo))
    form.locator("button[type=submit]").click()


def confirm_candidates(page, *candidates: str) -> None:
    """The second step of a request by photo: tick the candidates who are the person ("gallery/reference")."""
    form = page.locator("form[action='/subject-access/confirm']")
    for candidate in candidates:
        form.locator(f"input[name=confirmed][value='{candidate}']").check()
    form.locator("button[type=submit]").click()


# -- what the store holds ------------------------------------------------------------------------------------


def _subject(app, gallery: str, reference: str) -> Subject | None:
    with app.runtime.db.read() as session:
        query = sa.select(Subject).join(Gallery).where(Gallery.name == gallery, Subject.external_id == reference)
        return session.scalar(query)


def _search_record(app, reason: str) -> SearchRecord | None:
    with app.runtime.db.read() as session:
        return session.scalar(sa.select(SearchRecord).where(SearchRecord.reason == reason))


def _subject_access_events(app, reason: str) -> list[dict]:
    with app.runtime.db.read() as session:
        found = audit.events(session, action="subject-access")
    return [e for e in found if e["reason"] == reason and e["action"] == "subject-access"]


# -- the forms -----------------------------------------------------------------------------------------------


@JAVASCRIPT
def test_enrolment_from_the_galleries_page(installation, chromium, sample_paths, javascript):
    from playwright.sync_api import expect

    app, base = installation
    reference = f"BROWSER-{_label(javascript).upper()}"
    page = chromium.signed_in(base, "demo-investigator", PASSWORD, javascript=javascript)
    enrol(
        page,
        gallery=ENROLMENTS,
        subject=reference,
        source="custody record, browser test",
        photo=sample_paths["yaoming"],
    )
    expect(page.locator("main [role=status]")).to_have_text(f"Enrolled one image of {reference}.")
    expect(page.locator("h1")).to_contain_text(ENROLMENTS)
    enrolled = _subject(app, ENROLMENTS, reference)
    assert enrolled is not None and enrolled.source == "custody record, browser test (uploaded by demo-investigator)"
    with app.runtime.db.read() as session:
        last = audit.events(session, action="enrol", resource=f"gallery:{ENROLMENTS}")[-1]
    assert (last["actor"], last["details"]["enrolled"]) == ("demo-investigator", 1)


@JAVASCRIPT
def test_retrospective_search(installation, chromium, sample_paths, javascript):
    from playwright.sync_api import expect

    app, base = installation
    reason = f"browser test, retrospective, {_label(javascript)}"
    page = chromium.signed_in(base, "demo-investigator", PASSWORD, javascript=javascript)
    search(page, gallery=demo.GALLERY, reason=reason, photo=sample_paths["yaoming"])
    expect(page.locator("#results")).to_have_text("Result of the search")
    expect(page.locator("table.candidates")).to_contain_text("Yao Ming (demo)")
    record = _search_record(app, reason)
    assert record is not None and (record.actor, record.mode, record.gallery) == (
        "demo-investigator",
        "RFR",
        demo.GALLERY,
    )
    assert record.candidates[0]["subject"] == "yao"


@pytest.mark.parametrize("device", [None, PHONE], ids=["desktop", "phone"])
@JAVASCRIPT
def test_the_officers_oifr_page(installation, chromium, sample_paths, javascript, device):
    from playwright.sync_api import expect

    app, base = installation
    details = f"Refuses to give a name; browser test {_label(javascript, device)}."
    page = chromium.signed_in(base, "demo-officer", PASSWORD, javascript=javascript, device=device)
    oifr(page, grounds="refuses", details=details, location="High Street", photo=sample_paths["yaoming"])
    results = page.locator("#oifr-results")
    expect(results.locator("[data-wording]")).to_have_text(WORDING)
    expect(results.locator("ol.oifr-candidates li").first).to_contain_text("Yao Ming (demo)")
    record = _search_record(app, details)
    assert record is not None
    assert (record.actor, record.mode, record.gallery) == ("demo-officer", "OIFR", demo.CUSTODY)
    assert (record.grounds, record.location) == ("refuses", "High Street")


@JAVASCRIPT
def test_subject_access_by_reference(installation, chromium, javascript):
    from playwright.sync_api import expect

    app, base = installation
    reason = f"DPO-REF-{_label(javascript)}"
    page = chromium.signed_in(base, "demo-auditor", PASSWORD, javascript=javascript)
    subject_access(page, reason=reason, reference="yao")
    matched = page.locator("main table").first
    expect(matched).to_contain_text("yao")
    expect(page.locator("main h2").first).not_to_have_text("Subjects matched (0)")
    (event,) = _subject_access_events(app, reason)
    assert (event["actor"], event["details"]["by"]) == ("demo-auditor", "reference")
    assert event["details"]["subjects"] >= 1


@JAVASCRIPT
def test_subject_access_by_photo(installation, chromium, sample_paths, javascript):
    from playwright.sync_api import expect

    app, base = installation
    reason = f"DPO-PHOTO-{_label(javascript)}"
    page = chromium.signed_in(base, "demo-auditor", PASSWORD, javascript=javascript)
    subject_access(page, reason=reason, photo=sample_paths["yaoming"])
    # First the candidates, each with its enrolled image, and nothing about their records.
    expect(page.locator("#match-title")).to_contain_text("to confirm")
    expect(page.locator("label.candidate img").first).to_have_js_property("complete", True)
    assert page.locator("label.candidate img").first.evaluate("img => img.naturalWidth") > 0
    expect(page.locator("main")).not_to_contain_text("Deployment watchlists")
    assert _subject_access_events(app, reason) == []
    confirm_candidates(page, f"{demo.GALLERY}/yao")
    expect(page.locator("main h2").first).to_have_text("Subjects confirmed (1)")
    expect(page.locator("main table").first).to_contain_text("yao")
    (event,) = _subject_access_events(app, reason)
    assert (event["actor"], event["details"]["by"], event["details"]["subjects"]) == ("demo-auditor", "photo", 1)


@pytest.fixture(scope="module")
def two_custody_galleries(tmp_path_factory, sample_paths):
    """A demo installation with a second gallery approved for OIFR: the phone page offers the choice."""
    from openfr.services.galleries import EnrolFields

    app = make_app(tmp_path_factory.mktemp("two-custody"))
    demo_installation(app, password=PASSWORD, deployment=False)
    admin = demo.sign_in(app, "demo-admin", PASSWORD)
    app.galleries.create(admin, "custody-north", "custody images of another force (test)", ["oifr"])
    fields = EnrolFields("custody-north", "N-1", "test", display_name="Yao Ming (north)")
    app.galleries.enrol_upload(admin, fields, filename="y.jpg", data=sample_paths["yaoming"].read_bytes())
    with running_console(app) as base:
        yield app, base


@JAVASCRIPT
def test_the_oifr_page_offers_the_galleries_to_choose_from(two_custody_galleries, chromium, sample_paths, javascript):
    """Issue 21, finding 12: with two galleries approved for OIFR the page said "choose one" and offered none."""
    from playwright.sync_api import expect

    app, base = two_custody_galleries
    details = f"Choice of gallery; browser test {_label(javascript)}."
    page = chromium.signed_in(base, "demo-officer", PASSWORD, javascript=javascript)
    oifr(
        page,
        grounds="refuses",
        details=details,
        location="Station",
        photo=sample_paths["yaoming"],
        gallery="custody-north",
    )
    expect(page.locator("#oifr-results ol.oifr-candidates li").first).to_contain_text("Yao Ming (north)")
    record = _search_record(app, details)
    assert record is not None and record.gallery == "custody-north"
