"""The console in a real browser (Debian's Chromium driven by Playwright): an administrator plans a
deployment, an authorising officer authorises it, an operator starts it on a clip made from the model
wheel's team photo, sees the alert arrive on the live console without reloading, confirms it and records
the outcome; an auditor finds it in the statistics and the audit trail. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import pytest

from actors import PASSWORD, demo_installation, make_app
from browsers import image_loaded, shot
from openfr.services import demo
from web_server import running_console


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """A real server over the demo's gallery, clip and accounts."""
    app = make_app(tmp_path_factory.mktemp("console"))
    prepared = demo_installation(app, password=PASSWORD, deployment=False)
    with running_console(app) as base:
        yield base, prepared


def test_deployment_from_plan_to_adjudicated_alert_in_statistics_and_audit(console, chromium):
    base, prepared = console
    from playwright.sync_api import expect

    # An administrator plans the deployment; every safeguard is a form field.
    admin = chromium.signed_in(base, "demo-admin", PASSWORD)
    admin.goto("/deployments/new")
    admin.fill("input[name=name]", "browser-test")
    admin.fill("textarea[name=grounds]", "Wanted for a serious offence; intelligence places him at the station.")
    admin.check("input[value=wanted-serious-offence]")
    admin.select_option("select[name=source_gallery]", demo.GALLERY)
    admin.fill("input[name=location]", "Station forecourt")
    admin.fill("textarea[name=location_rationale]", "Sightings reported there this week.")
    admin.fill("input[name=camera_source_0]", prepared.clip.name)
    admin.fill("input[name=notice_signage]", "Signs at both entrances")
    shot(admin, "01-plan-deployment")
    admin.click("form[action='/deployments'] button[type=submit]")
    expect(admin.locator("h1")).to_contain_text("browser-test")
    expect(admin.locator("h1 .state")).to_have_text("draft")
    # The planner cannot authorise their own deployment: the page offers them no such button.
    expect(admin.locator("form[action$='/authorise']")).to_have_count(0)

    authoriser = chromium.signed_in(base, "demo-authoriser", PASSWORD)
    authoriser.goto("/deployments/browser-test")
    authoriser.fill("input[name=note]", "Necessary and proportionate for this operation.")
    for box in authoriser.locator("input[name=checklist]").all():  # every item is required
        box.check()
    authoriser.click("form[action$='/authorise'] button")
    expect(authoriser.locator("[role=status]")).to_contain_text("Authorised")
    expect(authoriser.locator("h1 .state")).to_have_text("authorised")
    shot(authoriser, "02-authorised")

    # The operator opens the live console first, then starts the cameras from a second tab: the alert must
    # reach the open console over server-sent events, with no reload.
    operator = chromium.signed_in(base, "demo-operator", PASSWORD)
    operator.goto("/console")
    operator.evaluate("window.notReloaded = true")
    expect(operator.locator("#alerts .alert-card")).to_have_count(0)
    expect(operator.locator("#alerts")).to_have_attribute("data-stream-state", "open")  # the stream is connected
    control = operator.context.new_page()
    control.goto(f"{base}/deployments/browser-test")
    control.click("form[action$='/start'] button")
    expect(control.locator("[role=status]")).to_contain_text("Running")

    card = operator.locator("#alerts .alert-card").first
    expect(card).to_be_visible(timeout=60_000)
    assert operator.evaluate("window.notReloaded") is True
    expect(card.locator("h3")).to_contain_text("pending")
    expect(card).to_contain_text("yao")
    expect(card).to_contain_text("cam-1")
    for image in ("crop", "watchlist"):  # the card may be shown before its images have arrived: wait for each
        assert image_loaded(card.locator(f"img[src*='/{image}.jpg?grant=']")), f"the {image} image did not load"
    shot(operator, "03-alert-arrived")

    card.locator("input[name=note]").fill("Same person: face shape, ears and hairline agree.")
    card.locator("button[value=confirmed]").click()
    expect(card.locator("h3")).to_contain_text("confirmed")
    card.locator("select[name=outcome]").select_option("engaged-arrest")
    card.locator("button", has_text="Record outcome").click()
    expect(card.locator(".outcome")).to_have_text("engaged-arrest")
    shot(operator, "04-confirmed")

    # A phone-sized screen: the same console, one column, buttons full width.
    phone = chromium.signed_in(base, "demo-operator", PASSWORD, viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.goto("/console")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the console scrolls sideways on a phone ({width}px)"
    shot(phone, "05-console-phone")

    auditor = chromium.signed_in(base, "demo-auditor", PASSWORD)
    auditor.goto("/statistics")
    row = auditor.locator("tr[data-deployment=browser-test]")
    expect(row.locator(".n-alerts")).to_have_text("1")
    expect(row.locator(".n-confirmed")).to_have_text("1")
    expect(row).to_contain_text("engaged-arrest: 1")
    shot(auditor, "06-statistics")
    auditor.goto("/audit?resource=deployment:browser-test")
    actions = auditor.locator("table.audit td:nth-child(4)").all_inner_texts()
    assert {"deployment.create", "deployment.authorise", "deployment.start"} <= set(actions)
    auditor.goto("/audit?action=alert")  # the family: every alert.* action
    rows = auditor.locator("table.audit tr").all_inner_texts()
    assert any("demo-operator" in r and "alert.confirm" in r for r in rows)
    assert any("demo-operator" in r and "alert.outcome" in r for r in rows)
    auditor.click("text=Verify the whole chain")
    expect(auditor.locator("[role=status]")).to_contain_text("Chain verified")
    shot(auditor, "07-audit")


def test_enrol_and_search_uploads_from_the_browser(console, chromium, sample_paths):
    """Uploads go through htmx with the CSRF header; the search photo is never stored."""
    base, _ = console
    from playwright.sync_api import expect

    investigator = chromium.signed_in(base, "demo-investigator", PASSWORD)
    investigator.goto("/galleries")
    investigator.fill("form[action='/galleries'] input[name=name]", "browser-custody")  # a gallery: its own step
    investigator.fill("form[action='/galleries'] textarea[name=purpose]", "custody images (browser test)")
    investigator.click("form[action='/galleries'] button[type=submit]")
    expect(investigator.locator("[role=status]")).to_contain_text("Created gallery browser-custody")
    expect(investigator.locator("select[name=gallery]")).to_have_value("browser-custody")
    investigator.fill("input[name=subject]", "CUST-77")
    investigator.fill("input[name=display_name]", "Sample Person")
    investigator.fill("input[name=source]", "custody suite, sample photo")
    investigator.set_input_files("input[name=image]", str(sample_paths["yaoming"]))
    investigator.click("form[action='/enrol'] button[type=submit]")
    expect(investigator.locator("[role=status]")).to_contain_text("Enrolled one image of CUST-77")
    expect(investigator.locator("h1")).to_have_text("Gallery browser-custody")
    shot(investigator, "08-enrolled")

    # A retrospective search (an investigator's), at a phone's size: officers use the OIFR page instead.
    searcher = chromium.signed_in(
        base, "demo-investigator", PASSWORD, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    searcher.goto("/search")
    searcher.select_option("select[name=gallery]", "browser-custody")
    searcher.fill("input[name=reason]", "Refuses to give a name after arrest for theft")
    searcher.fill("input[name=crime_ref]", "CR/77/26")
    searcher.set_input_files("input[name=image]", str(sample_paths["yaoming"]))
    searcher.click("form[action='/search'] button[type=submit]")
    top = searcher.locator("table tr.above").first
    expect(top).to_contain_text("CUST-77")
    shot(searcher, "09-search-phone")
    searcher.fill("input[name=reason]", " ")
    searcher.set_input_files("input[name=image]", str(sample_paths["gdp"]))
    searcher.click("form[action='/search'] button[type=submit]")
    expect(searcher.locator("[role=alert]")).to_contain_text("needs a reason")
