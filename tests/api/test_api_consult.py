"""Transfers to a named agent, consultations and conferences through the API: what is accepted, and every
refusal (4xx naming the field or the reason), after which the call is as it was."""

from __future__ import annotations

import httpx

from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.api.conftest import OpenApi, call_with_agent

CONFIG = """
[queues.support]
wrapup_seconds = 60
[ivr.destinations.head_office]
extension = "200"
"""


async def connected(app: Application, sim: Simulator, caller: str) -> str:
    """A call answered by a1, with a2 available and idle; returns the call id."""
    channel = await call_with_agent(app, sim, caller)
    await app.acd.log_in("a2")
    await sim.settle()
    return app.services.channels.call(channel).call_id


def fields(answer: httpx.Response) -> list[str]:
    return [problem["field"] for problem in answer.json()["errors"]]


async def test_blind_transfer_to_a_named_agent(sim: Simulator, open_api: OpenApi) -> None:
    sim.add_phone("PJSIP/agent2", PhoneBehaviour(answer_after=0.5))
    async with open_api(CONFIG) as api:
        call_id = await connected(api.app, sim, "+15550401001")
        async with api.client("agent1") as http:
            answer = await http.post(f"/api/v1/calls/{call_id}/transfer", json={"agent": "a2"})
            assert answer.status_code == 202, answer.text
        task = api.app.services.calls[call_id]
        await sim.settle()
        assert task.machine.record.agent_id == "a2", "handed to a2"
        await sim.advance(0.5)
        assert task.machine.record.phase == "talking", "a2 answered"
        assert api.app.acd.board.agents["a1"].state == "wrapup", "a1 in wrap-up"


async def test_transfer_to_an_agent_is_validated(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api(CONFIG) as api:
        call_id = await connected(api.app, sim, "+15550401002")
        record = api.app.services.calls[call_id].machine.record
        url = f"/api/v1/calls/{call_id}/transfer"
        async with api.client("agent1") as http:
            unknown = await http.post(url, json={"agent": "a9"})
            assert unknown.status_code == 422 and fields(unknown) == ["agent"]
            malformed = await http.post(url, json={"agent": "a2; Dial(PJSIP/666)"})
            assert malformed.status_code == 422 and fields(malformed) == ["agent"]
            logged_out = await http.post(url, json={"agent": "a3"})
            assert logged_out.status_code == 409 and "a3 is logged_out" in logged_out.json()["message"]
            own = await http.post(url, json={"agent": "a1"})
            assert own.status_code == 409 and "agent a1 is the agent on this call" in own.json()["message"]
            two = await http.post(url, json={"agent": "a2", "queue": "billing"})
            assert two.status_code == 422 and fields(two) == ["queue", "destination", "agent"]
        async with api.client("agent2") as http:  # not this agent's call
            assert (await http.post(url, json={"agent": "a2"})).status_code == 404
        async with api.client("qa") as http:
            assert (await http.post(url, json={"agent": "a2"})).status_code == 403
        assert (record.phase, record.agent_id) == ("talking", "a1")
        assert api.app.acd.board.agents["a2"].state == "available"


async def test_attended_transfer_through_the_api(sim: Simulator, open_api: OpenApi) -> None:
    """Consult a2, see the consultation on the call, complete it: the caller is with a2."""
    sim.add_phone("PJSIP/agent2", PhoneBehaviour(answer_after=0.5))
    async with open_api(CONFIG) as api:
        call_id = await connected(api.app, sim, "+15550401003")
        task = api.app.services.calls[call_id]
        async with api.client("agent1") as http:
            answer = await http.post(f"/api/v1/calls/{call_id}/consult", json={"agent": "a2"})
            assert answer.status_code == 202, answer.text
            await sim.settle()
            assert task.machine.record.consult_channel, "consult dialled"
            early = await http.post(f"/api/v1/calls/{call_id}/consult/complete")
            assert early.status_code == 409 and "not answered" in early.json()["message"]
            await sim.advance(0.5)
            assert task.machine.record.consult_answered_at, "a2 answered"
            view = (await http.get(f"/api/v1/calls/{call_id}")).json()
            assert view["phase"] == "consulting"
            assert view["consult"] == {"agent_id": "a2", "destination": "", "answered": True}
            again = await http.post(f"/api/v1/calls/{call_id}/consult", json={"agent": "a3"})
            assert again.status_code == 409 and "in progress" in again.json()["message"]
            done = await http.post(f"/api/v1/calls/{call_id}/consult/complete")
            assert done.status_code == 202, done.text
        await sim.settle()
        assert task.machine.record.agent_id == "a2", "caller with a2"
        assert task.machine.record.consult_target == "" and task.machine.record.phase == "talking"
        assert api.app.acd.board.agents["a1"].state == "wrapup", "a1 in wrap-up"


async def test_consultation_requests_are_validated(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api(CONFIG) as api:
        call_id = await connected(api.app, sim, "+15550401004")
        record = api.app.services.calls[call_id].machine.record
        url = f"/api/v1/calls/{call_id}/consult"
        async with api.client("agent1") as http:
            neither = await http.post(url, json={})
            assert neither.status_code == 422 and fields(neither) == ["agent", "destination"]
            unknown = await http.post(url, json={"destination": "nowhere"})
            assert unknown.status_code == 422 and fields(unknown) == ["destination"]
            number = await http.post(url, json={"destination": "+15551234567"})
            assert number.status_code == 422 and fields(number) == ["destination"]
            agent = await http.post(url, json={"agent": "nobody"})
            assert agent.status_code == 422 and fields(agent) == ["agent"]
            extra = await http.post(url, json={"agent": "a2", "endpoint": "PJSIP/666"})
            assert extra.status_code == 422 and fields(extra) == ["endpoint"]
            no_body = await http.post(url)
            assert no_body.status_code == 400
            busy = await http.post(url, json={"agent": "a3"})
            assert busy.status_code == 409 and "not available" in busy.json()["message"]
            for step in ("complete", "cancel", "conference"):
                answer = await http.post(f"{url}/{step}")
                assert answer.status_code == 409 and "no consultation" in answer.json()["message"], step
            gone = await http.post("/api/v1/calls/c-nope/consult", json={"agent": "a2"})
            assert gone.status_code == 404
        assert (record.phase, record.agent_id, record.consult_target) == ("talking", "a1", "")
        assert api.app.acd.board.agents["a2"].state == "available"


async def test_cancel_and_conference_through_the_api(sim: Simulator, open_api: OpenApi) -> None:
    sim.add_phone("PJSIP/200", PhoneBehaviour(answer_after=0.5))
    async with open_api(CONFIG) as api:
        call_id = await connected(api.app, sim, "+15550401005")
        task = api.app.services.calls[call_id]
        url = f"/api/v1/calls/{call_id}/consult"
        async with api.client("supervisor") as http:
            assert (await http.post(url, json={"destination": "head_office"})).status_code == 202
            await sim.settle()
            await sim.advance(0.5)
            assert task.machine.record.consult_answered_at, "head office answered"
            view = (await http.get(f"/api/v1/calls/{call_id}")).json()
            assert view["consult"] == {"agent_id": "", "destination": "head_office", "answered": True}
            assert (await http.post(f"{url}/cancel")).status_code == 202
            await sim.settle()
            assert task.machine.record.phase == "talking", "back with a1"
            assert (await http.post(url, json={"destination": "head_office"})).status_code == 202
            await sim.settle()
            await sim.advance(0.5)
            assert task.machine.record.consult_answered_at, "answered again"
            assert (await http.post(f"{url}/conference")).status_code == 202
            await sim.settle()
            assert task.machine.record.phase == "conference"
            again = await http.post(f"{url}/cancel")
            assert again.status_code == 409
