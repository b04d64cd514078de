"""Agents extend their wrap-up within the queue's limit; supervisors ask why a waiting call has not been offered."""

from __future__ import annotations

from callcenter_ari.sim import Simulator
from tests.api.conftest import OpenApi, call_with_agent
from tests.e2e.helpers import phase_of, through_greeting

WRAPUP = "\n[queues.support]\nwrapup_seconds = 30\nwrapup_max_seconds = 90\n"


async def test_agent_extends_wrapup_within_the_queues_limit(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api(WRAPUP) as api, api.client("agent1") as agent:
        refused = await agent.post("/api/v1/agents/a1/wrapup/extend", json={"seconds": 30})
        assert refused.status_code == 409  # not in wrap-up
        channel = await call_with_agent(api.app, sim, "+15550601001", "a1")
        await sim.hangup(channel)
        assert api.app.acd.board.state("a1") == "wrapup"
        extended = await agent.post("/api/v1/agents/a1/wrapup/extend", json={"seconds": 30})
        assert extended.status_code == 200, extended.text
        body = extended.json()
        assert body["agent"]["state"] == "wrapup"
        assert 55 < body["wrapup_until"] - api.app.acd.board.agents["a1"].since < 65  # 30 s + 30 s more
        beyond = await agent.post("/api/v1/agents/a1/wrapup/extend", json={"seconds": 45})
        assert beyond.status_code == 409 and "90 s allowed" in beyond.json()["message"]
        for bad in ({"seconds": 0}, {"seconds": -5}, {"seconds": "soon"}, {}, {"seconds": 10, "more": 1}):
            reply = await agent.post("/api/v1/agents/a1/wrapup/extend", json=bad)
            assert reply.status_code in (400, 422), bad
        async with api.client("agent2") as other:
            assert (await other.post("/api/v1/agents/a1/wrapup/extend", json={"seconds": 5})).status_code == 404
        assert (await agent.post("/api/v1/agents/a1/ready")).json()["state"] == "available"
        kinds = [kind for _, kind, fields in await api.app.store.events() if fields.get("agent") == "a1"]
        assert "agent.wrapup_extended" in kinds


async def test_supervisor_sees_why_a_waiting_call_is_not_offered(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api() as api, api.client("supervisor") as supervisor:
        await api.app.acd.not_ready("a1", "lunch", policed=False)
        await api.app.acd.log_out("a2")
        channel = await sim.inject_call(did="5552000", caller="+15550601002")
        await through_greeting(sim, channel)
        assert phase_of(api.app, channel) == "queued"
        call_id = api.app.services.channels.call(channel).call_id
        reply = await supervisor.get(f"/api/v1/calls/{call_id}/routing")
        assert reply.status_code == 200, reply.text
        audit = reply.json()
        assert audit["call_id"] == call_id and audit["queue"] == "support" and audit["winners"] == []
        assert {(i["agent_id"], i["reason"]) for i in audit["ineligible"]} == {("a1", "not_ready (lunch)")}
        async with api.client("agent1") as agent:
            assert (await agent.get(f"/api/v1/calls/{call_id}/routing")).status_code == 403
        async with api.client("other_supervisor") as other:
            assert (await other.get(f"/api/v1/calls/{call_id}/routing")).status_code == 404
        await sim.hangup(channel)
        assert call_id not in api.app.services.calls, "call gone"
        assert (await supervisor.get(f"/api/v1/calls/{call_id}/routing")).status_code == 404


async def test_a_call_that_is_not_waiting_is_not_explained(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api() as api, api.client("supervisor") as supervisor:
        channel = await call_with_agent(api.app, sim, "+15550601003", "a1")
        call_id = api.app.services.channels.call(channel).call_id
        reply = await supervisor.get(f"/api/v1/calls/{call_id}/routing")
        assert reply.status_code == 409 and "talking" in reply.json()["message"]
