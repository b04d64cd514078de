"""A batch as one command (store/commit.py), against a real Redis: what a pipeline did, in one script call."""

from __future__ import annotations

import structlog
from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError, ReadOnlyError, ResponseError

from bench.counting import counting_redis
from callcenter_ari.calls.records import CallRecord
from callcenter_ari.store.commit import CHUNK, MARKER_SECONDS, Commit, refused_as, spelled
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from tests.private_redis import PrivateRedis


async def test_a_refused_write_is_reported_and_the_others_stand(redis: Redis, keys: Keys) -> None:
    """As in a pipeline: a write Redis refuses (here a set command on a string) does not undo or stop the rest."""
    text, members, after = f"{keys.base}:text", f"{keys.base}:members", f"{keys.base}:after"
    await redis.set(text, "x")
    commit = Commit(
        [spelled("sadd", (members, "a")), spelled("sadd", (text, "b")), spelled("set", (after, "y"))],
        keys.batch("t1"),
    )
    pipe = redis.pipeline(transaction=False)
    assert commit.queue(pipe) == 1
    refused = commit.refusals(await pipe.execute(raise_on_error=False))
    assert len(refused) == 1 and isinstance(refused[0], ResponseError) and "WRONGTYPE" in str(refused[0])
    assert await redis.smembers(members) == {b"a"} and await redis.get(after) == b"y"


async def test_a_batch_larger_than_a_chunk_is_one_round_trip_of_several_script_calls_in_order(
    redis: Redis, keys: Keys
) -> None:
    store = Store(redis, keys, now=lambda: 0.0)
    count = 2 * CHUNK + 10
    with counting_redis() as traffic:
        store.save_call(CallRecord(call_id="c1", channel_id="ch1", started_at=1.0))
        for n in range(count):
            store.emit("tick", {"n": n})
        await store.flush()
    assert store.round_trips == 1
    assert traffic.commands["EVAL"] == 3 and traffic.commands["XADD"] == traffic.commands["SET"] == 0
    assert [fields["n"] for _, _, fields in await store.events(count=count)] == list(range(count))
    assert await store.call("c1") is not None


async def test_a_batch_sent_again_after_its_answer_was_lost_is_written_once(redis: Redis, keys: Keys) -> None:
    """Its marker says it was written: the events are not appended twice (a time-out or a cut connection after the
    send leaves the store not knowing, and it sends the batch again)."""
    stream = f"{keys.base}:events"
    commands = [spelled("xadd", (stream, {"kind": "call.ended"}, "*", 1000, True)), spelled("incr", (f"{stream}:n",))]
    answers = []
    for _ in range(2):
        commit = Commit(commands, keys.batch("b1"))
        pipe = redis.pipeline(transaction=False)
        commit.queue(pipe)
        answers.append(await pipe.execute(raise_on_error=False))
        assert commit.refusals(answers[-1]) == []
    assert answers == [[[]], [0]]
    assert await redis.xlen(stream) == 1 and await redis.get(f"{stream}:n") == b"1"
    assert 0 < await redis.ttl(f"{keys.batch('b1')}:0") <= MARKER_SECONDS


async def test_a_lone_write_goes_in_the_script_with_its_marker(redis: Redis, keys: Keys) -> None:
    store = Store(redis, keys, now=lambda: 0.0)
    with counting_redis() as traffic:
        store.queue_add("support", "c1", 1.0)
        await store.flush()
    assert traffic.commands["EVAL"] == 1 and traffic.commands["ZADD"] == 0
    assert await store.queue_entries("support") == [("c1", 1.0)]


def test_a_refusal_is_read_as_a_pipeline_would_have_raised_it() -> None:
    """Redis 7 may say where in the script the write was refused; the class is the reply's first word's."""
    assert isinstance(
        refused_as("@user_script: 5: -READONLY You can't write against a read only replica.\r\n"), ReadOnlyError
    )
    assert isinstance(refused_as("READONLY You can't write against a read only replica."), ReadOnlyError)
    whole = "Error running script (call to f_a80): @user_script:2: @user_script: 2: -OOM command not allowed"
    assert isinstance(refused_as(whole), OutOfMemoryError) and str(refused_as(whole)).startswith("OOM")
    wrong = refused_as("WRONGTYPE Operation against a key holding the wrong kind of value")
    assert type(wrong) is ResponseError and str(wrong).startswith("WRONGTYPE")


async def test_a_server_out_of_memory_writes_none_of_the_batch(private_redis: PrivateRedis) -> None:
    """Redis refuses a write for memory only until a script's first change; the script stops at that refusal, so a
    batch whose record is refused never writes its events (nor the live set's change) without it."""
    client = Redis(host="127.0.0.1", port=private_redis.port)
    keys = Keys("oom", "t1")
    store = Store(client, keys, now=lambda: 0.0)
    call = CallRecord(call_id="c1", channel_id="ch1", started_at=1.0, phase="queued")
    store.save_call(call)
    await store.flush()
    await client.config_set("maxmemory", 1)
    try:
        call.phase = "ended"
        store.save_call(call)  # the record, then the live set's SREM (a real change), then the events
        store.emit("call.ended", {"call_id": "c1"})
        store.emit("call.after", {"call_id": "c1"})
        with structlog.testing.capture_logs() as logs:
            await store.flush()
    finally:
        await client.config_set("maxmemory", 0)
    assert [line["event"] for line in logs] == ["store.write_refused"] and "OutOfMemory" in logs[0]["error"]
    assert (await store.call("c1")).phase == "queued"  # type: ignore[union-attr]
    assert await client.smembers(keys.live_calls("local")) == {b"c1"}
    assert await store.events() == []
    await client.aclose()


async def test_a_write_too_long_for_the_script_goes_as_itself_in_its_place(redis: Redis, keys: Keys) -> None:
    """Lua's ``unpack`` takes about 8,000 values: a longer write (handle times pushed after a large burst) is sent
    as its own command between the script calls, the order kept."""
    store = Store(redis, keys, now=lambda: 0.0)
    times = f"{keys.base}:times"
    with counting_redis() as traffic:
        store.queue_add("support", "c1", 1.0)
        store.stage("rpush", times, *range(8100))
        store.queue_add("support", "c2", 2.0)
        store.emit("tick", {})
        await store.flush()
    assert traffic.commands["RPUSH"] == 1 and traffic.commands["EVAL"] == 2 and store.round_trips == 1
    assert await redis.llen(times) == 8100
    assert await store.queue_entries("support") == [("c1", 1.0), ("c2", 2.0)]
    assert [kind for _, kind, _ in await store.events()] == ["tick"]
