"""The whole center's follower (runtime/center.py) against a real Redis: every event carries the process that
appended it; a process's follower feeds the other processes' events and never its own, mirrors their live calls
from their records, drops a call once it ended, and says when it has fed the stream up to an id (with the calls of
those events mirrored)."""

from __future__ import annotations

from typing import Any

import anyio
from redis.asyncio import Redis

from callcenter_ari.calls.records import CallRecord
from callcenter_ari.runtime.center import Center, node_of_origin
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store


def stores(redis: Redis, keys: Keys) -> tuple[Store, Store]:
    here = Store(redis, keys, now=lambda: 100.0, node="east", origin="east.0000aaaa")
    there = Store(redis, keys, now=lambda: 100.0, node="west", origin="west.0000bbbb")
    return here, there


async def test_events_carry_their_origin_and_a_follower_need_not_decode_its_own(redis: Redis, keys: Keys) -> None:
    here, there = stores(redis, keys)
    here.emit("call.started", {"call_id": "c1"})
    there.emit("call.started", {"call_id": "c2"})
    await here.flush()
    await there.flush()
    rows = await here.stream("-")
    assert [(e.origin, e.data) for e in rows] == [
        ("east.0000aaaa", {"call_id": "c1"}),
        ("west.0000bbbb", {"call_id": "c2"}),
    ]
    followed = await here.follow("0-0", 0.01, undecoded=here.origin)
    assert [(e.kind, e.origin, e.data) for e in followed] == [
        ("call.started", "east.0000aaaa", {}),
        ("call.started", "west.0000bbbb", {"call_id": "c2"}),
    ]


async def test_a_batch_of_several_events_carries_its_origin_on_each(redis: Redis, keys: Keys) -> None:
    """Several events in one flush go as one command (store/commit.py), each entry stamped as one XADD
    would stamp it; without an origin, entries have none."""
    here, _ = stores(redis, keys)
    plain = Store(redis, keys, now=lambda: 100.0)
    for n in range(3):
        here.emit("call.queued", {"call_id": f"c{n}"})
    await here.flush()
    plain.emit("call.queued", {"call_id": "p1"})
    plain.emit("call.ended", {"call_id": "p1"})
    await plain.flush()
    rows = await here.stream("-")
    assert [(e.origin, e.data["call_id"]) for e in rows] == [
        ("east.0000aaaa", "c0"),
        ("east.0000aaaa", "c1"),
        ("east.0000aaaa", "c2"),
        ("", "p1"),
        ("", "p1"),
    ]


async def test_records_of_any_node_read_in_one_round_trip(redis: Redis, keys: Keys) -> None:
    here, there = stores(redis, keys)
    there.save_call(CallRecord(call_id="c2", channel_id="ch2", started_at=1.0, phase="queued", queue="support"))
    await there.flush()
    found = await here.calls(["c2", "gone"])
    assert found["gone"] is None and found["c2"] is not None and found["c2"].queue == "support"


async def test_the_follower_feeds_and_mirrors_only_the_other_processes(redis: Redis, keys: Keys) -> None:
    here, there = stores(redis, keys)
    fed: list[tuple[str, dict[str, Any]]] = []
    center = Center(here, [lambda kind, fields: fed.append((kind, fields))])
    center.begin(0.0)
    async with anyio.create_task_group() as tg:
        await tg.start(center.run)
        call = CallRecord(call_id="c2", channel_id="ch2", started_at=1.0, phase="queued", queue="support")
        there.save_call(call)
        there.emit("call.queued", {"call_id": "c2", "queue": "support", "at": 101.0})
        here.emit("call.queued", {"call_id": "c1", "queue": "support", "at": 102.0})
        await there.flush()
        await here.flush()
        assert await center.caught_up(await here.last_event_id(), 5.0)  # fed, and the call mirrored already
        assert center.call("c2") is not None
        assert fed == [("call.queued", {"call_id": "c2", "queue": "support", "at": 101.0})]
        assert [c.call_id for c in center.calls(local=["c1"])] == ["c2"] and center.node("c2") == "west"
        assert center.calls(local=["c2"]) == []  # a call this process took over is its own, not mirrored

        call.phase, call.outcome = "ended", "completed"
        there.save_call(call)
        there.emit("call.ended", {"call_id": "c2", "queue": "support", "outcome": "completed"})
        await there.flush()
        assert await center.caught_up(await here.last_event_id(), 5.0)
        assert center.call("c2") is None and center.fed == 2
        tg.cancel_scope.cancel()


async def test_caught_up_says_no_when_the_follower_is_behind(redis: Redis, keys: Keys) -> None:
    here, _ = stores(redis, keys)
    center = Center(here, [])
    assert not await center.caught_up("9999999999999-0", 0.05)


def test_the_node_of_a_process_id() -> None:
    assert node_of_origin("east.0000aaaa") == "east"
    assert node_of_origin("pbx.one.0000aaaa") == "pbx.one"
    assert node_of_origin("") == ""
