"""Redis Sentinel failover under load: a ``callcenter-ari run`` process reaches Redis through three sentinels; the
primary is killed (SIGKILL) while calls come in and agents talk; the sentinels promote the replica, the process
finds it by itself, and every caller is answered, no agent is on two calls and none is left unavailable.

``CALLCENTER_LONG_REDIS_TESTS=1`` runs the long variant (more calls, faster, the kill deeper into the load)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

from callcenter_ari import config
from callcenter_ari.config import node_of
from callcenter_ari.sim import CallerScript, PhoneBehaviour
from callcenter_ari.store.agents import AgentStore
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from tests.processes.harness import Cluster, conversations, overlaps
from tests.redis_topology import SERVICE, SentinelSet, sentinel_set

pytestmark = pytest.mark.slow

LONG = os.environ.get("CALLCENTER_LONG_REDIS_TESTS") == "1"
AGENTS = tuple(f"agent{n}" for n in range(1, 7))
CALLS, KILL_AFTER, GAP = (600, 300, 0.03) if LONG else (60, 25, 0.08)


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelSet]:
    with sentinel_set(tmp_path / "redis") as group:
        yield group


def sentinel_tables(sentinels: SentinelSet) -> dict[str, dict[str, object]]:
    return {
        "redis": {
            "url": "",
            "mode": "sentinel",
            "sentinels": sentinels.addresses,
            "service": SERVICE,
            "socket_timeout_seconds": 2.0,
            "wait_replicas": 1,  # as docs/DEPLOYMENT.md advises: what the ACD acted on is on the replica too
        }
    }


async def test_the_primary_killed_under_load_loses_no_call(unbound: Cluster, sentinels: SentinelSet) -> None:
    cluster = unbound
    for agent in AGENTS:
        cluster.sim.add_phone(f"PJSIP/{agent}", PhoneBehaviour(answer_after=0.05))
    app = cluster.add("cc1", agents=AGENTS, extra=sentinel_tables(sentinels))
    app.start()
    await app.ready()
    first_primary = sentinels.primary.address
    assert sentinels.current_primary() == first_primary

    injected: list[str] = []
    for n in range(CALLS):
        if n == KILL_AFTER:
            sentinels.primary.kill()  # agents talking, callers waiting, writes staged: no shutdown, no last sync
        script = CallerScript(talk=0.4, max_duration=120.0)
        injected.append(await cluster.sim.inject_call("5552000", f"+1555001{n:04d}", script=script))
        await anyio.sleep(GAP)
    with anyio.fail_after(90):
        while any(cluster.sim.channel(channel) is not None for channel in injected):
            await anyio.sleep(0.1)

    assert sentinels.current_primary() == sentinels.replica.address  # promoted
    spans = conversations(cluster.sim)
    assert overlaps(spans) == []
    bridged = {channel for _, event, _, channel, _ in cluster.sim.core.bridge_log if event == "enter"}
    assert set(injected) <= bridged, app.tail()  # every caller reached an agent (no greeting: only with one)
    assert sum(len(agent_spans) for agent_spans in spans.values()) == CALLS

    sentinel = Sentinel([tuple(a.split(":")) for a in sentinels.addresses], socket_timeout=2)
    redis: Redis = sentinel.master_for(SERVICE)
    keys = Keys(cluster.prefix, "t1")
    store = AgentStore(Store(redis, keys, now=lambda: 0.0), origin="test", seat_limit=None)
    try:
        with anyio.fail_after(15):
            while {a.state for a in await store.read_all()} != {"available"}:
                await anyio.sleep(0.1)
        node = node_of(config.load(app.config))
        with anyio.fail_after(15):  # every call ended in the new primary too: none left live
            while await redis.scard(keys.live_calls(node)):
                await anyio.sleep(0.1)
        # Every call has its ticket, each with a number of its own: numbering paused after the switch (a number
        # given just before it may be missing from the counter) and resumed once the numbers were written back.
        with anyio.fail_after(30):
            while await redis.hlen(keys.tickets_by_call) < CALLS:
                await anyio.sleep(0.2)
        numbers = await redis.hvals(keys.tickets_by_call)
        assert len(set(numbers)) == CALLS
    except TimeoutError:
        stuck = [(a.agent_id, a.state, a.call_id) for a in await store.read_all() if a.state != "available"]
        raise AssertionError(f"after the failover: agents {stuck}\n{app.tail()}") from None
    finally:
        await redis.aclose()
        await sentinel.aclose()
    async with app.api() as api:
        with anyio.fail_after(10):
            while {a["state"] for a in (await api.get("/agents/")).json()["agents"]} != {"available"}:
                await anyio.sleep(0.1)
        metrics = (await api.get(f"http://127.0.0.1:{app.http_port}/metrics")).text
    assert "callcenter_redis_failovers_total 1.0" in metrics
    assert "callcenter_redis_data_losses_total 0.0" in metrics
    events = [line["event"] for line in app.lines()]
    # The process saw the switch, wrote back what it held, and gave ticket numbers again afterwards.
    assert "redis.failed_over" in events and "tickets.numbering_resumed" in events, app.tail()
    assert "call.failed" not in events and "acd.message_failed" not in events, app.tail()
    assert app.process is not None and app.process.poll() is None
