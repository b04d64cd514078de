"""The tenant's seat limit is counted in Redis, on every way in (configuration, API, feature code, persistent line,
directory) and across processes; seats are leases, free again when the processes that held them are gone."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from redis.asyncio import Redis

from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.transport import Endpoint
from callcenter_ari.sim import PhoneBehaviour
from callcenter_ari.store.keys import Keys
from tests.processes.harness import PASSWORD, USER, AppProcess, Cluster, until

pytestmark = pytest.mark.slow

LIMIT = 2
LEASE = 3.0


def seats(agents: dict[str, bool], extra: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Two seats, quick leases; ``agents``: agent id -> logged in at first start."""
    tables: dict[str, dict[str, Any]] = {"app": {"seat_limit": LIMIT, "seat_lease_seconds": LEASE}}
    for agent, logged_in in agents.items():
        tables[f"agents.{agent}"] = {"endpoint": f"PJSIP/{agent}", "queues": ["support"], "logged_in": logged_in}
    tables.update(extra or {})
    return tables


async def state(app: AppProcess, agent: str) -> str:
    async with app.api() as api:
        reply = await api.get(f"/agents/{agent}")
        assert reply.status_code == 200, reply.text
        shown: str = reply.json()["state"]
        return shown


async def feature_code(cluster: Cluster, app: str, agent: str, code: str, channel: str) -> None:
    """An agent's phone dials a feature code: its call enters the process's Stasis application with the code."""
    cluster.sim.add_phone(f"PJSIP/{agent}-desk", PhoneBehaviour(answer_after=0.05))
    client = AriClient(Endpoint(cluster.sim_url, f"harness-{channel}", USER, PASSWORD), transport="http")

    async def ignore(message: object) -> None:
        pass

    async with anyio.create_task_group() as tg:
        await tg.start(client.run, ignore)
        query = {"endpoint": f"PJSIP/{agent}-desk", "app": app, "appArgs": f"agentphone,PJSIP/{agent},{code}"}
        await client.request("POST", f"channels/{channel}", query)
        tg.cancel_scope.cancel()


async def seats_taken(redis: Redis, cluster: Cluster) -> int:
    now = (await redis.time())[0]
    return int(await redis.zcount(Keys(cluster.prefix, "t1").seats, now, "+inf"))


async def test_every_way_in_counts_against_one_limit_across_two_processes(cluster: Cluster, redis: Redis) -> None:
    """a1 and a2 logged in by each process's configuration take the two seats; then the API, a feature code and a
    persistent agent's line are all refused, in either process, and an agent created through the directory comes in
    logged out; a log-out in one process frees a seat that a feature code in the other takes."""
    persistent = {"agents.a4": {"endpoint": "PJSIP/a4", "queues": ["support"], "persistent": True, "logged_in": False}}
    first = cluster.add("cc1", agents=(), extra=seats({"a1": True, "a3": False, "a4": False}, persistent))
    second = cluster.add("cc2", agents=(), extra=seats({"a2": True, "a3": False, "a4": False}, persistent))
    first.start()
    await first.ready()
    second.start()
    await second.ready()
    assert await seats_taken(redis, cluster) == LIMIT
    assert {await state(first, "a1"), await state(second, "a2")} == {"available"}

    async with first.api() as api:
        refused = await api.post("/agents/a3/login")
        assert refused.status_code == 409 and refused.json()["message"].startswith("seat limit reached: 2")
        refused = await api.post("/agents/a4/login")  # persistent: refused before their phone is called
        assert refused.status_code == 409
        created = await api.post(
            "/agents", json={"id": "a5", "endpoint": "PJSIP/a5", "queues": ["support"], "logged_in": True}
        )
        assert created.status_code == 201, created.text
    assert await state(first, "a5") == "logged_out"  # created through the directory: logged out, no seat taken
    async with second.api() as api:
        assert (await api.post("/agents/a5/login")).status_code in (404, 409)  # not cc2's agent, or no seat
    await feature_code(cluster, "cc2", "a3", "*41", "desk-1")
    await until(lambda: cluster.sim.channel("desk-1") is None, what="refused code hung up")
    assert await state(second, "a3") == "logged_out"
    assert [c for c in cluster.sim.api.originates if "a4" in str(c)] == []  # a4's phone never rang
    assert await seats_taken(redis, cluster) == LIMIT

    async with first.api() as api:
        assert (await api.post("/agents/a1/logout")).status_code == 200
    await feature_code(cluster, "cc2", "a3", "*41", "desk-2")
    await until(lambda: _state_is(first, "a3", "available"), what="a3 logged in, seen by cc1 too")
    assert await seats_taken(redis, cluster) == LIMIT


async def _state_is(app: AppProcess, agent: str, expected: str) -> bool:
    return await state(app, agent) == expected


async def test_the_seats_of_a_process_that_died_are_leased_and_run_out(cluster: Cluster, redis: Redis) -> None:
    """cc1 alone serves a1 and a2 and is killed: their seats are free again once their leases run out, and cc2's
    agents can log in; when cc1 comes back, the agents it had logged in and has no seat for are logged out."""
    first = cluster.add("cc1", agents=(), extra=seats({"a1": True, "a2": True}))
    second = cluster.add("cc2", agents=(), extra=seats({"b1": False, "b2": False}))
    first.start()
    await first.ready()
    second.start()
    await second.ready()
    async with second.api() as api:
        assert (await api.post("/agents/b1/login")).status_code == 409
        first.kill()
        await anyio.sleep(LEASE + 0.5)
        assert (await api.post("/agents/b1/login")).status_code == 200
        assert (await api.post("/agents/b2/login")).status_code == 200
    first.start()
    await first.ready()
    await until(lambda: _both_logged_out(first), timeout=LEASE * 2, what="cc1's agents logged out: no seats")
    assert await seats_taken(redis, cluster) == LIMIT


async def _both_logged_out(app: AppProcess) -> bool:
    return {await state(app, "a1"), await state(app, "a2")} == {"logged_out"}
