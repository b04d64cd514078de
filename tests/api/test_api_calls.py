"""Live calls and queue figures over the API, and hanging up a call: a real call on the simulator."""

from __future__ import annotations

from callcenter_ari.sim import Simulator
from tests.api.conftest import OpenApi, call_with_agent
from tests.e2e.helpers import ended_call, phase_of, through_greeting


async def _queued_call(api, sim: Simulator, caller: str) -> str:  # type: ignore[no-untyped-def]
    """Everyone of the support queue logged out, a caller waits in it."""
    async with api.client("supervisor") as http:
        for agent in ("a1", "a2"):
            assert (await http.post(f"/api/v1/agents/{agent}/logout")).status_code == 200
    channel = await sim.inject_call(did="5552000", caller=caller, caller_name="Carla")
    await through_greeting(sim, channel)
    assert phase_of(api.app, channel) == "queued"
    return channel


async def test_a_waiting_call_shows_in_calls_and_in_its_queue(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api() as api:
        channel = await _queued_call(api, sim, "+15550404040")
        call_id = api.app.services.channels.call(channel).call_id
        async with api.client("crm") as http:
            calls = (await http.get("/api/v1/calls")).json()["calls"]
            support = (await http.get("/api/v1/queues/support")).json()
            queues = (await http.get("/api/v1/queues")).json()["queues"]
        async with api.client("agent1") as http:
            assert (await http.get("/api/v1/calls")).json() == {"calls": []}  # not with agent a1
            assert (await http.get(f"/api/v1/calls/{call_id}")).status_code == 404
    [call] = calls
    assert (call["id"], call["caller"], call["caller_name"]) == (call_id, "+15550404040", "Carla")
    assert call["did"] == "5552000"
    assert (call["phase"], call["queue"], call["agent_id"]) == ("queued", "support", "")
    assert call["enqueued_at"] >= call["started_at"]
    assert support["waiting"] == 1 and support["longest_wait_seconds"] >= 0
    assert support["agents"] == {
        "logged_out": 2, "available": 0, "reserved": 0, "talking": 0, "wrapup": 0, "not_ready": 0
    }  # fmt: skip
    assert [(q["id"], q["name"], q["waiting"]) for q in queues] == [
        ("billing", "Billing", 0),
        ("support", "support", 1),
    ]
    assert queues[0]["longest_wait_seconds"] is None
    assert queues[1]["today"]["entered"] == 1 and queues[1]["today"]["service_level"] is None  # nobody answered yet


async def test_supervisor_hangs_up_a_live_call_and_it_ends(sim: Simulator, open_api: OpenApi) -> None:
    """202 at once; the call's own events end it, its agent goes to wrap-up and it leaves the live list."""
    async with open_api() as api:
        channel = await call_with_agent(api.app, sim, "+15550505050")
        call_id = api.app.services.channels.call(channel).call_id
        async with api.client("agent1") as http:
            [mine] = (await http.get("/api/v1/calls")).json()["calls"]
            assert (mine["id"], mine["phase"], mine["agent_id"]) == (call_id, "talking", "a1")
            # The screen pop: the agent's own view carries the call, its caller and what the IVR learned.
            pop = (await http.get("/api/v1/agents/a1")).json()["call"]
            assert (pop["id"], pop["caller"]) == (call_id, "+15550505050")
            assert {"ivr_path", "variables", "language", "skills"} <= pop.keys()
        async with api.client("agent2") as http:
            assert (await http.get("/api/v1/calls")).json() == {"calls": []}
        async with api.client("supervisor") as http:
            answer = await http.post(f"/api/v1/calls/{call_id}/hangup")
            assert answer.status_code == 202
            assert answer.json() == {"call_id": call_id, "status": "hanging_up"}
            await sim.settle()
            record = await ended_call(api.app, channel)
            assert record.agent_id == "a1"
            assert sim.channel(channel) is None
            assert (await http.get(f"/api/v1/calls/{call_id}")).status_code == 404
            assert (await http.post(f"/api/v1/calls/{call_id}/hangup")).status_code == 404
            assert (await http.get("/api/v1/calls")).json() == {"calls": []}


async def test_a_waiting_caller_hung_up_by_a_supervisor_is_not_an_abandon(sim: Simulator, open_api: OpenApi) -> None:
    """The call ends as hung_up_by_supervisor with who did it; the queue's figures, live and in the interval
    report, count it apart from the callers' own abandons."""
    async with open_api() as api:
        channel = await _queued_call(api, sim, "+15550707070")
        call_id = api.app.services.channels.call(channel).call_id
        async with api.client("supervisor") as http:
            assert (await http.post(f"/api/v1/calls/{call_id}/hangup")).status_code == 202
            await sim.settle()
            record = await ended_call(api.app, channel)
            assert (record.outcome, record.hung_up_by) == ("hung_up_by_supervisor", "supervisor")
            today = (await http.get("/api/v1/queues/support")).json()["today"]
            (start,) = (await http.get("/api/v1/reports/intervals")).json()["starts"]
            report = (await http.get(f"/api/v1/reports/intervals/{start}")).json()["queues"]["support"]
        for figures in (today, report):
            assert (figures["abandoned"], figures["short_abandoned"], figures["hung_up_by_supervisor"]) == (0, 0, 1)
        await api.app.store.flush()
        [ended] = [fields for _, kind, fields in await api.app.store.events() if kind == "call.ended"]
        assert (ended["outcome"], ended["by"]) == ("hung_up_by_supervisor", "supervisor")


async def test_hangup_while_asterisk_is_unreachable_is_503(sim: Simulator, open_api: OpenApi) -> None:
    """The ARI connection is down and not back within the request timeout: 503 with a message, no stack trace."""
    async with open_api(reconnect_initial_seconds=30, reconnect_max_seconds=30, request_timeout_seconds=0.5) as api:
        channel = await _queued_call(api, sim, "+15550606060")
        call_id = api.app.services.channels.call(channel).call_id
        await sim.drop_websockets()
        assert not api.app.services.ari_up, "ARI down"
        async with api.client("admin") as http:
            answer = await http.post(f"/api/v1/calls/{call_id}/hangup")
        assert answer.status_code == 503
        assert answer.json()["error"] == "unavailable"
        assert answer.json()["message"] == "Asterisk is not connected; try again"
        assert "Traceback" not in answer.text
