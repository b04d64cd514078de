"""Browser fixtures: Debian's Chromium, headless, driven by Playwright (no browser download), against the API and
pages served over real HTTP by the application on the simulator (tests/api/conftest.py's ``open_api``).

scripts/test installs the ``chromium`` package when it is missing; without it these tests are skipped, saying why.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.api.conftest import TOKENS, open_api  # noqa: F401 - fixtures reused here
from tests.e2e.conftest import sim, start_app  # noqa: F401

CHROMIUM = os.environ.get("CALLCENTER_CHROMIUM", "/usr/bin/chromium")
expect.set_options(timeout=8000)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/test installs Debian's chromium package)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            await launched.close()


async def signed_in(
    browser: Browser, base_url: str, token_name: str, *, lang: str = "en", timezone: str | None = None
) -> Page:
    """A new page past the login page with the named token; fails the test on any script error or CSP report.
    ``timezone``: the browser's own (an IANA name), for what the page takes as the user's local time."""
    context = await browser.new_context(
        base_url=base_url, locale="en-US", timezone_id=timezone, viewport={"width": 1400, "height": 900}
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "401" not in m.text else None)
    page.problems = problems  # type: ignore[attr-defined]
    await page.goto("/")
    await page.evaluate(f"localStorage.setItem('callcenter.lang', '{lang}')")
    await page.fill("#token", TOKENS[token_name])
    await page.click("button[type=submit]")
    await page.wait_for_url(lambda url: not url.endswith("index.html"))
    return page
