"""The wallboard in a real browser: the figures the server pushes are the API's at the same moment, agents' states
follow the event stream, and a supervisor barges into a call and forces an agent's state from the board."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, Page, expect

from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.api.conftest import OpenApi, call_with_agent
from tests.pages.conftest import signed_in

SUPERVISOR = '\n[supervisors.sv1]\nendpoint = "PJSIP/sup1"\nname = "Sam"\n'


def percent(rate: float | None) -> str:
    return "\u2013" if rate is None else f"{round(rate * 100)}%"


async def tile(page: Page, queue: str, field: str) -> str:
    return await page.locator(f'[data-queue="{queue}"] [data-field="{field}"] .value').inner_text()


async def test_the_wallboard_shows_the_apis_figures_of_the_same_moment(
    sim: Simulator, open_api: OpenApi, browser: Browser
) -> None:
    async with open_api() as api:
        page = await signed_in(browser, api.base_url, "supervisor")
        assert page.url.endswith("/pages/wallboard.html")
        await expect(page.locator("#status")).to_have_text("live")
        await expect(page.locator('[data-agent="a1"] td.state')).to_have_text("Available")

        channel = await call_with_agent(api.app, sim, "+15550202020")  # answered by a1, a2 logged out
        await expect(page.locator('[data-agent="a1"] td.state')).to_have_text("Talking")
        await expect(page.locator('[data-agent="a2"] td.state')).to_have_text("Logged out")
        await sim.hangup(channel)
        await expect(page.locator('[data-agent="a1"] td.state')).not_to_have_text("Talking")
        await api.app.store.flush()
        # Nothing moves now: the board's last push and the API describe the same moment.
        async with api.client("supervisor") as http:
            queues = {q["id"]: q for q in (await http.get("/api/v1/queues")).json()["queues"]}
        for queue_id, queue in queues.items():
            today = queue["today"]
            await expect(page.locator(f'[data-queue="{queue_id}"] [data-field="waiting"] .value')).to_have_text(
                str(queue["waiting"])
            )
            sla = f"{percent(today['service_level'])} / 20 s"
            assert await tile(page, queue_id, "service_level") == sla
            assert await tile(page, queue_id, "abandon_rate") == percent(today["abandon_rate"])
            assert await tile(page, queue_id, "callbacks_pending") == str(queue.get("callbacks", {}).get("pending", 0))
        assert (
            queues["support"]["today"]["answered"] == 1
            and await tile(page, "support", "service_level") == "100% / 20 s"
        )
        assert page.problems == []  # type: ignore[attr-defined]


async def test_a_supervisor_barges_and_forces_a_state_from_the_wallboard(
    sim: Simulator, open_api: OpenApi, browser: Browser
) -> None:
    sim.add_phone("PJSIP/sup1", PhoneBehaviour(answer_after=0.5))
    async with open_api(SUPERVISOR) as api:
        page = await signed_in(browser, api.base_url, "supervisor")
        channel = await call_with_agent(api.app, sim, "+15550303030")
        record = api.app.services.channels.call(channel).machine.record
        row = page.locator('[data-agent="a1"]')
        await expect(row.locator("td.state")).to_have_text("Talking")
        await expect(page.locator("#phone")).to_have_value("sv1")
        await row.locator('button[data-action="barge"]').click()
        await expect(page.locator("#notice")).to_contain_text("Done: Barge")
        await sim.settle()
        await sim.advance(0.5)  # the supervisor's phone answers
        [session] = api.app.monitor.sessions.values()
        bridge = next(b for b in sim.bridges() if session.leg in b["channels"])
        assert bridge["id"] == record.bridge_id  # in the call itself: caller, agent and supervisor
        assert {channel, record.agent_channel} <= set(bridge["channels"])

        await page.locator('[data-agent="a2"] button[data-action="force_ready"]').click()
        await expect(page.locator('[data-agent="a2"] td.state')).to_have_text("Available")
        assert api.app.acd.board.agents["a2"].state == "available"
        await api.app.store.flush()
        forced = [f for _, kind, f in await api.app.store.events() if kind == "agent.forced"]
        assert forced == [
            {"agent": "a2", "state": "available", "reason": "supervisor", "pending": False, "by": "supervisor"}
        ]
        assert page.problems == []  # type: ignore[attr-defined]


async def test_roles_and_tenants_see_their_own_board(open_api: OpenApi) -> None:
    async with open_api() as api:
        async with api.client("other_supervisor") as http:
            other = (await http.get("/api/v1/wallboard")).json()
        async with api.client("qa") as http:
            qa = (await http.get("/api/v1/wallboard")).json()
        async with api.client("agent1") as http:
            refused = await http.get("/api/v1/wallboard")
        async with httpx.AsyncClient(base_url=api.base_url) as http:
            page = await http.get("/pages/wallboard.html")
    assert (other["queues"], other["agents"]) == ([], [])  # another tenant's token sees nothing of this one
    assert {q["id"] for q in qa["queues"]} == {"support", "billing"}
    assert qa["allowed"] == {"monitor": False, "hangup": False, "force": False} and qa["supervisors"] == []
    assert refused.status_code == 403
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]


async def test_a_caller_on_hold_over_30_seconds_is_an_alert_on_the_wall(
    sim: Simulator, open_api: OpenApi, browser: Browser
) -> None:
    async with open_api() as api:
        page = await signed_in(browser, api.base_url, "supervisor")
        channel = await call_with_agent(api.app, sim, "+15550808080")
        call_id = api.app.services.channels.call(channel).call_id  # type: ignore[union-attr]
        async with api.client("agent1") as http:
            assert (await http.post(f"/api/v1/calls/{call_id}/hold")).status_code == 202
        await expect(page.locator('[data-agent="a1"] td.state')).to_have_text("On hold")  # not "talking"
        await expect(page.locator("#alerts li.alert")).to_have_count(0)
        await sim.advance(31)  # the queue's hold alert goes off (30 s by default)
        alert = page.locator('#alerts li[data-kind="hold"]')
        await expect(alert).to_have_attribute("data-subject", "a1")
        await expect(alert).to_contain_text("On hold over 30 s")
        async with api.client("agent1") as http:
            assert (await http.post(f"/api/v1/calls/{call_id}/unhold")).status_code == 202
        await expect(page.locator('#alerts li[data-kind="hold"]')).to_have_count(0)
        assert page.problems == []  # type: ignore[attr-defined]
