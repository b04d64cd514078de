"""The agent desktop schedules a callback at wrap-up: for the agent itself at its local date and time, or for anyone
in the call's queue; what the API refuses shows beside the field it names. Checked through the API."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, expect

from callcenter_ari.sim import Simulator
from tests.api.conftest import OpenApi, call_with_agent
from tests.api.test_api_callbacks import TRUNK
from tests.pages.conftest import signed_in

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the browser's time zone: far from UTC, so a time taken as UTC shows
CALLER = "+12025550143"
WRAP_UP = TRUNK + "\n[queues.support]\nwrapup_seconds = 60\n"


async def test_the_agent_schedules_a_callback_for_tomorrow_at_ten_during_wrap_up(
    sim: Simulator, open_api: OpenApi, browser: Browser
) -> None:
    async with open_api(WRAP_UP) as api:
        app = api.app
        page = await signed_in(browser, api.base_url, "agent1", timezone="Asia/Shanghai")
        await expect(page.locator("#me-state")).to_have_text("Available")
        channel = await call_with_agent(app, sim, CALLER)
        await expect(page.locator("#me-state")).to_have_text("Talking")
        call_id = app.services.channels.call(channel).call_id
        await sim.hangup(channel)  # the caller hangs up: wrap-up, with the work order and the callback form
        await expect(page.locator("#order-panel")).to_be_visible()
        await expect(page.locator("#me-state")).to_have_text("Wrap-up")
        form = page.locator("#callback")
        number = form.locator("input[name=number]")
        await expect(number).to_have_value(CALLER)  # the caller's number, prefilled
        await expect(page.locator("#callback-queue")).to_have_text("support")

        tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).date()
        at = datetime.combine(tomorrow, time(10, 0), tzinfo=SHANGHAI).timestamp()
        await form.locator("input[name=date]").fill(tomorrow.isoformat())
        await form.locator("input[name=time]").fill("10:00")
        await form.locator("textarea[name=note]").fill("about the outage")

        # A premium-rate number: the API's error shows beside the number, and nothing is scheduled.
        await number.fill("1-900-555-0123")
        await form.locator("button[type=submit]").click()
        await expect(form.locator('[data-error-for="number"]')).to_contain_text("premium-rate")
        await expect(page.locator("#callback-done")).to_have_text("")
        async with api.client("agent1") as http:
            assert (await http.get("/api/v1/callbacks")).json()["callbacks"] == []

        await number.fill(CALLER)
        await form.locator("button[type=submit]").click()
        await expect(page.locator("#callback-done")).to_contain_text("Callback scheduled")
        await expect(form.locator('[data-error-for="number"]')).to_have_text("")
        ticket = await app.tickets.for_call(call_id)
        assert ticket is not None
        async with api.client("agent1") as http:
            [made] = (await http.get("/api/v1/callbacks")).json()["callbacks"]
        assert (made["number"], made["not_before"], made["agent"]) == (CALLER, at, "a1")
        assert (made["queue"], made["ticket"], made["origin"], made["note"]) == (
            "support",
            ticket.number,
            "ticket",
            "about the outage",
        )
        await expect(page.locator("#callback-done")).to_contain_text(made["id"])
        await expect(page.locator("#callback-done")).to_contain_text("10:00")

        # The same number again: the API's 409 shows beside the number.
        await form.locator("button[type=submit]").click()
        await expect(form.locator('[data-error-for="number"]')).to_contain_text("pending already")

        # For anyone in the queue, with neither date nor time: no agent, as soon as its turn comes.
        await number.fill("+12025550199")
        await form.locator("input[name=date]").fill("")
        await form.locator("input[name=time]").fill("")
        await form.locator("input[name=for][value=queue]").check()
        await form.locator("button[type=submit]").click()
        await expect(page.locator("#callback-done")).to_contain_text("Callback scheduled")
        async with api.client("agent1") as http:
            listed = (await http.get("/api/v1/callbacks")).json()["callbacks"]
        anyone = next(c for c in listed if c["number"] == "+12025550199")
        assert anyone["agent"] == "" and anyone["place"] <= app.clock.now()
        # No script error: the console names only the two answers refused on purpose.
        assert [p.rsplit("(", 1)[-1] for p in page.problems] == ["Unprocessable Entity)", "Conflict)"]  # type: ignore[attr-defined]
