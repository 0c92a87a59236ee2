"""The console against WCAG 2.2 AA, in a real browser: axe-core (axe-playwright-python) on every page each
role can reach by following the console's own links, at a desktop and a phone viewport and in the dark
theme; no serious or critical violation may remain. Pages that reveal a role's links differ, so the crawl
runs as each role."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from actors import make_app
from openfr.governance.permissions import Role
from openfr.services import demo
from test_browser import ARGS, CHROMIUM, PASSWORD
from web_server import running_console

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ROLES = {  # the demo's account for each role
    Role.ADMINISTRATOR: "demo-admin",
    Role.AUTHORISING_OFFICER: "demo-authoriser",
    Role.OPERATOR: "demo-operator",
    Role.INVESTIGATOR: "demo-investigator",
    Role.AUDITOR: "demo-auditor",
    Role.OFFICER: "demo-officer",
}
# Downloads and images are not pages; signing out would end the crawl.
NOT_PAGES = re.compile(r"(\.(jpg|png|csv|json|jsonl|svg)$)|export|/logout|/console/events|format=")
MAX_PAGES = 30  # per role: the console has fewer, so every page is reached
PHONE_CHECKED: set[str] = set()  # pages already checked at the phone viewport in the dark theme


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("a11y"))
    demo.prepare(app, password=PASSWORD, deployment=True)
    with running_console(app) as base:
        yield base


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            where = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {where}")
    return found


def _sign_in(browser, base: str, username: str, **context):
    page = browser.new_context(base_url=base, **context).new_page()
    page.set_default_timeout(20_000)
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def crawl(page, base: str) -> list[str]:
    """Every console page reachable from the dashboard by links, breadth first."""
    seen, queue = [], ["/"]
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        try:
            page.goto(path)
        except Exception as exc:  # a download (a report, an export) is not a page
            if "Download is starting" in str(exc):
                continue
            raise
        seen.append(path)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            target = urlparse(href)
            if target.netloc or not target.path.startswith("/") or target.path.startswith("/static"):
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if not NOT_PAGES.search(link) and link not in seen and link not in queue:
                queue.append(link)
    return seen


@pytest.mark.parametrize("role", list(ROLES), ids=[r.value for r in ROLES])
def test_every_page_of_every_role_meets_wcag_22_aa(site, chromium, role):
    base = site
    page = _sign_in(chromium, base, ROLES[role])
    pages = crawl(page, base)
    assert len(pages) >= 3, pages  # the dashboard, the account page and the role's own pages at least
    problems = {}
    for path in pages:
        page.goto(path)
        if found := _serious(page):
            problems[path] = found
    assert problems == {}, problems
    # The phone viewport and the dark theme change layout and colours: the role's pages again in both, each
    # page once across roles (the first role to reach it), which keeps the suite quick.
    phone = _sign_in(chromium, base, ROLES[role], viewport={"width": 412, "height": 915}, color_scheme="dark")
    for path in [p for p in pages if p not in PHONE_CHECKED]:
        PHONE_CHECKED.add(path)
        phone.goto(path)
        if found := _serious(phone):
            problems[f"{path} (phone, dark)"] = found
    assert problems == {}, problems


def test_a_keyboard_reaches_the_main_content_first_and_sees_where_it_is(site, chromium):
    page = _sign_in(chromium, site, ROLES[Role.OPERATOR])
    page.goto("/console")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    outline = page.evaluate(
        "(() => { const b = document.querySelector('main button, main a, main input');"
        " b.focus(); return getComputedStyle(b).outlineStyle; })()"
    )
    assert outline not in ("none", "")  # focus is visible
