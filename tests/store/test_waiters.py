"""The global order's Redis side, against a real Redis: callers' places with their details, read back for the
other processes (never a process's own callers, nor those of a process whose lease ran out)."""

from __future__ import annotations

from redis.asyncio import Redis

from callcenter_ari.acd.global_order import Waiter
from callcenter_ari.acd.skills import parse
from callcenter_ari.store.instances import Instances
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from callcenter_ari.store.waiters import Waiters


async def test_other_running_processes_callers_are_read_in_order_with_what_serving_them_takes(
    redis: Redis, keys: Keys
) -> None:
    east_store, west_store = Store(redis, keys, now=lambda: 0.0, node="east"), Store(redis, keys, now=lambda: 0.0)
    east, west = Waiters(east_store, "east.1"), Waiters(west_store, "west.1")
    instances = Instances(east_store)
    assert (await instances.renew("east.1", 10.0)).running == 1
    assert await instances.renew("west.1", 10.0) == (False, 2)  # its first beat: no marker yet
    east.add(Waiter("e2", "support", 0, 20.0, instance="east.1", language="fr", needs=parse("billing>=2")))
    east.add(Waiter("e1", "support", 0, 10.0, instance="east.1"))
    east.add(Waiter("vip", "sales", 5, 30.0, instance="east.1"))
    west.add(Waiter("w1", "support", 0, 5.0, instance="west.1"))
    await east_store.flush()
    await west_store.flush()
    seen_from_west = await west.fronts(["sales", "support"])
    assert [(w.call_id, w.queue) for w in seen_from_west] == [("vip", "sales"), ("e1", "support"), ("e2", "support")]
    assert seen_from_west[2].needs == parse("billing>=2") and seen_from_west[2].language == "fr"
    assert [w.call_id for w in await east.fronts(["sales", "support"])] == ["w1"]
    assert [w.call_id for w in await west.fronts(["support"], depth=2)] == ["e1"]  # w1 and e1 are the front two

    east.remove("support", "e1")
    await east_store.flush()
    assert [w.call_id for w in await west.fronts(["support"])] == ["e2"]


async def test_callers_of_a_process_whose_lease_ran_out_are_left_out(redis: Redis, keys: Keys) -> None:
    store = Store(redis, keys, now=lambda: 0.0)
    instances = Instances(store)
    await instances.renew("here.1", 10.0)
    await redis.zadd(keys.instances, {"gone.1": 1.0})  # its lease ran out long ago (a score is an expiry)
    Waiters(store, "gone.1").add(Waiter("g1", "support", 0, 1.0, instance="gone.1"))
    await store.flush()
    assert await Waiters(store, "here.1").fronts(["support"]) == []


async def test_a_call_offered_as_it_joined_writes_no_place_and_removes_none(redis: Redis, keys: Keys) -> None:
    """The usual call with agents free: no ZADD/HSET when it joins, so no ZREM/HDEL when it leaves."""
    store = Store(redis, keys, now=lambda: 0.0)
    waiters = Waiters(store, "here.1")
    waiters.joined("c1")
    waiters.remove("support", "c1")
    await store.flush()
    assert store.round_trips == 0


async def test_a_place_written_by_a_process_before_a_restart_is_removed_when_the_call_leaves(
    redis: Redis, keys: Keys
) -> None:
    before, after = Store(redis, keys, now=lambda: 0.0), Store(redis, keys, now=lambda: 0.0)
    Waiters(before, "old.1").add(Waiter("c1", "support", 0, 1.0, instance="old.1"))
    await before.flush()
    restarted = Waiters(after, "new.1")
    restarted.joined("c2")
    restarted.add(Waiter("c2", "support", 0, 2.0, instance="new.1"))  # joined here, then waited: written
    restarted.remove("support", "c1")
    restarted.remove("support", "c2")
    await after.flush()
    assert await redis.zcard(keys.queue("support")) == 0
    assert await redis.hlen(keys.waiters("support")) == 0
