"""A ``callcenter-ari run`` process on a real Redis Cluster (three ``redis-server --cluster-enabled yes`` nodes on
loopback, slots shared out by ``redis-cli --cluster create``): a short call-center scenario runs as on one server
(every script, transaction and batch it sends is refused by the cluster if it spans slots), and every key the
tenant has afterwards sits in the tenant's slot, on one node.

``CALLCENTER_LONG_REDIS_TESTS=1`` runs the long variant (more calls)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.crc import key_slot

from callcenter_ari.sim import CallerScript, PhoneBehaviour
from callcenter_ari.store.agents import AgentStore
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from tests.processes.harness import Cluster, conversations, overlaps
from tests.redis_topology import LocalCluster, local_cluster

pytestmark = pytest.mark.slow

LONG = os.environ.get("CALLCENTER_LONG_REDIS_TESTS") == "1"
AGENTS = ("agent1", "agent2", "agent3")
CALLS = 300 if LONG else 24


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[LocalCluster]:
    with local_cluster(tmp_path / "redis") as group:
        yield group


async def test_a_call_center_on_a_redis_cluster(unbound: Cluster, nodes: LocalCluster) -> None:
    cluster = unbound
    for agent in AGENTS:
        cluster.sim.add_phone(f"PJSIP/{agent}", PhoneBehaviour(answer_after=0.05))
    tables: dict[str, dict[str, object]] = {"redis": {"url": "", "mode": "cluster", "nodes": nodes.addresses}}
    app = cluster.add("cc1", agents=AGENTS, extra=tables)
    app.start()
    await app.ready()
    async with app.api() as api:  # the directory (a transaction) and the surge announcement through the API
        body = {"id": "agent9", "endpoint": "PJSIP/agent9", "queues": ["support"]}
        assert (await api.post("/agents/", json=body)).status_code == 201
        surge = await api.put("/ivr/surge/", json={"prompt": ["sound:all-circuits-busy-now"]})
        assert surge.status_code == 200, surge.text
        assert (await api.delete("/ivr/surge/")).status_code == 200
    injected = []
    for n in range(CALLS):
        script = CallerScript(talk=0.2, max_duration=60.0)
        injected.append(await cluster.sim.inject_call("5552000", f"+1555002{n:04d}", script=script))
        await anyio.sleep(0.05)
    with anyio.fail_after(60):
        while any(cluster.sim.channel(channel) is not None for channel in injected):
            await anyio.sleep(0.1)
    spans = conversations(cluster.sim)
    assert overlaps(spans) == []
    assert sum(len(agent_spans) for agent_spans in spans.values()) == CALLS, app.tail()

    client = RedisCluster(startup_nodes=[ClusterNode(*a.split(":")) for a in nodes.addresses])
    keys = Keys(cluster.prefix, "t1", hash_tag=True)
    try:
        store = AgentStore(Store(client, keys, now=lambda: 0.0), origin="test", seat_limit=None)  # type: ignore[arg-type]
        with anyio.fail_after(15):
            while {a.state for a in await store.read_all() if a.agent_id in AGENTS} != {"available"}:
                await anyio.sleep(0.1)
        with anyio.fail_after(15):  # a ticket for each call, numbered once
            while await client.hlen(keys.tickets_by_call) < CALLS:
                await anyio.sleep(0.1)
        assert len(set(await client.hvals(keys.tickets_by_call))) == CALLS
        slot = key_slot(b"{t1}")
        holders = set()
        for node in client.get_primaries():
            found = [k async for k in client.scan_iter(match=f"{cluster.prefix}:*", target_nodes=node)]
            assert {key_slot(k) for k in found} <= {slot}
            if found:
                holders.add(node.name)
        assert len(holders) == 1  # the tenant's keys on one node: its batches and scripts go there
    finally:
        await client.aclose()
    events = [line["event"] for line in app.lines()]
    assert "store.write_refused" not in events and "call.failed" not in events, app.tail()
    assert not any(line.get("level") == "error" for line in app.lines()), app.tail()
