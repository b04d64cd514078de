"""Hold and unhold through the API, with the supervisors' alert when a caller waits on hold too long."""

from __future__ import annotations

from callcenter_ari.sim import Simulator
from tests.api.conftest import OpenApi, call_with_agent

SHORT_ALERT = "\n[queues.support]\nhold_alert_seconds = 0.3\n"


async def test_agent_holds_and_resumes_and_a_long_hold_alerts(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api(SHORT_ALERT) as api:
        channel = await call_with_agent(api.app, sim, "+15550101010")
        call_id = api.app.services.channels.call(channel).call_id
        async with api.client("agent1") as http:
            assert (await http.post(f"/api/v1/calls/{call_id}/hold")).status_code == 202
            await sim.settle()
            assert api.app.acd.board.state("a1") == "on_hold", "agent on hold"
            await sim.advance(0.5)
            alerts = await _events(api, "call.hold_alert")
            assert alerts, "hold alert after 0.3 s"
            assert alerts[0]["call_id"] == call_id and alerts[0]["held"] >= 0.3
            assert (await http.post(f"/api/v1/calls/{call_id}/unhold")).status_code == 202
            await sim.settle()
            assert api.app.acd.board.state("a1") == "talking", "agent talking again"
        record = api.app.services.channels.call(channel).machine.record
        assert record.held_since is None and record.hold_seconds >= 0.3
        async with api.client("agent2") as http:  # not their call
            assert (await http.post(f"/api/v1/calls/{call_id}/hold")).status_code == 404


async def test_a_hold_the_call_would_not_take_is_409_with_the_reason(sim: Simulator, open_api: OpenApi) -> None:
    """A hold on a call already on hold, or an unhold of one that is not, is refused, not accepted and dropped."""
    async with open_api() as api:
        channel = await call_with_agent(api.app, sim, "+15550101011")
        call_id = api.app.services.channels.call(channel).call_id
        async with api.client("agent1") as http:
            not_held = await http.post(f"/api/v1/calls/{call_id}/unhold")
            assert not_held.status_code == 409 and not_held.json()["message"] == "the call is not on hold"
            assert (await http.post(f"/api/v1/calls/{call_id}/hold")).status_code == 202
            await sim.settle()
            assert api.app.acd.board.state("a1") == "on_hold", "agent on hold"
            again = await http.post(f"/api/v1/calls/{call_id}/hold")
            assert again.status_code == 409 and again.json()["message"] == "the call is on hold already"


async def test_the_agent_and_the_call_on_hold_show_it(sim: Simulator, open_api: OpenApi) -> None:
    """docs/API.md: on hold, the agent's state reads on_hold; the call says so too."""
    async with open_api() as api:
        channel = await call_with_agent(api.app, sim, "+15550101012")
        call_id = api.app.services.channels.call(channel).call_id
        async with api.client("supervisor") as http:
            assert (await http.get("/api/v1/agents/a1")).json()["state"] == "talking"
            assert (await http.post(f"/api/v1/calls/{call_id}/hold")).status_code == 202
            await sim.settle()
            assert api.app.services.channels.call(channel).machine.snapshot().on_hold, "held"
            agent = (await http.get("/api/v1/agents/a1")).json()
            assert agent["state"] == "on_hold" and agent["call"]["on_hold"] is True
            assert (await http.get(f"/api/v1/calls/{call_id}")).json()["on_hold"] is True
            assert (await http.post(f"/api/v1/calls/{call_id}/unhold")).status_code == 202
            await sim.settle()
            assert not api.app.services.channels.call(channel).machine.snapshot().on_hold, "back"
            assert (await http.get("/api/v1/agents/a1")).json()["state"] == "talking"


async def _events(api, kind: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return [fields for _, k, fields in await api.app.store.events() if k == kind]
