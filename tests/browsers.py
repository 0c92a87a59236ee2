"""Real browsers for the console tests: Debian's Chromium driven by Playwright, with JavaScript on or off, at
desktop or phone size (Playwright's own device descriptors), signed in through the real login form.

    with launched() as chromium:
        page = chromium.signed_in(base, "demo-officer", PASSWORD, javascript=False, device="Pixel 7")
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
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
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (scripts/test.sh installs it)"
)


@dataclass
class Chromium:
    browser: object  # playwright's Browser
    devices: dict[str, dict]

    def page(self, base: str, *, javascript: bool = True, device: str | None = None):
        """A new page in a context of its own (its own cookies), JavaScript on or off, optionally a phone."""
        options = {k: v for k, v in self.devices[device].items() if k != "default_browser_type"} if device else {}
        context = self.browser.new_context(base_url=base, java_script_enabled=javascript, **options)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    def signed_in(self, base: str, username: str, password: str, **options):
        """A page signed in through the login form, on the dashboard it leads to."""
        page = self.page(base, **options)
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        assert page.locator(".who").inner_text().startswith(username)
        return page


@contextlib.contextmanager
def launched() -> Iterator[Chromium]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield Chromium(browser, playwright.devices)
        finally:
            browser.close()
