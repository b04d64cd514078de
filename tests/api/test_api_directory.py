"""Agents and queues configured through the API: routing follows at once, the change survives a restart, and
every refusal says why (422 naming the field, 403 for the role, 404 for another tenant, 409 for what is in use)."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.api.conftest import OpenApi, call_with_agent
from tests.e2e.helpers import agent_leg_up_in_sim, phase_of, through_greeting

NEW_AGENT = {"id": "a9", "endpoint": "PJSIP/agent9", "name": "Nia", "queues": ["support"], "skills": {"billing": 7}}
SKILLED_SUPPORT = {"name": "Support", "strategy": "best_skill", "skills": "billing>=5", "wrapup_seconds": 0}


def agent_of(api: Any, channel: str) -> str:
    task = api.app.services.channels.call(channel)
    return task.machine.record.agent_id if task else ""


async def events_of(api: Any, *kinds: str) -> list[dict[str, Any]]:
    await api.app.store.flush()
    return [fields for _, kind, fields in await api.app.store.events() if kind in kinds]


async def test_a_new_agent_takes_a_call_the_changed_queue_kept_for_them(open_api: OpenApi, sim: Simulator) -> None:
    """support now wants billing>=5, which nobody logged in has: the caller waits. An agent created with the skill
    logs in and is offered the call; after a restart the agent and the queue's rules are still there."""
    sim.add_phone("PJSIP/agent9", PhoneBehaviour(answer_after=0.5, kind="answer"))
    async with open_api() as api, api.client("admin") as admin:
        changed = await admin.put("/api/v1/queues/support", json=SKILLED_SUPPORT)
        assert changed.status_code == 200 and changed.json()["strategy"] == "best_skill"
        channel = await sim.inject_call(did="5552000", caller="+15550007001")
        await through_greeting(sim, channel)
        assert phase_of(api.app, channel) == "queued"
        created = await admin.post("/api/v1/agents", json=NEW_AGENT)
        assert created.status_code == 201 and created.json()["skills"] == {"billing": 7}
        assert (await admin.get("/api/v1/agents/a9")).json()["state"] == "logged_out"
        assert (await admin.post("/api/v1/agents/a9/login")).status_code == 200
        await sim.settle()
        assert agent_leg_up_in_sim(api.app, sim, channel), "new agent rung"
        assert agent_of(api, channel) == "a9"
        assert [e["agent"] for e in await events_of(api, "agent.configured")] == ["a9"]
        assert [e["queue"] for e in await events_of(api, "queue.configured")] == ["support"]
        await api.app.store.flush()
    async with open_api() as api, api.client("admin") as admin:
        assert (await admin.get("/api/v1/agents/a9/config")).json()["endpoint"] == "PJSIP/agent9"
        assert (await admin.get("/api/v1/queues/support/config")).json()["skills"] == "billing>=5"
        assert (await admin.get("/api/v1/agents/a9")).json()["name"] == "Nia"
        assert api.app.acd.board.queues["support"].strategy == "best_skill"


async def test_relaxing_a_queue_offers_its_waiting_caller_to_an_available_agent(
    open_api: OpenApi, sim: Simulator
) -> None:
    """A caller waiting for a skill nobody has is offered to an available agent once the queue stops asking it."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.5, kind="answer"))
    async with open_api() as api, api.client("supervisor") as supervisor:
        await supervisor.post("/api/v1/agents/a2/logout")
        assert (await supervisor.put("/api/v1/queues/support", json=SKILLED_SUPPORT)).status_code == 200
        channel = await sim.inject_call(did="5552000", caller="+15550007002")
        await through_greeting(sim, channel)
        assert phase_of(api.app, channel) == "queued"
        relaxed = {**SKILLED_SUPPORT, "skills": ""}
        assert (await supervisor.put("/api/v1/queues/support", json=relaxed)).status_code == 200
        await sim.settle()
        assert agent_leg_up_in_sim(api.app, sim, channel), "agent rung"
        assert agent_of(api, channel) == "a1"


async def test_an_agent_talking_keeps_their_call_when_reconfigured(open_api: OpenApi, sim: Simulator) -> None:
    async with open_api() as api, api.client("admin") as admin:
        channel = await call_with_agent(api.app, sim, "+15550007003", "a1")
        changed = {"endpoint": "PJSIP/desk1", "name": "Ann", "queues": ["billing"], "skills": {"french": 3}}
        assert (await admin.put("/api/v1/agents/a1", json=changed)).status_code == 200
        agent = (await admin.get("/api/v1/agents/a1")).json()
        assert agent["state"] == "talking" and agent["queues"] == ["billing"] and agent["call"]["phase"] == "talking"
        assert phase_of(api.app, channel) == "talking"
        assert api.app.directory.phones["PJSIP/desk1"] == "a1"


async def test_a_removed_agent_stays_removed_after_a_restart(open_api: OpenApi) -> None:
    """a3 comes from the configuration file: removed through the API, the file does not bring them back."""
    async with open_api() as api, api.client("admin") as admin:
        assert (await admin.delete("/api/v1/agents/a3")).status_code == 204
        assert (await admin.get("/api/v1/agents/a3")).status_code == 404
        assert [e["agent"] for e in await events_of(api, "agent.removed")] == ["a3"]
    async with open_api() as api, api.client("admin") as admin:
        assert (await admin.get("/api/v1/agents/a3/config")).status_code == 404
        assert "a3" not in api.app.acd.board.agents


async def test_a_queue_created_then_removed(open_api: OpenApi) -> None:
    async with open_api() as api, api.client("supervisor") as supervisor:
        created = await supervisor.post("/api/v1/queues", json={"id": "spare", "name": "Spare", "sla_seconds": 30})
        assert created.status_code == 201
        listed = (await supervisor.get("/api/v1/queues")).json()["queues"]
        assert "spare" in [q["id"] for q in listed]
        assert api.app.directory.queue_settings["spare"].ring_timeout == 15.0
        assert (await supervisor.delete("/api/v1/queues/spare")).status_code == 204
        assert (await supervisor.get("/api/v1/queues/spare")).status_code == 404
        assert [e["queue"] for e in await events_of(api, "queue.removed")] == ["spare"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/agents", {**NEW_AGENT, "skills": {"billing": 11}}, "skills.billing"),
        ("/api/v1/agents", {**NEW_AGENT, "endpoint": "PJSIP/a9&PJSIP/a1"}, "endpoint"),
        ("/api/v1/agents", {**NEW_AGENT, "endpoint": "PJSIP/a9,30,tT"}, "endpoint"),
        ("/api/v1/agents", {**NEW_AGENT, "queues": ["support", "nope"]}, "queues[1]"),
        ("/api/v1/agents", {**NEW_AGENT, "id": "a 9"}, "id"),
        ("/api/v1/agents", {**NEW_AGENT, "languages": ["French!"]}, "languages[0]"),
        ("/api/v1/agents", {**NEW_AGENT, "colour": "red"}, "colour"),
        ("/api/v1/agents", {**NEW_AGENT, "endpoint": "PJSIP/agent1"}, "endpoint"),  # agent a1's phone
        ("/api/v1/queues", {"id": "q2", "skills": "billing >="}, "skills"),
        ("/api/v1/queues", {"id": "q2", "steps": [{"after": 5, "action": "overflow", "queue": "x"}]}, "steps[0].queue"),
        ("/api/v1/queues", {"id": "q2", "strategy": "loudest"}, "strategy"),
        ("/api/v1/queues", {"id": "q2", "survey": "nope"}, "survey"),
        ("/api/v1/queues", {"id": "q2", "wrapup_seconds": -1}, "wrapup_seconds"),
    ],
)
async def test_invalid_configuration_is_422_naming_the_field(
    open_api: OpenApi, path: str, body: dict[str, Any], field: str
) -> None:
    async with open_api() as api, api.client("admin") as admin:
        answer = await admin.post(path, json=body)
        assert answer.status_code == 422, answer.text
        assert field in [e["field"] for e in answer.json()["errors"]], answer.json()
        assert "a9" not in api.app.acd.board.agents and "q2" not in api.app.acd.board.queues


async def test_conflicts_and_unknown_ids(open_api: OpenApi) -> None:
    """An id taken is 409; replacing or removing what does not exist is 404; in use is 409 naming who uses it."""
    async with open_api() as api, api.client("admin") as admin:
        assert (await admin.post("/api/v1/agents", json={**NEW_AGENT, "id": "a1"})).status_code == 409
        assert (await admin.post("/api/v1/queues", json={"id": "billing"})).status_code == 409
        assert (await admin.put("/api/v1/agents/nobody", json={"endpoint": "PJSIP/x"})).status_code == 404
        assert (await admin.put("/api/v1/queues/nothing", json={})).status_code == 404
        assert (await admin.delete("/api/v1/queues/nothing")).status_code == 404
        assert (await admin.post("/api/v1/agents", json=NEW_AGENT)).status_code == 201
        await admin.post("/api/v1/agents/a9/login")
        logged_in = await admin.delete("/api/v1/agents/a9")
        assert logged_in.status_code == 409 and "a9 is available" in logged_in.json()["message"]
        token_holder = await admin.delete("/api/v1/agents/a2")  # agent2's token names a2
        assert token_holder.status_code == 409 and "api.tokens.agent2.agent_id" in token_holder.json()["message"]
        in_use = (await admin.delete("/api/v1/queues/support")).json()["message"]
        assert "agents.a1.queues[0]" in in_use and "dids.5552000.queue" in in_use
        persistent = await admin.put("/api/v1/agents/a1", json={"endpoint": "PJSIP/agent1", "persistent": True})
        assert persistent.status_code == 409 and "log them out" in persistent.json()["message"]


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "status"),
    [
        ("supervisor", "post", "/api/v1/agents", NEW_AGENT, 403),
        ("supervisor", "delete", "/api/v1/agents/a3", None, 403),
        ("supervisor", "put", "/api/v1/queues/billing", {"name": "Billing", "sla_seconds": 40}, 200),
        ("qa", "put", "/api/v1/queues/billing", {}, 403),
        ("crm", "post", "/api/v1/queues", {"id": "q2"}, 403),
        ("agent1", "put", "/api/v1/agents/a1", {"endpoint": "PJSIP/agent1"}, 403),
        ("agent1", "get", "/api/v1/agents/a1/config", None, 200),
        ("agent1", "get", "/api/v1/agents/a2/config", None, 404),
        ("other_admin", "post", "/api/v1/agents", NEW_AGENT, 404),
        ("other_admin", "put", "/api/v1/queues/billing", {}, 404),
        ("other_admin", "delete", "/api/v1/agents/a3", None, 404),
        ("other_admin", "get", "/api/v1/agents/a1/config", None, 404),
        ("other_supervisor", "get", "/api/v1/queues/billing/config", None, 404),
    ],
)
async def test_roles_and_tenants(
    open_api: OpenApi, role: str, method: str, path: str, body: dict[str, Any] | None, status: int
) -> None:
    """Admins manage agents, supervisors tune queues too; another tenant's token finds nothing to change."""
    async with open_api() as api, api.client(role) as http:
        answer = await http.request(method.upper(), path, json=body)
        assert answer.status_code == status, answer.text
        if status != 200:
            assert "a9" not in api.app.acd.board.agents and "a3" in api.app.acd.board.agents
            assert api.app.directory.config.queues["billing"].sla_seconds == 20
