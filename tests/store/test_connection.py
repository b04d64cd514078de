"""The store through redis-py's Sentinel client, on real servers (a primary, a replica, three sentinels): writes
staged while the primary is dead are kept and land on the promoted replica, and ``primary_of`` names the switch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from redis.asyncio.client import Pipeline

from callcenter_ari.calls.records import CallRecord
from callcenter_ari.config import RedisSection
from callcenter_ari.store.connection import connected, primary_of, tenant_keys
from callcenter_ari.store.redis import Store
from tests.redis_topology import SERVICE, SentinelSet, local_cluster, sentinel_set, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelSet]:
    with sentinel_set(tmp_path / "redis") as group:
        yield group


async def test_writes_staged_through_a_failover_reach_the_new_primary(sentinels: SentinelSet) -> None:
    section = RedisSection(mode="sentinel", sentinels=tuple(sentinels.addresses), service=SERVICE)
    keys = tenant_keys(section, "t1")
    async with connected(section) as redis:
        store = Store(redis, keys, now=lambda: 1000.0, node="n1")
        assert await primary_of(redis, keys.events) == sentinels.primary.address
        store.save_call(CallRecord(call_id="c1", channel_id="ch1", started_at=990.0, phase="queued"))
        await store.flush()
        written = sentinels.primary.client().info("replication")["master_repl_offset"]  # c1 is in the replica's copy
        wait_until(lambda: sentinels.replica.client().info("replication")["slave_repl_offset"] >= written, 15, "c1")

        sentinels.primary.kill()
        store.save_call(CallRecord(call_id="c2", channel_id="ch2", started_at=995.0, phase="queued"))
        store.queue_add("support", "c2", 5.0)
        store.emit("call.queued", {"call_id": "c2"})
        with anyio.fail_after(30):  # retried until the sentinels promote the replica and the client finds it
            await store.flush()

        assert await primary_of(redis, keys.events) == sentinels.replica.address
        assert {record.call_id for record in await store.live_calls()} == {"c1", "c2"}
        assert await store.queue_entries("support") == [("c2", 5.0)]
        assert [kind for _, kind, _ in await store.events()] == ["call.queued"]


async def test_a_batch_waits_for_the_replica_and_stops_waiting_for_a_dead_one(sentinels: SentinelSet) -> None:
    """With ``wait_replicas`` a flush returns once the replica has the batch (read there right after); a replica
    gone costs one timeout, and the batches after it do not wait."""
    section = RedisSection(mode="sentinel", sentinels=tuple(sentinels.addresses), service=SERVICE)
    keys = tenant_keys(section, "t1")
    replica = sentinels.replica.client()
    async with connected(section) as redis:
        store = Store(redis, keys, now=lambda: 1000.0, node="n1", wait_replicas=1, wait_timeout_ms=2000)
        for n in range(20):
            store.queue_add("support", f"c{n}", float(n))
            await store.flush()
            assert replica.zscore(keys.queue("support"), f"c{n}") == float(n)  # no read-your-write lag
        assert store.replicas_late == 0

        sentinels.replica.kill()
        store.queue_add("support", "late", 99.0)
        await store.flush()
        assert store.replicas_late == 1
        for n in range(5):
            store.queue_add("support", f"after{n}", 100.0 + n)
            await store.flush()
        assert store.replicas_late == 1  # not waited for again
        assert len(await store.queue_entries("support")) == 26


async def test_a_batch_refused_as_read_only_is_kept_until_the_server_takes_writes(sentinels: SentinelSet) -> None:
    """A server that answers READONLY (a replica not yet promoted, or a demoted primary) refuses the batch inside
    the pipeline: the batch is kept and tried again, and lands once the server is primary."""
    section = RedisSection(url=f"redis://{sentinels.replica.address}/0")
    keys = tenant_keys(section, "t1")
    async with connected(section) as redis:
        store = Store(redis, keys, now=lambda: 1000.0, node="n1")
        store.queue_add("support", "c1", 1.0)
        store.emit("call.queued", {"call_id": "c1"})  # two writes: the batch goes as one script (store/commit.py)
        async with anyio.create_task_group() as tg:
            tg.start_soon(store.flush)
            await anyio.sleep(1.2)  # two tries refused
            assert await store.queue_entries("support") == []
            sentinels.replica.client().execute_command("REPLICAOF", "NO", "ONE")
        assert await store.queue_entries("support") == [("c1", 1.0)]
        assert [kind for _, kind, _ in await store.events()] == ["call.queued"]  # once: the refused tries wrote none


async def test_a_step_refused_as_read_only_is_tried_again_until_the_server_takes_writes(
    sentinels: SentinelSet,
) -> None:
    """A step behind the batch (the ACD's agent writes, with nothing staged before them) is refused as the batch
    is: tried again, never answered READONLY."""
    section = RedisSection(url=f"redis://{sentinels.replica.address}/0")
    keys = tenant_keys(section, "t1")
    counter = f"{keys.base}:counter"
    answered: list[list[object]] = []

    def step(pipe: Pipeline) -> int:
        pipe.incr(counter)
        return 1

    async with connected(section) as redis:
        store = Store(redis, keys, now=lambda: 1000.0, node="n1")

        async def ask() -> None:
            answered.append(await store.execute(step))

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask)
            await anyio.sleep(1.2)  # two tries refused
            assert answered == []
            sentinels.replica.client().execute_command("REPLICAOF", "NO", "ONE")
    assert answered == [[1]]


async def test_writes_staged_through_a_cluster_failover_reach_the_promoted_replica(tmp_path: Path) -> None:
    """A cluster of three primaries with a replica each: the primary of the tenant's slot killed, the cluster
    promotes its replica, and the batch staged meanwhile lands there; ``primary_of`` names the new node."""
    with local_cluster(tmp_path / "redis", replicas=1) as nodes:
        section = RedisSection(mode="cluster", nodes=tuple(nodes.addresses), socket_timeout_seconds=2.0)
        keys = tenant_keys(section, "t1")
        async with connected(section) as redis:
            store = Store(redis, keys, now=lambda: 1000.0, node="n1")
            store.queue_add("support", "c1", 1.0)
            await store.flush()
            holder = await primary_of(redis, keys.events)
            (primary,) = [node for node in nodes.nodes if node.address == holder]
            replica = next(n for n in nodes.nodes if n.client().info("replication").get("master_port") == primary.port)
            wait_until(lambda: replica.client().info("replication").get("master_link_status") == "up", 15, "sync")
            written = primary.client().info("replication")["master_repl_offset"]  # c1 is in the replica's copy
            wait_until(lambda: replica.client().info("replication")["slave_repl_offset"] >= written, 15, "c1 copied")

            primary.kill()
            store.queue_add("support", "c2", 2.0)
            store.emit("call.queued", {"call_id": "c2"})  # two writes: one script, its keys in the tenant's slot
            with anyio.fail_after(30):
                await store.flush()
            assert await primary_of(redis, keys.events) == replica.address
            assert await store.queue_entries("support") == [("c1", 1.0), ("c2", 2.0)]
            assert [fields["call_id"] for _, _, fields in await store.events()] == ["c2"]
