"""Callbacks in a real Redis: one live callback per number per queue, a change only over the version it read (so
a callback is claimed once, even by two stores racing), ended ones leaving the live set and freeing the number."""

from __future__ import annotations

import anyio
import msgspec
import pytest
from redis.asyncio import Redis

from callcenter_ari.callback.entry import Entry, Rules, cancel, claim, request
from callcenter_ari.store.callbacks import CallbackStore, Conflict, Duplicate, Stored
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store

NOW = 1_800_000_000.0


def entry(callback_id: str, number: str = "+12025550143", place: float = NOW - 60, queue: str = "support") -> Entry:
    return request(
        callback_id=callback_id, queue=queue, number=number, origin="virtual_hold", rules=Rules(), now=NOW, place=place
    ).entry


@pytest.fixture
def store(redis: Redis, keys: Keys) -> CallbackStore:
    return CallbackStore(Store(redis, keys, now=lambda: NOW))


async def test_a_second_callback_for_the_same_number_and_queue_is_refused(store: CallbackStore) -> None:
    await store.create(entry("k1"))
    with pytest.raises(Duplicate) as refused:
        await store.create(entry("k2"))
    assert refused.value.existing == "k1"
    await store.create(entry("k3", queue="sales"))  # another queue: its own callback
    await store.create(entry("k4", number="+12025550144"))  # another number


async def test_live_callbacks_read_back_in_order_of_their_places(store: CallbackStore) -> None:
    await store.create(entry("late", number="+12025550101", place=NOW - 10))
    await store.create(entry("early", number="+12025550102", place=NOW - 500))
    assert [s.entry.id for s in await store.live()] == ["early", "late"]
    assert (await store.get("late")) == Stored(entry("late", number="+12025550101", place=NOW - 10), 1)


async def test_a_claim_over_a_stale_version_is_refused(store: CallbackStore) -> None:
    stored = await store.create(entry("k1"))
    claimed = await store.update(stored, claim(stored.entry, Rules(), NOW).entry, owner="p1")
    assert claimed.version == 2 and claimed.owner == "p1"
    with pytest.raises(Conflict) as refused:
        await store.update(stored, claim(stored.entry, Rules(), NOW).entry, owner="p2")
    assert refused.value.current is not None and refused.value.current.entry.state == "dialing"


async def test_two_stores_racing_to_claim_one_callback_claim_it_once(redis: Redis, keys: Keys) -> None:
    """Both read the callback due, both claim it at once: Redis lets one through."""
    stores = {f"p{n}": CallbackStore(Store(redis, keys, now=lambda: NOW)) for n in range(8)}
    await stores["p0"].create(entry("k1"))
    seen = {owner: await store.get("k1") for owner, store in stores.items()}
    wins: list[str] = []

    async def try_claim(owner: str) -> None:
        read = seen[owner]
        assert read is not None and read.entry.state == "due"
        try:
            await stores[owner].update(read, claim(read.entry, Rules(), NOW).entry, owner=owner)
            wins.append(owner)
        except Conflict:
            pass

    async with anyio.create_task_group() as tg:
        for owner in stores:
            tg.start_soon(try_claim, owner)
    assert len(wins) == 1, wins
    final = await stores["p0"].get("k1")
    assert final is not None and final.owner == wins[0] and final.version == 2


async def test_an_ended_callback_leaves_the_live_set_and_frees_its_number(store: CallbackStore, redis: Redis) -> None:
    stored = await store.create(entry("k1"))
    await store.update(stored, cancel(stored.entry, NOW + 5, "crm").entry)
    assert await store.live() == []
    assert [s.entry.id for s in await store.ended()] == ["k1"]
    assert await redis.pttl(store._keys.callback("k1")) > 0, "kept for a while, then gone"
    await store.create(entry("k2"))  # the number may ask again


async def test_owners_whose_lease_ran_out(store: CallbackStore, redis: Redis, keys: Keys) -> None:
    seconds, _ = await redis.time()
    await redis.zadd(keys.instances, {"alive": seconds + 60, "stale": seconds - 60})
    assert await store.gone_owners(["alive", "stale", "never"]) == {"stale", "never"}


def test_an_entry_round_trips_through_json() -> None:
    e = entry("k1")
    assert msgspec.json.decode(msgspec.json.encode(e), type=Entry) == e
