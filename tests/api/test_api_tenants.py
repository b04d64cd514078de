"""Tenant isolation: a token of another tenant is valid but sees nothing here and changes nothing."""

from __future__ import annotations

from callcenter_ari.sim import Simulator
from tests.api.conftest import OpenApi, call_with_agent, emit


async def test_another_tenants_token_sees_nothing_of_this_tenant(sim: Simulator, open_api: OpenApi) -> None:
    """Empty lists, 404 for every object, even with ids that exist here (an agent, a call, a subscription)."""
    async with open_api() as api:
        channel = await call_with_agent(api.app, sim, "+15550101010")
        call_id = api.app.services.channels.call(channel).call_id
        async with api.client("admin") as admin:
            sub = (await admin.post("/api/v1/webhooks/subscriptions", json={"url": "https://crm.example.com/h"})).json()
        emit(api.app, "call.note", call_id=call_id)
        await api.app.store.flush()
        async with api.client("other_admin") as http:
            assert (await http.get("/api/v1/agents")).json() == {"agents": []}
            assert (await http.get("/api/v1/queues")).json() == {"queues": []}
            assert (await http.get("/api/v1/calls")).json() == {"calls": []}
            assert (await http.get("/api/v1/events")).json() == {"events": [], "last_id": None}
            assert (await http.get("/api/v1/webhooks/subscriptions")).json() == {"subscriptions": []}
            assert (await http.get("/api/v1/webhooks/dead-letters")).json() == {"deliveries": []}
            assert (await http.get("/api/v1/tickets/overdue")).json() == {"tickets": []}
            assert (await http.get("/api/v1/tickets", params={"caller_number": "+15550101010"})).json() == {
                "tickets": []
            }
            for path in (
                "/api/v1/agents/a1",
                "/api/v1/queues/support",
                f"/api/v1/calls/{call_id}",
                f"/api/v1/webhooks/subscriptions/{sub['id']}",
                "/api/v1/webhooks/outbox",
                "/api/v1/ivr/surge",
            ):
                answer = await http.get(path)
                assert answer.status_code == 404, (path, answer.text)
                assert answer.json()["error"] == "not_found"
            assert sub["secret"] not in (await http.get("/api/v1/webhooks/subscriptions")).text


async def test_another_tenants_token_changes_nothing(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api() as api:
        channel = await call_with_agent(api.app, sim, "+15550202020")
        call_id = api.app.services.channels.call(channel).call_id
        before = {a: r.state for a, r in api.app.acd.board.agents.items()}
        async with api.client("other_admin") as http:
            changes = [
                await http.post("/api/v1/agents/a3/login"),
                await http.post("/api/v1/agents/a2/logout"),
                await http.post("/api/v1/agents/a1/not-ready", json={"reason": "lunch"}),
                await http.post(f"/api/v1/calls/{call_id}/hangup"),
                await http.put("/api/v1/ivr/surge", json={"prompt": ["sound:storm"]}),
                await http.delete("/api/v1/ivr/surge"),
                await http.post("/api/v1/webhooks/subscriptions", json={"url": "https://evil.example.com/"}),
                await http.post("/api/v1/webhooks/replay", json={"event_id": "1-0"}),
            ]
        assert [c.status_code for c in changes] == [404] * len(changes), [c.text for c in changes]
        assert {a: r.state for a, r in api.app.acd.board.agents.items()} == before
        assert call_id in api.app.services.calls
        assert not api.app.surge.current().active
        assert await api.app.webhooks.subscriptions() == []


async def test_an_agent_token_of_another_tenant_does_not_see_the_same_agent_id_here(open_api: OpenApi) -> None:
    async with open_api() as api, api.client("other_agent1") as http:
        assert (await http.get("/api/v1/agents")).json() == {"agents": []}
        assert (await http.get("/api/v1/agents/a1")).status_code == 404
        assert (await http.post("/api/v1/agents/a1/logout")).status_code == 404
        assert api.app.acd.board.agents["a1"].state == "available"
