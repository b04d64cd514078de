"""Agents in Redis, the authority on their state: versioned writes, seats counted across processes and leased,
and the stream every process follows."""

from __future__ import annotations

import msgspec
from redis.asyncio import Redis

from callcenter_ari.acd.records import AgentRecord
from callcenter_ari.store.agents import AgentStore, Refused, Written
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store


def agents(redis: Redis, keys: Keys, origin: str, seat_limit: int | None = None) -> AgentStore:
    return AgentStore(Store(redis, keys, now=lambda: 0.0), origin=origin, seat_limit=seat_limit)


def logged_in(agent_id: str, version: int = 0) -> AgentRecord:
    return AgentRecord(agent_id=agent_id, state="available", version=version)


async def test_a_write_over_a_version_someone_else_replaced_is_refused_with_what_redis_holds(
    redis: Redis, keys: Keys
) -> None:
    """Two processes read a1 at version 1; the first writes, the second's write is refused and told the truth."""
    first, second = agents(redis, keys, "p1"), agents(redis, keys, "p2")
    [written] = await first.write([logged_in("a1")])
    assert written == Written("a1", 1)
    seen_by_second = logged_in("a1", version=1)
    [ok] = await first.write([AgentRecord(agent_id="a1", state="reserved", call_id="c1", version=1)])
    assert ok == Written("a1", 2)
    [refused] = await second.write([msgspec.structs.replace(seen_by_second, state="reserved", call_id="c2")])
    assert isinstance(refused, Refused) and refused.why == "conflict"
    assert refused.current is not None and (refused.current.call_id, refused.current.version) == ("c1", 2)
    [stored] = await second.read_all()
    assert (stored.state, stored.call_id, stored.version) == ("reserved", "c1", 2)


async def test_a_written_record_carries_its_new_version(redis: Redis, keys: Keys) -> None:
    store = agents(redis, keys, "p1")
    record = logged_in("a1")
    await store.write([record])
    assert record.version == 1
    record.state = "not_ready"
    await store.write([record])
    assert record.version == 2 and (await store.read_all())[0].version == 2


async def test_the_seat_limit_is_counted_in_redis_across_processes(redis: Redis, keys: Keys) -> None:
    """Two processes, a limit of two: the third log-in is refused whichever process asks; a log-out frees a seat."""
    first, second = agents(redis, keys, "p1", seat_limit=2), agents(redis, keys, "p2", seat_limit=2)
    assert [type(o) for o in await first.write([logged_in("a1")])] == [Written]
    assert [type(o) for o in await second.write([logged_in("a2")])] == [Written]
    [refused] = await first.write([logged_in("a3")])
    assert isinstance(refused, Refused) and refused.why == "seat_limit" and refused.current is None
    assert await second.seats_taken() == 2
    await second.write([AgentRecord(agent_id="a2", state="logged_out", version=1)])
    assert [type(o) for o in await first.write([logged_in("a3")])] == [Written]


async def test_an_agent_already_logged_in_keeps_their_seat_whatever_the_count(redis: Redis, keys: Keys) -> None:
    """A change of state of an agent who is logged in (a call ending) is never refused for a seat."""
    store = agents(redis, keys, "p1", seat_limit=1)
    await store.write([logged_in("a1")])
    await redis.zadd(keys.seats, {"a1": 0})  # their lease ran out while every process was down
    await agents(redis, keys, "p2", seat_limit=1).write([logged_in("a2")])
    [outcome] = await store.write([AgentRecord(agent_id="a1", state="not_ready", version=1)])
    assert isinstance(outcome, Written)


async def test_seats_are_leases_that_run_out_when_nobody_renews_them(redis: Redis, keys: Keys) -> None:
    """Agents left logged in by processes that all died do not hold seats for ever: once their leases run out,
    a new log-in gets a seat, and a process that comes back is told which of its agents lost theirs."""
    store = agents(redis, keys, "p1", seat_limit=1)
    await store.write([logged_in("a1")])
    await redis.zadd(keys.seats, {"a1": 0})  # the lease ran out: nobody renewed it
    assert await store.seats_taken() == 0
    assert [type(o) for o in await agents(redis, keys, "p2", seat_limit=1).write([logged_in("a2")])] == [Written]
    assert await store.renew_seats(["a1"]) == ["a1"]
    assert await store.renew_seats(["a2"]) == []


async def test_every_write_reaches_the_change_stream_with_its_origin(redis: Redis, keys: Keys) -> None:
    first, second = agents(redis, keys, "p1"), agents(redis, keys, "p2")
    head = await second.head()
    await first.write([logged_in("a1")])
    after, changes = await second.changes(head, block_ms=100)
    assert [(c.origin, c.record.agent_id, c.record.version) for c in changes] == [("p1", "a1", 1)]
    _, nothing = await second.changes(after, block_ms=10)
    assert nothing == []
