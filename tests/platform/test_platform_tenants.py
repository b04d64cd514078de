"""Two tenants in one process: each sees its own calls, agents, queues, tickets, recordings, webhooks, events and
metrics, and nothing of the other's; each has its own seat limit; both keep their state across a restart."""

from __future__ import annotations

import pytest

from callcenter_ari.sim import Simulator
from tests.e2e.helpers import ended_call, eventually, through_greeting
from tests.platform.conftest import ACME, GLOBEX, STRANGER, Running, StartPlatform, Tenant, answered_call
from tests.webhooks.helpers import Receiver

BOTH_WAYS = pytest.mark.parametrize(("home", "away"), [(ACME, GLOBEX), (GLOBEX, ACME)], ids=["acme", "globex"])


async def finished_call(running: Running, sim: Simulator, tenant: Tenant, caller: str) -> tuple[str, str]:
    """A call answered by the tenant's agent, talked for 10 seconds and hung up; returns (call id, recording)."""
    channel = await answered_call(running, sim, tenant, caller)
    app = running.app(tenant)
    call_id = app.services.channels.call(channel).call_id
    await sim.advance(10)
    await sim.hangup(channel)
    await ended_call(app, channel)
    return call_id, f"{call_id}-r1"


@BOTH_WAYS
async def test_a_call_to_a_tenants_did_reaches_its_agent_and_shows_in_its_api_only(
    sim: Simulator, start_platform: StartPlatform, home: Tenant, away: Tenant
) -> None:
    """The call reaches the home tenant's agent; the other tenant's admin finds none of it (404, empty lists)."""
    caller = "+15550101010"
    async with start_platform() as running, running.client(home.admin) as mine, running.client(away.admin) as theirs:
        channel = await answered_call(running, sim, home, caller)
        call_id = running.app(home).services.channels.call(channel).call_id
        assert running.app(away).services.calls == {}
        [live] = (await mine.get("/api/v1/calls")).json()["calls"]
        assert (live["id"], live["agent_id"]) == (call_id, home.agent)
        assert (await theirs.get("/api/v1/calls")).json() == {"calls": []}
        assert (await theirs.get(f"/api/v1/calls/{call_id}")).status_code == 404
        assert (await theirs.post(f"/api/v1/calls/{call_id}/hangup")).status_code == 404
        assert [a["id"] for a in (await theirs.get("/api/v1/agents")).json()["agents"]] == sorted(
            running.app(away).config.agents
        )
        assert (await theirs.get(f"/api/v1/agents/{home.agent}")).status_code == 404
        assert (await mine.get("/api/v1/agents/" + home.agent)).json()["state"] == "talking"
        [their_queue] = (await theirs.get("/api/v1/queues")).json()["queues"]
        assert their_queue["id"] == "support" and their_queue["today"]["entered"] == 0  # the same id, their queue

        await sim.advance(10)
        await sim.hangup(channel)
        await ended_call(running.app(home), channel)
        name = f"{call_id}-r1"
        [ticket] = await _tickets(mine, caller)  # opened for the handled call
        assert [r["name"] for r in await _recordings(mine)] == [name]
        assert await _tickets(theirs, caller) == []
        assert await _recordings(theirs) == []
        for path in (
            f"/api/v1/tickets/{ticket['number']}",
            f"/api/v1/recordings/{name}",
            f"/api/v1/recordings/{name}/file",
        ):
            answer = await theirs.get(path)
            assert answer.status_code == 404 and answer.json()["error"] == "not_found", path
        mine_events = (await mine.get("/api/v1/events", params={"limit": 1000})).json()["events"]
        their_events = (await theirs.get("/api/v1/events", params={"limit": 1000})).json()["events"]
        assert any(e["type"] == "call.ended" and e["data"]["call_id"] == call_id for e in mine_events)
        assert not [e for e in their_events if call_id in str(e["data"]) or home.agent in str(e["data"])]


async def _tickets(http, caller: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return (await http.get("/api/v1/tickets", params={"caller_number": caller})).json()["tickets"]  # type: ignore[no-any-return]


async def _recordings(http) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return (await http.get("/api/v1/recordings")).json()["recordings"]  # type: ignore[no-any-return]


async def test_each_tenants_seat_limit_is_enforced_on_its_own(start_platform: StartPlatform) -> None:
    """acme (1 seat, Ann logged in) refuses Abe; globex (2 seats) still takes Gus; acme takes Abe once Ann leaves."""
    async with start_platform() as running, running.client(ACME.admin) as acme, running.client(GLOBEX.admin) as globex:
        refused = await acme.post("/api/v1/agents/abe/login")
        assert refused.status_code == 409 and "seat limit" in refused.json()["message"]
        assert (await globex.post("/api/v1/agents/gus/login")).status_code == 200
        assert (await acme.post("/api/v1/agents/ann/logout")).status_code == 200
        assert (await acme.post("/api/v1/agents/abe/login")).status_code == 200
        assert running.app(GLOBEX).acd.logged_in() == 2 and running.app(ACME).acd.logged_in() == 1


async def test_a_webhook_subscription_receives_only_its_tenants_events(
    sim: Simulator, start_platform: StartPlatform
) -> None:
    """Each tenant's CRM subscribes to every event; a call of each tenant reaches only its own tenant's CRM."""
    crms = {ACME.id: Receiver(), GLOBEX.id: Receiver()}
    async with start_platform() as running:
        for tenant in (ACME, GLOBEX):
            await crms[tenant.id].start()
            async with running.client(tenant.admin) as http:
                sub = await http.post("/api/v1/webhooks/subscriptions", json={"url": crms[tenant.id].url})
                crms[tenant.id].secret = sub.json()["secret"]
        try:
            calls = {
                tenant.id: (await finished_call(running, sim, tenant, f"+1555020{n}"))[0]
                for n, tenant in enumerate((ACME, GLOBEX))
            }
            for tenant, crm in crms.items():
                await eventually(lambda crm=crm: "call.ended" in crm.types(), what=f"{tenant}'s CRM told", timeout=10)
            for tenant, crm in crms.items():
                seen = {r.payload["data"].get("call_id") for r in crm.unique.values()} - {None}
                assert seen == {calls[tenant]}, tenant
                assert crm.bad_signatures == 0
        finally:
            for crm in crms.values():
                await crm.stop()


async def test_restarting_the_platform_keeps_each_tenants_state(sim: Simulator, start_platform: StartPlatform) -> None:
    """Agents' states, subscriptions and tickets survive a restart, each in its own tenant."""
    async with start_platform() as running, running.client(ACME.admin) as acme, running.client(GLOBEX.admin) as globex:
        await finished_call(running, sim, ACME, "+15550303030")
        [ticket] = await _tickets(acme, "+15550303030")
        assert (await acme.post("/api/v1/agents/ann/not-ready", json={"reason": "lunch"})).status_code == 200
        assert (await globex.post("/api/v1/agents/gus/login")).status_code == 200
        sub = (await globex.post("/api/v1/webhooks/subscriptions", json={"url": "https://crm.globex.example/h"})).json()
    async with start_platform() as running, running.client(ACME.admin) as acme, running.client(GLOBEX.admin) as globex:
        ann = (await acme.get("/api/v1/agents/ann")).json()
        assert (ann["state"], ann["reason"]) == ("not_ready", "lunch")
        assert (await globex.get("/api/v1/agents/gus")).json()["state"] == "available"
        assert [s["id"] for s in (await globex.get("/api/v1/webhooks/subscriptions")).json()["subscriptions"]] == [
            sub["id"]
        ]
        assert (await acme.get("/api/v1/webhooks/subscriptions")).json() == {"subscriptions": []}
        assert (await acme.get(f"/api/v1/tickets/{ticket['number']}")).status_code == 200
        assert (await globex.get(f"/api/v1/tickets/{ticket['number']}")).status_code == 404


async def test_ready_needs_every_tenant_and_metrics_are_the_tokens_tenants(
    sim: Simulator, start_platform: StartPlatform
) -> None:
    """/ready is 503 while any tenant cannot take calls; /metrics shows the token's tenant's figures only."""
    async with start_platform() as running, running.client(ACME.admin) as acme, running.client(GLOBEX.admin) as globex:
        assert (await acme.get("/ready")).status_code == 200
        channel = await sim.inject_call(did="5551000", caller="+15550404040", app=ACME.id)
        await through_greeting(sim, channel)
        await ended_call(running.app(ACME), channel)
        assert "callcenter_calls_started_total 1.0" in (await acme.get("/metrics")).text
        assert "callcenter_calls_started_total 0.0" in (await globex.get("/metrics")).text
        running.app(GLOBEX).services.ari_up = False
        assert (await acme.get("/ready")).status_code == 503
        running.app(GLOBEX).services.ari_up = True
        assert (await acme.get("/ready")).status_code == 200


async def test_a_token_of_a_tenant_not_served_here_sees_nothing(sim: Simulator, start_platform: StartPlatform) -> None:
    """A valid token for a tenant this process does not serve: empty lists, 404 for objects and metrics."""
    async with start_platform() as running, running.client(STRANGER) as stranger:
        assert (await stranger.get("/api/v1/agents")).json() == {"agents": []}
        assert (await stranger.get("/api/v1/queues")).json() == {"queues": []}
        assert (await stranger.get("/api/v1/calls")).json() == {"calls": []}
        assert (await stranger.get("/api/v1/recordings")).json() == {"recordings": []}
        assert (await stranger.get("/api/v1/qa/forms")).json() == {"forms": {}}
        assert (await stranger.get("/api/v1/agents/ann")).status_code == 404
        assert (await stranger.get("/metrics")).status_code == 404
        assert (await stranger.post("/api/v1/agents/abe/login")).status_code == 404
        assert running.app(ACME).acd.board.agents["abe"].state == "logged_out"


async def test_an_unknown_token_is_refused_by_the_shared_server(start_platform: StartPlatform) -> None:
    async with start_platform() as running, running.client("no-such-token-0123456789") as http:
        assert (await http.get("/api/v1/agents")).status_code == 401
        assert (await http.get("/health")).json() == {"status": "ok", "role": "active"}
