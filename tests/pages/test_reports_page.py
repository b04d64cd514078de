"""The reports page in a real browser: the API's period figures as a table, a chart and a CSV file."""

from __future__ import annotations

import csv
import io

from playwright.async_api import Browser, expect

from callcenter_ari.sim import Simulator
from tests.api.conftest import OpenApi, call_with_agent
from tests.pages.conftest import signed_in


async def test_the_days_figures_per_half_hour_with_chart_and_csv(
    sim: Simulator, open_api: OpenApi, browser: Browser
) -> None:
    async with open_api() as api:
        await sim.hangup(await call_with_agent(api.app, sim, "+15550707070"))
        page = await signed_in(browser, api.base_url, "supervisor")
        await page.goto("/pages/reports.html")
        day = await page.evaluate("new Date().toISOString().slice(0, 10)")
        await page.fill("#day", day)  # the browser's day is the server's: both on the wall clock's date
        await page.select_option("#length", "1800")
        await page.click("#query button[type=submit]")
        support = page.locator("#queues tbody tr", has_text="support")
        await expect(support).to_have_count(1)
        cells = await support.locator("td").all_inner_texts()
        assert cells[1:5] == ["support", "1", "1", "0"]  # offered, answered, abandoned
        assert await page.locator("#chart svg > rect.answered").count() == 1
        async with page.expect_download() as download:
            await page.click("#csv")
        saved = await (await download.value).path()
        rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
        [queue_row] = [r for r in rows if r["kind"] == "queue" and r["queue"] == "support"]
        assert (queue_row["offered"], queue_row["answered"], queue_row["service_level"]) == ("1", "1", "100%")
        assert [r["calls"] for r in rows if r["kind"] == "agent"] == ["1"]
        assert page.problems == []  # type: ignore[attr-defined]
