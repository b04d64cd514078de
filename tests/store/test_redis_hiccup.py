"""A Redis that goes away for a moment loses nothing: staged writes wait and land when it is back."""

from __future__ import annotations

import time

import anyio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from callcenter_ari.calls.records import CallRecord
from callcenter_ari.runtime.tickets import TicketOpener
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from callcenter_ari.store.tickets import TicketDesk
from callcenter_ari.tickets import CallFacts, Contact, Roster
from tests.private_redis import PrivateRedis


async def test_writes_staged_during_an_outage_land_when_redis_is_back(private_redis: PrivateRedis) -> None:
    client = Redis(host="127.0.0.1", port=private_redis.port, socket_timeout=1, socket_connect_timeout=1)
    store = Store(client, Keys("hiccup", "t1"), now=time.time)
    store.save_call(CallRecord(call_id="c1", channel_id="ch1", started_at=1.0))
    await store.flush()
    private_redis.stop()
    store.save_call(CallRecord(call_id="c2", channel_id="ch2", started_at=2.0))
    store.emit("call.started", {"at": 2.0, "call_id": "c2"})
    async with anyio.create_task_group() as tg:
        tg.start_soon(store.flush)  # retries while Redis is down
        await anyio.sleep(1.0)
        private_redis.start()  # an empty Redis again (nothing persisted): only the new writes come back
        with anyio.fail_after(10):
            while await _safe_call(store, "c2") is None:
                await anyio.sleep(0.05)
    assert (await store.call("c2")) == CallRecord(call_id="c2", channel_id="ch2", started_at=2.0)
    assert [kind for _, kind, _ in await store.events()] == ["call.started"]
    await client.aclose()


async def _safe_call(store: Store, call_id: str) -> CallRecord | None:
    try:
        return await store.call(call_id)
    except (OSError, RedisError):  # the server is still restarting
        return None


async def test_tickets_of_calls_that_ended_during_an_outage_are_opened_when_redis_is_back(
    private_redis: PrivateRedis,
) -> None:
    """Ended calls queue their work orders; the opener retries until Redis answers, and loses none."""
    client = Redis(host="127.0.0.1", port=private_redis.port, socket_timeout=1, socket_connect_timeout=1)
    keys = Keys("hiccup", "t1")
    desk = TicketDesk(
        client,
        keys,
        now=lambda: 1_800_000_000.0,
        emit=lambda kind, fields: None,
        roster=Roster(fallback=Contact(id="desk", name="Desk")),
    )
    opener = TicketOpener(desk)
    private_redis.stop()
    for n in range(20):
        opener.open(CallFacts(tenant="t1", call_id=f"c{n}", agent_id="a1", queue="q", call_ended_at=1_799_999_990.0))
    async with anyio.create_task_group() as tg:
        await tg.start(opener.run)
        await anyio.sleep(1.0)
        private_redis.start()
        with anyio.fail_after(15):
            while None in [await _safe_ticket(desk, f"c{n}") for n in range(20)]:
                await anyio.sleep(0.1)
        tg.cancel_scope.cancel()
    numbers = {(await desk.for_call(f"c{n}")).number for n in range(20)}  # type: ignore[union-attr]
    assert len(numbers) == 20  # one ticket each, none twice
    await client.aclose()


async def _safe_ticket(desk: TicketDesk, call_id: str):  # type: ignore[no-untyped-def]
    try:
        return await desk.for_call(call_id)
    except (OSError, RedisError):
        return None


async def test_a_batch_is_one_command_and_survives_redis_forgetting_its_script(
    private_redis: PrivateRedis,
) -> None:
    """A batch's writes go in one command (a script running each as its own write, in order: records, then what
    was staged, events last); Redis losing its script cache (a restart, SCRIPT FLUSH) loses nothing: the script
    goes by its source every time, so no batch is ever refused as unknown while the steps behind it run."""
    from bench.counting import counting_redis

    client = Redis(host="127.0.0.1", port=private_redis.port, socket_timeout=1, socket_connect_timeout=1)
    store = Store(client, Keys("hiccup", "t1"), now=time.time)
    with counting_redis() as traffic:
        for n in range(3):
            store.emit("call.started", {"at": float(n), "call_id": f"c{n}"})
        await store.flush()
    assert traffic.commands["EVAL"] == 1 and traffic.commands["XADD"] == traffic.commands["EVALSHA"] == 0
    assert store.round_trips == 1
    await client.script_flush()
    with counting_redis() as traffic:
        for n in range(3, 6):
            store.emit("call.started", {"at": float(n), "call_id": f"c{n}"})
        store.save_call(CallRecord(call_id="c5", channel_id="ch5", started_at=5.0))
        await store.flush()
    assert traffic.commands["EVAL"] == 1 and traffic.commands["EVALSHA"] == traffic.commands["SET"] == 0
    assert store.round_trips == 2
    events = await store.events()
    assert [data["call_id"] for _, _, data in events] == [f"c{n}" for n in range(6)]
    assert [kind for _, kind, _ in events] == ["call.started"] * 6
    assert await store.call("c5") is not None
    await client.aclose()
