"""Real browsers for the console tests: Debian's Chromium driven by Playwright, with JavaScript on or off, at
desktop or phone size (Playwright's own device descriptors), signed in through the real login form.

One Chromium per test process (conftest's `chromium` fixture); each test gets its own contexts (cookies,
storage), closed when it ends:

    def test_x(chromium, site):
        page = chromium.signed_in(site, "demo-officer", PASSWORD, javascript=False, device=PHONE)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"  # screenshots, for people to look at
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]  # axe-core's tags for WCAG 2.2 AA
PHONE = "Pixel 7"  # an Android phone of the kind officers carry: touch, mobile viewport
# Chromium on a closed network: no background calls home, no sandbox (CI runs as root), no GPU.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",  # the alert chime plays as it would for an operator
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (scripts/test.sh installs it)"
)


@dataclass
class Chromium:
    browser: object  # playwright's Browser
    devices: dict[str, dict]
    contexts: list = field(default_factory=list)  # what this test opened, closed at its end

    def context(self, base: str, *, javascript: bool = True, device: str | None = None, **options):
        """A browser context of its own (its own cookies), JavaScript on or off, optionally a phone; other
        Playwright context options (viewport, color_scheme, accept_downloads, ...) as given."""
        emulated = {k: v for k, v in self.devices[device].items() if k != "default_browser_type"} if device else {}
        context = self.browser.new_context(base_url=base, java_script_enabled=javascript, **{**emulated, **options})
        context.set_default_timeout(30_000)
        self.contexts.append(context)
        return context

    def page(self, base: str, **options):
        """A new page in a context of its own (see `context`)."""
        return self.context(base, **options).new_page()

    def signed_in(self, base: str, username: str, password: str, *, init_script: str | None = None, **options):
        """A page signed in through the login form, on the dashboard it leads to (`init_script`: JavaScript
        that runs in every page of its context before the page's own)."""
        context = self.context(base, **options)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        touch = options.get("has_touch") or (options.get("device") and self.devices[options["device"]]["has_touch"])
        (page.tap if touch else page.click)("button[type=submit]")  # a phone's screen is tapped
        page.wait_for_url(f"{base}/")
        assert page.locator(".who").inner_text().startswith(username)
        return page

    @contextlib.contextmanager
    def for_a_test(self) -> Iterator[Chromium]:
        """The same browser, with the contexts a test opens closed when it ends."""
        mine = Chromium(self.browser, self.devices)
        try:
            yield mine
        finally:
            for context in mine.contexts:
                with contextlib.suppress(Exception):  # closed by the test already, or the page crashed
                    context.close()


@contextlib.contextmanager
def launched() -> Iterator[Chromium]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield Chromium(browser, playwright.devices)
        finally:
            browser.close()


def shot(page, name: str) -> None:
    """A full-page screenshot in test-artifacts/ (CI keeps them for people to look at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# Settles when the image has loaded (true) or failed (false): a page can show an <img> before its bytes arrive.
_IMAGE_SETTLED = """img => img.complete ? img.naturalWidth > 0 : new Promise(settle => {
  img.addEventListener("load", () => settle(img.naturalWidth > 0), { once: true });
  img.addEventListener("error", () => settle(false), { once: true });
})"""


def image_loaded(image) -> bool:
    """Whether the <img> `image` (a Playwright locator) loaded: waits for it to load or to fail."""
    return image.evaluate(_IMAGE_SETTLED)


def serious(page) -> list[str]:
    """axe-core's serious and critical WCAG 2.2 AA violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            where = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {where}")
    return found
