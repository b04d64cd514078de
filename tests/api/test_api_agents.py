"""Agents over the API: list and read, log in and out, ready and not ready, the seat limit, agents' own view."""

from __future__ import annotations

import msgspec

from callcenter_ari.acd.records import AgentRecord
from tests.api.conftest import OpenApi


async def test_list_shows_state_since_calls_and_queues(open_api: OpenApi) -> None:
    async with open_api() as api, api.client("supervisor") as http:
        agents = (await http.get("/api/v1/agents")).json()["agents"]
        one = (await http.get("/api/v1/agents/a2")).json()
    assert [(a["id"], a["state"]) for a in agents] == [("a1", "available"), ("a2", "available"), ("a3", "logged_out")]
    assert one == agents[1]
    assert one["name"] == "Bob" and one["queues"] == ["support", "billing"] and one["calls"] == 0
    assert one["since"] > 1e9


async def test_state_changes_follow_the_agent_lifecycle_and_are_saved(open_api: OpenApi) -> None:
    """log out -> log in -> not ready (reason) -> ready, each answered with the agent as it now is, and in Redis."""
    async with open_api() as api, api.client("supervisor") as http:
        assert (await http.post("/api/v1/agents/a1/logout")).json()["state"] == "logged_out"
        assert (await http.post("/api/v1/agents/a1/login")).json()["state"] == "available"
        paused = (await http.post("/api/v1/agents/a1/not-ready", json={"reason": "training"})).json()
        assert (paused["state"], paused["reason"]) == ("not_ready", "training")
        assert (await http.post("/api/v1/agents/a1/ready")).json()["state"] == "available"

        async def saved_available() -> bool:
            blob = await api.app.store.redis.hget(api.app.store.keys.agent("a1"), "record")
            return blob is not None and msgspec.json.decode(blob, type=AgentRecord).state == "available"

        await api.app.store.flush()
        assert await saved_available(), "agent saved"


async def test_invalid_transitions_are_409_with_the_reason(open_api: OpenApi) -> None:
    async with open_api() as api, api.client("admin") as http:
        again = await http.post("/api/v1/agents/a1/login")
        ready = await http.post("/api/v1/agents/a1/ready")
        out = await http.post("/api/v1/agents/a3/logout")
        paused = await http.post("/api/v1/agents/a3/not-ready", json={"reason": "lunch"})
    assert [a.status_code for a in (again, ready, out, paused)] == [409] * 4
    assert again.json() == {"error": "conflict", "message": "agent a1 is available: cannot log in", "errors": []}
    assert "cannot ready" in ready.json()["message"]
    assert "a3 is logged_out" in out.json()["message"]


async def test_unknown_agent_is_404(open_api: OpenApi) -> None:
    async with open_api() as api, api.client("admin") as http:
        for answer in (await http.get("/api/v1/agents/nobody"), await http.post("/api/v1/agents/nobody/login")):
            assert answer.status_code == 404
            assert answer.json()["message"] == "no agent 'nobody'"


async def test_not_ready_needs_a_reason_code(open_api: OpenApi) -> None:
    """422 naming the field for a bad or missing reason or an unknown field; 400 without a body."""
    async with open_api() as api, api.client("supervisor") as http:
        bad = await http.post("/api/v1/agents/a1/not-ready", json={"reason": "Lunch break!"})
        newline = await http.post("/api/v1/agents/a1/not-ready", json={"reason": "lunch\n"})
        missing = await http.post("/api/v1/agents/a1/not-ready", json={})
        extra = await http.post("/api/v1/agents/a1/not-ready", json={"reason": "lunch", "until": 5})
        nobody = await http.post("/api/v1/agents/a1/not-ready")
        malformed = await http.post("/api/v1/agents/a1/not-ready", content=b'{"reason": ')
        assert api.app.acd.board.agents["a1"].state == "available"
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "reason")
    assert (newline.status_code, newline.json()["errors"][0]["field"]) == (422, "reason")
    assert (missing.status_code, missing.json()["errors"][0]["field"]) == (422, "reason")
    assert (extra.status_code, extra.json()["errors"][0]["field"]) == (422, "until")
    assert (nobody.status_code, nobody.json()["errors"][0]["field"]) == (400, "body")
    assert malformed.status_code == 400 and malformed.json()["error"] == "bad_request"


async def test_seat_limit_refuses_one_more_login_with_409_naming_the_limit(open_api: OpenApi) -> None:
    """Two seats, two agents logged in: the third is refused until someone logs out."""
    async with open_api(seat_limit=2) as api, api.client("admin") as http:
        refused = await http.post("/api/v1/agents/a3/login")
        assert refused.status_code == 409
        assert refused.json()["message"].startswith("seat limit reached: 2 agents")
        assert api.app.acd.board.agents["a3"].state == "logged_out"
        assert (await http.post("/api/v1/agents/a1/logout")).status_code == 200
        assert (await http.post("/api/v1/agents/a3/login")).json()["state"] == "available"
        assert (await http.post("/api/v1/agents/a1/login")).status_code == 409


class TestAgentToken:
    async def test_sees_only_its_own_agent(self, open_api: OpenApi) -> None:
        async with open_api() as api, api.client("agent1") as http:
            assert [a["id"] for a in (await http.get("/api/v1/agents")).json()["agents"]] == ["a1"]
            assert (await http.get("/api/v1/agents/a1")).status_code == 200
            assert (await http.get("/api/v1/agents/a2")).status_code == 404

    async def test_changes_only_its_own_state(self, open_api: OpenApi) -> None:
        async with open_api() as api, api.client("agent1") as http:
            assert (await http.post("/api/v1/agents/a2/logout")).status_code == 404
            assert (await http.post("/api/v1/agents/a1/not-ready", json={"reason": "lunch"})).status_code == 200
            assert api.app.acd.board.agents["a2"].state == "available"
            assert api.app.acd.board.agents["a1"].reason == "lunch"
