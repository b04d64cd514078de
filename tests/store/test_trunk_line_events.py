"""Trunk lines tell the event stream when a trunk is full and when one of its lines is free again (the wallboard's
trunk alert), once each, against a real Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from callcenter_ari.store.trunk_lines import TrunkLines


async def kinds(store: Store) -> list[tuple[str, dict[str, object]]]:
    await store.flush()
    return [(kind, data) for _, kind, data in await store.events()]


async def test_full_once_then_available_when_a_line_is_given_back(redis: Redis, keys: Keys) -> None:
    store = Store(redis, keys, now=lambda: 0.0)
    lines = TrunkLines(store, {"e1": 2})
    assert await lines.acquire("ch1", ["e1"]) == "e1"
    assert await lines.acquire("ch2", ["e1"]) == "e1"
    assert await lines.acquire("ch3", ["e1"]) is None
    assert await lines.acquire("ch4", ["e1"]) is None
    assert await kinds(store) == [("trunk.full", {"trunk": "e1", "lines": 2})]
    lines.release("ch1")
    lines.release("ch2")
    assert await kinds(store) == [("trunk.full", {"trunk": "e1", "lines": 2}), ("trunk.available", {"trunk": "e1"})]


async def test_a_trunk_passed_over_for_the_next_one_is_full(redis: Redis, keys: Keys) -> None:
    store = Store(redis, keys, now=lambda: 0.0)
    lines = TrunkLines(store, {"first": 1, "second": 5})
    assert await lines.acquire("ch1", ["first", "second"]) == "first"
    assert await lines.acquire("ch2", ["first", "second"]) == "second"
    assert await kinds(store) == [("trunk.full", {"trunk": "first", "lines": 1})]
    lines.release("ch2")  # a line of the second trunk: the first is still full
    lines.release("ch1")
    assert [k for k, _ in await kinds(store)] == ["trunk.full", "trunk.available"]
