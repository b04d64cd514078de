"""Blind transfer of a connected call through the API."""

from __future__ import annotations

from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.api.conftest import OpenApi, call_with_agent


async def test_agent_transfers_the_caller_to_another_queue(sim: Simulator, open_api: OpenApi) -> None:
    """The first agent's leg ends (wrap-up), the caller waits in billing and is answered there by another agent."""
    sim.add_phone("PJSIP/agent3", PhoneBehaviour(answer_after=0.5))
    async with open_api() as api:
        channel = await call_with_agent(api.app, sim, "+15550111111")
        await api.app.acd.log_in("a3")  # a billing agent
        await sim.settle()
        task = api.app.services.channels.call(channel)
        first_leg = task.machine.record.agent_channel
        async with api.client("agent1") as http:
            answer = await http.post(f"/api/v1/calls/{task.call_id}/transfer", json={"queue": "billing"})
            assert answer.status_code == 202, answer.text
        await sim.settle()
        assert sim.channel(first_leg) is None, "first agent's leg hung up"
        assert api.app.acd.board.agents["a1"].state in ("wrapup", "available"), "a1 freed"
        await sim.advance(0.5)
        record = task.machine.record
        assert record.phase == "talking", "answered again"
        assert (record.queue, record.agent_id) == ("billing", "a3")
        kinds = [kind for _, kind, f in await api.app.store.events() if f.get("call_id") == task.call_id]
        assert "call.transfer_requested" in kinds


async def test_transfer_requests_are_validated(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api() as api:
        channel = await call_with_agent(api.app, sim, "+15550121212")
        call_id = api.app.services.channels.call(channel).call_id
        async with api.client("agent1") as http:
            both = await http.post(f"/api/v1/calls/{call_id}/transfer", json={"queue": "billing", "destination": "x"})
            assert both.status_code == 422
            unknown = await http.post(f"/api/v1/calls/{call_id}/transfer", json={"queue": "nowhere"})
            assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "queue"
            number = await http.post(f"/api/v1/calls/{call_id}/transfer", json={"destination": "+15551234567"})
            assert number.status_code in (400, 422)  # a number is never a destination: only configured names
        assert api.app.services.channels.call(channel).machine.record.phase == "talking"
