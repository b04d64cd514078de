"""The Redis store, against a real Redis: what is written reads back, batching, atomic reservation, key safety."""

from __future__ import annotations

import signal

import anyio
import anyio.abc
import anyio.lowlevel
import pytest
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError

from callcenter_ari.calls.records import CallRecord
from callcenter_ari.store import redis as store_module
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.store.keys import InvalidId, Keys
from callcenter_ari.store.redis import Store, queue_score
from tests.private_redis import PrivateRedis


async def test_call_records_read_back_and_leave_the_live_set_when_ended(redis: Redis, keys: Keys) -> None:
    store = Store(redis, keys, now=lambda: 0.0)
    call = CallRecord(call_id="c1", channel_id="1700000000.1", caller="+15551234567", started_at=10.0, phase="queued")
    store.save_call(call)
    await store.flush()
    assert [c.call_id for c in await store.live_calls()] == ["c1"]
    assert await store.call("c1") == call
    call.phase, call.outcome = "ended", "completed"
    store.save_call(call)
    await store.flush()
    assert await store.live_calls() == []
    assert (await store.call("c1")).outcome == "completed"  # type: ignore[union-attr]


async def test_a_burst_of_writes_is_one_round_trip(redis: Redis, keys: Keys) -> None:
    store = Store(redis, keys, now=lambda: 0.0)
    for n in range(200):
        store.save_call(CallRecord(call_id=f"c{n}", channel_id=f"ch{n}", started_at=float(n)))
        store.emit("call.started", {"at": float(n), "call_id": f"c{n}"})
    await store.flush()
    assert store.round_trips == 1
    assert len(await store.live_calls()) == 200


async def test_event_stream_is_append_only_and_ordered(redis: Redis, keys: Keys) -> None:
    store = Store(redis, keys, now=lambda: 0.0)
    store.emit("call.started", {"at": 1.0, "call_id": "c1"})
    store.emit("call.ended", {"at": 2.0, "call_id": "c1", "outcome": "completed"})
    await store.flush()
    events = await store.events()
    assert [kind for _, kind, _ in events] == ["call.started", "call.ended"]
    assert events[1][2] == {"call_id": "c1", "outcome": "completed"}


async def test_queue_entries_read_back_in_the_order_they_are_served(redis: Redis, keys: Keys) -> None:
    store = Store(redis, keys, now=lambda: 0.0)
    store.queue_add("support", "c2", queue_score(0, 20.0))
    store.queue_add("support", "c1", queue_score(0, 10.0))
    store.queue_add("support", "vip", queue_score(5, 30.0))
    await store.flush()
    assert [c for c, _ in await store.queue_entries("support")] == ["vip", "c1", "c2"]


async def test_each_node_recovers_its_own_live_calls(redis: Redis, keys: Keys) -> None:
    """Two processes of one tenant serving two Asterisks: each sees only the calls of its own node."""
    east, west = Store(redis, keys, now=lambda: 0.0, node="east"), Store(redis, keys, now=lambda: 0.0, node="west")
    east.save_call(CallRecord(call_id="c1", channel_id="e.1", started_at=1.0, phase="queued"))
    west.save_call(CallRecord(call_id="c2", channel_id="w.1", started_at=2.0, phase="queued"))
    await east.flush()
    await west.flush()
    assert [c.call_id for c in await east.live_calls()] == ["c1"]
    assert [c.call_id for c in await west.live_calls()] == ["c2"]


async def test_an_event_without_a_time_is_stamped_by_the_stores_clock(redis: Redis, keys: Keys) -> None:
    store = Store(redis, keys, now=lambda: 1234.5)
    store.emit("call.started", {"call_id": "c1"})
    await store.flush()
    raw = await redis.xrange(keys.events)
    assert raw[0][1][b"at"] == b"1234.500"


@pytest.mark.parametrize("bad", ["", "a b", "x:y", "*", "../etc", "a\nb", "abc\n", "é", "x" * 200])
def test_ids_from_outside_never_become_keys_unvalidated(bad: str) -> None:
    keys = Keys("cc", "t1")
    with pytest.raises(InvalidId):
        keys.call(bad)
    with pytest.raises(InvalidId):
        keys.agent(bad)


def test_keys_live_under_one_tenant_prefix() -> None:
    keys = Keys("cc", "acme")
    assert {keys.call("c1"), keys.agent("a1"), keys.queue("q"), keys.events, keys.live_calls("n1")} == {
        "cc:acme:call:c1",
        "cc:acme:agent:a1",
        "cc:acme:queue:q",
        "cc:acme:events",
        "cc:acme:calls:live:n1",
    }


async def test_an_atomic_step_waits_for_the_batch_in_flight_only_while_writes_keep_coming(
    redis: Redis, keys: Keys
) -> None:
    """A flusher writing batch after batch (each loop turn stages another write) must let a step waiting for the
    lock go after the batch in flight: the step carries what was staged meanwhile, in its own round trip."""
    store = Store(redis, keys, now=lambda: 0.0)

    async def keep_staging() -> None:
        for n in range(100):
            store.emit("tick", {"n": n})
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        tg.start_soon(keep_staging)
        flusher = await tg.start(_flusher, store)
        for _ in range(5):
            await anyio.lowlevel.checkpoint()  # a batch is in flight
        before = store.round_trips
        results = await store.execute(lambda pipe: [pipe.ping()] and 1)
        trips = store.round_trips - before
        flusher.cancel()
    assert results == [True]
    assert trips <= 2  # the batch in flight, then the step's own pipeline


async def _flusher(store: Store, *, task_status: anyio.abc.TaskStatus[anyio.CancelScope]) -> None:
    with anyio.CancelScope() as scope:
        task_status.started(scope)
        await store.run_flusher()


async def test_the_flusher_writes_a_lone_write_at_once_and_gathers_writes_that_follow_closely(
    redis: Redis, keys: Keys
) -> None:
    """After a quiet spell a write goes at once; writes that keep coming within the gathering interval of a batch
    share the next one (at 100 calls/s each step of each call was its own round trip)."""
    store = Store(redis, keys, now=lambda: 0.0, gather=0.05)
    async with anyio.create_task_group() as tg:
        flusher = await tg.start(_flusher, store)
        await anyio.sleep(0.1)
        store.emit("alone", {})
        with anyio.fail_after(0.04):  # well inside the interval: no timer between a lone write and Redis
            while store.round_trips == 0:
                await anyio.sleep(0.001)

        before, started = store.round_trips, anyio.current_time()
        for n in range(60):  # a write every 5 ms for about 0.3 s
            store.emit("tick", {"n": n})
            await anyio.sleep(0.005)
        elapsed = anyio.current_time() - started
        await anyio.sleep(0.1)
        trips = store.round_trips - before
        flusher.cancel()
    assert 2 <= trips <= elapsed / 0.05 + 2, (trips, elapsed)  # flushed while the writes went on, not held
    assert [fields["n"] for _, kind, fields in await store.events() if kind == "tick"] == list(range(60))


async def test_a_deferred_step_rides_the_next_batch_and_gets_its_answer(redis: Redis, keys: Keys) -> None:
    """``execute_later``: the step goes in the flusher's next batch, behind what was staged before it, with no
    round trip of its own; its results come back to it, and an error Redis answers reaches it as a result."""
    store = Store(redis, keys, now=lambda: 0.0)
    counter = f"{keys.base}:counter"
    async with anyio.create_task_group() as tg:
        flusher = await tg.start(_flusher, store)
        store.queue_add("support", "c1", 1.0)

        def incr(pipe: Pipeline) -> int:
            pipe.incr(counter)
            pipe.lpush(counter, "x")  # a list command on a number: refused
            return 2

        with anyio.fail_after(5):
            first, second = await store.execute_later(incr)
        flusher.cancel()
    assert first == 1 and isinstance(second, ResponseError)
    assert store.round_trips == 1  # the staged write and the step together
    assert await store.queue_entries("support") == [("c1", 1.0)]


async def test_a_deferred_step_without_a_flusher_is_a_round_trip_of_its_own(redis: Redis, keys: Keys) -> None:
    """Nobody would write it: before the flusher starts, after it stopped (its last flush took those waiting)."""
    store = Store(redis, keys, now=lambda: 0.0)
    counter = f"{keys.base}:counter"

    def incr(pipe: Pipeline) -> int:
        pipe.incr(counter)
        return 1

    with anyio.fail_after(5):
        assert await store.execute_later(incr) == [1]
        async with anyio.create_task_group() as tg:
            flusher = await tg.start(_flusher, store)
            assert await store.execute_later(incr) == [2]
            flusher.cancel()
        assert await store.execute_later(incr) == [3]
    assert store.round_trips == 3


async def test_a_store_stopping_with_redis_down_keeps_its_batch_and_answers_the_steps_waiting(
    private_redis: PrivateRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flusher cancelled while Redis is down: its last flush gives up after its time, the batch it was
    writing stays staged (written, in order, by a later flush) and a step waiting on it is answered
    ``StoreUnavailable`` instead of waiting for ever."""
    monkeypatch.setattr(store_module, "FINAL_FLUSH_SECONDS", 0.3)
    client = Redis(host="127.0.0.1", port=private_redis.port, socket_timeout=1, socket_connect_timeout=1)
    store = Store(client, Keys("stopping", "t1"), now=lambda: 0.0)
    answers: list[object] = []

    def incr(pipe: Pipeline) -> int:
        pipe.incr("stopping:{t1}:counter")
        return 1

    async def ask() -> None:
        try:
            answers.append(await store.execute_later(incr))
        except StoreUnavailable as exc:
            answers.append(exc)

    private_redis.stop()
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            flusher = await tg.start(_flusher, store)
            store.save_call(CallRecord(call_id="c1", channel_id="ch1", started_at=1.0, phase="queued"))
            store.emit("call.queued", {"call_id": "c1"})
            tg.start_soon(ask)
            await anyio.sleep(0.7)  # the batch tried and refused, again and again
            flusher.cancel()
        assert len(answers) == 1 and isinstance(answers[0], StoreUnavailable)
        private_redis.start()
        await store.flush()
    assert (await store.call("c1")).phase == "queued"  # type: ignore[union-attr]
    assert [kind for _, kind, _ in await store.events()] == ["call.queued"]
    await client.aclose()


async def test_a_batch_a_silent_redis_does_not_answer_is_given_up_and_written_when_it_answers_again(
    private_redis: PrivateRedis,
) -> None:
    """A Redis that stops answering without closing its connections (a box frozen, a cut cable): with a plain URL
    redis-py waits for ever; the batch has a time-out of its own, is tried again, and lands once Redis is back."""
    assert private_redis.process is not None
    client = Redis(host="127.0.0.1", port=private_redis.port)  # no per-reply time-out, as `[redis] url` connects
    store = Store(client, Keys("silent", "t1"), now=lambda: 0.0, timeout=0.3)
    await client.ping()
    private_redis.process.send_signal(signal.SIGSTOP)
    try:
        store.save_call(CallRecord(call_id="c1", channel_id="ch1", started_at=1.0, phase="queued"))
        store.emit("call.queued", {"call_id": "c1"})
        with structlog.testing.capture_logs() as logs:
            async with anyio.create_task_group() as tg:
                tg.start_soon(store.flush)
                await anyio.sleep(1.0)
                private_redis.process.send_signal(signal.SIGCONT)
    finally:
        private_redis.process.send_signal(signal.SIGCONT)
    failures = [line for line in logs if line["event"] == "store.flush_failed"]
    assert failures and "TimeoutError" in failures[0]["error"]
    assert (await store.call("c1")).phase == "queued"  # type: ignore[union-attr]
    assert [kind for _, kind, _ in await store.events()] == ["call.queued"]
    await client.aclose()


async def test_reading_the_events_reads_this_processs_own_staged_events_too(redis: Redis, keys: Keys) -> None:
    """The flusher holds writes for a few milliseconds: a read of the stream right after a change (an API client's
    ``GET /events``) still finds the events the change staged."""
    store = Store(redis, keys, now=lambda: 0.0, gather=10.0)  # the flusher would wait ten seconds
    async with anyio.create_task_group() as tg:
        flusher = await tg.start(_flusher, store)
        store.emit("first", {})
        await anyio.sleep(0.05)  # the first went at once; what follows waits for the interval
        store.emit("second", {})
        with anyio.fail_after(1):
            assert [kind for _, kind, _ in await store.events()] == ["first", "second"]
        flusher.cancel()
