"""A node's lease and the fencing of writes, on the real Redis: one holder at a time, a new token at each taking,
a stop that gives the lease up at once, and a store whose writes Redis refuses once another process holds the
node (or that refuses them itself once its lease may have run out)."""

from __future__ import annotations

import anyio
import pytest
from redis.asyncio import Redis

from callcenter_ari.acd.records import AgentRecord
from callcenter_ari.calls.records import CallRecord
from callcenter_ari.fencing import Fence, Fenced
from callcenter_ari.runtime.standby import LeaseTerm
from callcenter_ari.store.agents import AgentStore
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.lease import NodeLease
from callcenter_ari.store.redis import Store


def store(redis: Redis, keys: Keys) -> Store:
    return Store(redis, keys, now=lambda: 0.0, node="n1")


def lease(redis: Redis, keys: Keys, instance: str) -> NodeLease:
    return NodeLease(store(redis, keys), "n1", instance)


async def first_token(node: NodeLease, seconds: float = 0.3) -> int:
    """On an empty Redis the first taking waits half a lease (the holder before a data loss may take it back)."""
    assert await node.acquire(seconds) == 0
    await anyio.sleep(seconds + 0.05)
    token = await node.acquire(seconds)
    assert token > 0
    return token


class TestLease:
    async def test_one_holder_at_a_time_and_a_new_token_at_each_taking(self, redis: Redis, keys: Keys) -> None:
        """While p1 holds the node p2 is refused (and marked waiting); once p1's lease runs out p2 takes it under
        the next token, and p1's renewal is refused."""
        p1, p2 = lease(redis, keys, "p1"), lease(redis, keys, "p2")
        token = await first_token(p1, 0.3)
        assert await p2.acquire(0.3) == 0 and await p1.someone_waiting()
        assert await p1.renew(token, 0.3)
        await anyio.sleep(0.4)
        assert await p2.acquire(5) == token + 1
        assert not await p1.renew(token, 5)
        assert await p1.holder() == "p2"

    async def test_a_release_lets_the_standby_in_at_once(self, redis: Redis, keys: Keys) -> None:
        p1, p2 = lease(redis, keys, "p1"), lease(redis, keys, "p2")
        token = await first_token(p1)
        assert await p1.renew(token, 60)
        assert await p2.acquire(60) == 0
        assert await p2.release() is False  # not its to give
        assert await p1.release() is True
        assert await p2.acquire(60) == token + 1

    async def test_after_redis_lost_its_data_the_holder_takes_the_node_back(self, redis: Redis, keys: Keys) -> None:
        """The keys gone (as with a Redis restarted empty): the holder's renewal takes the node back under its
        token, and a standby trying meanwhile is refused."""
        p1, p2 = lease(redis, keys, "p1"), lease(redis, keys, "p2")
        token = await first_token(p1)
        lost = (keys.node_holder("n1"), keys.node_fence("n1"), keys.node_vacant("n1"), keys.node_waiting("n1"))
        await redis.delete(*lost)
        assert await p2.acquire(5) == 0  # no token at all: the holder gets half a lease first
        assert await p1.renew(token, 5)
        assert await p2.acquire(5) == 0
        assert int(await redis.get(keys.node_fence("n1"))) == token


class TestFencedWrites:
    async def test_a_store_under_an_old_token_writes_nothing(self, redis: Redis, keys: Keys) -> None:
        """The store of the process that lost the node: its call record and agent write are refused (Fenced) and
        Redis keeps the new holder's."""
        p1, p2 = lease(redis, keys, "p1"), lease(redis, keys, "p2")
        token = await first_token(p1)
        await p1.release()
        assert await p2.acquire(5) == token + 1
        old = store(redis, keys)
        old.fence = Fence(p1.fence_key, token, holds=lambda: True)  # as far as it can tell it still holds the node
        old.save_call(CallRecord(call_id="c1", channel_id="ch1", started_at=1.0, phase="talking"))
        with pytest.raises(Fenced):
            await old.flush()
        assert await redis.get(keys.call("c1")) is None
        agents = AgentStore(old, origin="p1", seat_limit=None)
        with pytest.raises(Fenced):
            await agents.write([AgentRecord(agent_id="a1", state="available")])
        assert await redis.exists(keys.agent("a1")) == 0

    async def test_a_store_under_the_current_token_writes(self, redis: Redis, keys: Keys) -> None:
        p1 = lease(redis, keys, "p1")
        token = await first_token(p1)
        current = store(redis, keys)
        current.fence = Fence(p1.fence_key, token, holds=lambda: True)
        current.save_call(CallRecord(call_id="c1", channel_id="ch1", started_at=1.0, phase="talking"))
        await current.flush()
        [written] = await AgentStore(current, origin="p1", seat_limit=None).write(
            [AgentRecord(agent_id="a1", state="available")]
        )
        assert written.version == 1
        assert await redis.get(keys.call("c1")) is not None
        assert "c1" in {m.decode() for m in await redis.smembers(keys.live_calls("n1"))}

    async def test_a_store_whose_lease_may_have_run_out_refuses_without_asking(self, redis: Redis, keys: Keys) -> None:
        """Nobody took the node, but the process cannot know (its renewals failed past the lease): it refuses its
        own writes."""
        p1 = lease(redis, keys, "p1")
        token = await first_token(p1)
        lapsed = store(redis, keys)
        lapsed.fence = Fence(p1.fence_key, token, holds=lambda: False)
        lapsed.save_call(CallRecord(call_id="c1", channel_id="ch1", started_at=1.0))
        with pytest.raises(Fenced):
            await lapsed.flush()
        assert await redis.get(keys.call("c1")) is None


class TestLeaseTerm:
    def test_the_term_runs_from_the_renewal_asked_less_a_margin(self) -> None:
        now = [100.0]
        term = LeaseTerm(5.0, lambda: now[0])
        assert not term.holds()  # never confirmed
        term.confirmed(100.0)
        now[0] = 104.4
        assert term.holds()
        now[0] = 104.5
        assert not term.holds()
        term.confirmed(104.5)
        assert term.holds()
        term.lost()
        assert not term.holds()
