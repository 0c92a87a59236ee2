"""The console against WCAG 2.2 AA, in a real browser: axe-core (axe-playwright-python) on every page each
role can reach by following the console's own links, at a desktop and a phone viewport and in the dark
theme; no serious or critical violation may remain. Pages that reveal a role's links differ, so the crawl
runs as each role."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlparse

import pytest

from actors import PASSWORD, demo_console
from browsers import serious
from openfr.governance.permissions import Role

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
    with demo_console(tmp_path_factory.mktemp("a11y"), deployment=True) as (_app, base):
        yield base


def crawl(page, visit: Callable[[str], None]) -> list[str]:
    """Every console page reachable from the dashboard by links, breadth first; `visit(path)` is called on
    each page once it has loaded (one navigation a page)."""
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
        visit(path)
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
    page = chromium.signed_in(base, ROLES[role], PASSWORD)
    problems = {}

    def check(path: str) -> None:
        if found := serious(page):
            problems[path] = found

    pages = crawl(page, check)
    assert len(pages) >= 3, pages  # the dashboard, the account page and the role's own pages at least
    assert problems == {}, problems
    # The phone viewport and the dark theme change layout and colours: the role's pages again in both, each
    # page once across roles (the first role to reach it), which keeps the suite quick.
    phone = chromium.signed_in(base, ROLES[role], PASSWORD, viewport={"width": 412, "height": 915}, color_scheme="dark")
    for path in [p for p in pages if p not in PHONE_CHECKED]:
        PHONE_CHECKED.add(path)
        phone.goto(path)
        if found := serious(phone):
            problems[f"{path} (phone, dark)"] = found
    assert problems == {}, problems


def test_a_keyboard_reaches_the_main_content_first_and_sees_where_it_is(site, chromium):
    page = chromium.signed_in(site, ROLES[Role.OPERATOR], PASSWORD)
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
