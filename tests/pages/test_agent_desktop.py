"""The agent desktop in a real browser: log in, the offered call's screen pop, the call taken, the work order filed
at wrap-up; a caller's name is shown as text, never run as markup."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from playwright.async_api import Browser, expect

from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.api.conftest import OpenApi
from tests.e2e.helpers import agent_leg_up_in_sim, eventually, phase_of, until
from tests.pages.conftest import signed_in

HOSTILE = "<script>window.pwned=1</script><img src=x onerror=window.pwned=2>Anna"

# Calls to 5554000 ask the CRM about the caller before they wait in the support queue.
CRM_FLOW = """
[dids.5554000]
flow = "pop"
[ivr.flows.pop]
start = "crm"
language = "en"
[ivr.flows.pop.nodes.crm]
kind = "lookup"
url = "{url}"
timeout = 2.0
next = "q_support"
fallback = "q_support"
[ivr.flows.pop.nodes.q_support]
kind = "queue"
queue = "support"
"""


@asynccontextmanager
async def hostile_crm() -> AsyncIterator[str]:
    """A CRM whose answer carries markup and a javascript: link, as a compromised or careless one might."""

    async def lookup(_: web.Request) -> web.Response:
        return web.json_response({"variables": {"customer": HOSTILE, "crm_url": "javascript:window.pwned=3"}})

    crm = web.Application()
    crm.router.add_post("/lookup", lookup)
    runner = web.AppRunner(crm)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/lookup"
    finally:
        await runner.cleanup()


async def test_agent_logs_in_takes_the_offered_call_and_files_the_work_order(
    sim: Simulator, open_api: OpenApi, browser: Browser
) -> None:
    async with hostile_crm() as crm, open_api(CRM_FLOW.format(url=crm)) as api:
        app = api.app
        for agent in ("a1", "a2"):
            await app.acd.log_out(agent)
        page = await signed_in(browser, api.base_url, "agent1")
        assert page.url.endswith("/pages/agent.html")
        assert "agent1-token" not in page.url
        await expect(page.locator("#me-state")).to_have_text("Logged out")
        await page.click("#log-in")
        await expect(page.locator("#me-state")).to_have_text("Available")
        assert app.acd.board.agents["a1"].state == "available"

        sim.add_phone(app.config.agents["a1"].endpoint, PhoneBehaviour(answer_after=0.5, kind="answer"))
        channel = await sim.inject_call(did="5554000", caller="+15550101010", caller_name=HOSTILE)
        await eventually(lambda: agent_leg_up_in_sim(app, sim, channel), what="agent ringing after the CRM")
        await expect(page.locator("#me-state")).to_have_text("Ringing")  # offered: the screen pop is up
        await expect(page.locator("#call-caller")).to_have_text("+15550101010")
        await expect(page.locator("#call-ivr")).to_have_text("crm \u203a q_support")
        # The CRM's answer and the caller's name, both untrusted, show as text; no javascript: link is made.
        await expect(page.locator("#call-data td")).to_have_text([HOSTILE, "javascript:window.pwned=3"])
        await expect(page.locator("#call-name")).to_contain_text("script")
        assert await page.locator("#crm-link").is_hidden()
        assert await page.evaluate("window.pwned") is None
        assert await page.locator("#call script, #call img").count() == 0

        await sim.advance(1.0)  # the agent's phone answers
        await until(app, lambda: phase_of(app, channel) == "talking", "talking")
        await expect(page.locator("#me-state")).to_have_text("Talking")
        await page.click("#hold")
        await expect(page.locator("#me-state")).to_have_text("On hold")
        await page.click("#unhold")
        await expect(page.locator("#me-state")).to_have_text("Talking")

        call_id = app.services.channels.call(channel).call_id
        await sim.hangup(channel)  # the caller hangs up: the ticket opens, the form is due within 15 minutes
        await expect(page.locator("#order-panel")).to_be_visible()
        await expect(page.locator("#countdown")).to_have_text(re.compile(r"^1[45]:\d\d$"))
        await page.select_option("select[name=category]", "complaint")
        await page.fill("input[name=customer_name]", "Anna Miller")
        await page.fill("input[name=place]", "Main Street 5")
        await page.fill("input[name=summary]", "No power since the storm")
        await page.fill("input[name=time]", "since yesterday 18:00")
        await page.fill("textarea[name=what_happened]", "The whole street is dark.")
        await page.fill("textarea[name=request]", "Send a technician")
        await page.fill("textarea[name=answer]", "A crew is on its way")
        await page.fill("input[name=answer_basis]", "Outage map")
        await page.check("input[name=urgent]")
        await page.click("#order button[type=submit]")
        await expect(page.locator("#notice")).to_contain_text("Work order filed")
        await expect(page.locator("#order-panel")).to_be_hidden()
        ticket = await app.tickets.for_call(call_id)
        assert ticket is not None
        assert (ticket.status, ticket.category, ticket.urgent) == ("completed", "complaint", True)
        assert ticket.title == "Main Street 5: No power since the storm"
        assert page.problems == []  # type: ignore[attr-defined]
