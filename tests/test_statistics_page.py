"""The statistics page in a real browser (Debian's Chromium), at a desktop and at a phone's viewport in the
dark theme: an auditor chooses a period, reads the totals, the two charts (each one image with a name that
states its figures) and the table, downloads the CSV, and a period that is not one says why. axe-core finds
no serious or critical WCAG 2.2 AA violation. Screenshots go to test-artifacts/."""

from __future__ import annotations

import csv
import io
import re

import pytest

from actors import PASSWORD, demo_installation, make_app
from browsers import serious, shot
from openfr.services import demo
from statistics_data import the_first_days_of_may
from web_server import running_console

PHONE = {"viewport": {"width": 412, "height": 915}, "color_scheme": "dark"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("statistics-page"))
    demo_installation(app, password=PASSWORD, deployment=False)
    the_first_days_of_may(app, demo.GALLERY)
    with running_console(app) as base:
        yield base


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone-dark"])
def test_an_auditor_reads_a_period_as_totals_charts_and_table_and_downloads_it(site, chromium, device):
    from playwright.sync_api import expect

    page = chromium.signed_in(site, "demo-auditor", PASSWORD, accept_downloads=True, **device)
    page.get_by_role("link", name="Statistics").first.click()
    page.get_by_label("From").fill("2026-05-01")
    page.get_by_label("To (inclusive)").fill("2026-05-03")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/statistics\?from=2026-05-01&to=2026-05-03$"))
    expect(page.locator("#total-alerts")).to_have_text("6")
    expect(page.locator("#total-faces")).to_have_text("2500")
    summary = r"^Alerts per deployment: 6 in 2 deployment\(s\); 1 confirmed, 2 false"
    alerts_chart = page.get_by_role("img", name=re.compile(summary))
    expect(alerts_chart).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"^False alerts per 100,000 people seen"))).to_be_visible()
    rows = page.locator("table.stats tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("tr[data-deployment=first-morning] .n-alerts")).to_have_text("3")
    # The chart fills its column, at a desktop and at a phone, and the page itself never scrolls sideways
    # (the wide table scrolls inside its own region).
    width = page.evaluate("window.innerWidth")
    box = alerts_chart.bounding_box()
    assert box is not None and 0.6 * min(width, 640) <= box["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert serious(page) == []
    shot(page, f"statistics-{'phone' if device is PHONE else 'desktop'}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    exported = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert [r[0] for r in exported] == ["deployment", "last-second", "first-morning", "Total (2 deployments)"]
    assert download.value.suggested_filename == "openfr-statistics-2026-05-01-to-2026-05-03.csv"


def test_a_period_that_is_not_one_is_shown_with_its_reason(site, chromium):
    from playwright.sync_api import expect

    page = chromium.signed_in(site, "demo-auditor", PASSWORD, **PHONE)
    answer = page.goto("/statistics?from=last+tuesday")
    assert answer is not None and answer.status == 400
    expect(page.get_by_role("alert")).to_contain_text("from: not a date (YYYY-MM-DD): 'last tuesday'")
    expect(page.locator("table.stats")).to_have_count(0)
    expect(page.get_by_role("img")).to_have_count(0)
    assert serious(page) == []
