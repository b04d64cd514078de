"""The webhook store's scripts are called by SHA1 with no SCRIPT EXISTS before each pipeline: a Redis that does not
know them (restarted, its script cache flushed) still gets every delivery created, acknowledged and claimed once.
A private redis-server, since flushing the script cache is not something to do to a shared one."""

from __future__ import annotations

import msgspec
from redis.asyncio import Redis

from callcenter_ari.store.keys import Keys
from callcenter_ari.store.webhooks import GROUP, Take, WebhookStore
from callcenter_ari.webhooks.model import Delivery, DeliveryAttempt
from tests.private_redis import PrivateRedis


def _delivery(ident: str, event_id: str) -> Delivery:
    return Delivery(id=ident, subscription_id="sub_1", event_id=event_id, type="call.ended", body="{}", created_at=1.0)


async def test_unknown_scripts_are_sent_again_with_their_source(private_redis: PrivateRedis) -> None:
    client = Redis(host="127.0.0.1", port=private_redis.port)
    keys = Keys("scripts", "t1")
    store = WebhookStore(client, keys)
    await store.ensure_group("0")
    first = await client.xadd(keys.events, {"kind": "call.ended", "at": "1.0", "data": "{}"})
    second = await client.xadd(keys.events, {"kind": "call.ended", "at": "2.0", "data": "{}"})
    await client.xreadgroup(GROUP, "c1", {keys.events: ">"})
    await client.script_flush()

    created = await store.create_and_ack([_delivery("d1", first.decode())], [first.decode()])
    assert created == 1
    await client.script_flush()
    # A repeated fan-out (the entry read again after a crash) creates no second delivery.
    created = await store.create_and_ack(
        [_delivery("d1", first.decode()), _delivery("d2", second.decode())], [second.decode()]
    )
    assert created == 1
    assert (await client.xpending(keys.events, GROUP))["pending"] == 0
    # Checked against the subscriptions' version (none here): the acknowledgement is a script too.
    third = (await client.xadd(keys.events, {"kind": "call.ended", "at": "3.0", "data": "{}"})).decode()
    await client.xreadgroup(GROUP, "c1", {keys.events: ">"})
    await client.script_flush()
    assert await store.create_and_ack([_delivery("d5", third)], [third], version="") == 1
    assert (await client.xpending(keys.events, GROUP))["pending"] == 0
    assert await store.create_and_ack([_delivery("d6", third)], [third], version="v1") is None
    assert await store.delivery("d6") is None

    await client.script_flush()
    held = await store.claim([("sub_1", "d1"), ("sub_1", "d2")], now=10.0, lease_until=70.0)
    assert sorted(d.id for d in held) == ["d1", "d2"]
    again = await store.claim([("sub_1", "d1")], now=10.0, lease_until=70.0)
    assert again == []  # leased: not due again before 70

    # The claim that looks at the schedules: alone, and in the transaction that records results.
    await store.create([_delivery("d3", "3-0"), _delivery("d4", "4-0")])
    take = Take(
        version="", limits={"sub_1": 4}, candidates={"sub_1": ["d3"]}, free=4, now=10.0, lease_until=70.0, listing=4
    )
    await client.script_flush()
    taken = await store.take(take)
    assert taken is not None and [d.id for d in taken.held] == ["d3"] and taken.due == {"sub_1": ["d4", "d5"]}
    await client.script_flush()
    done = msgspec.structs.replace(taken.held[0], status="delivered", attempts=1)
    line = DeliveryAttempt(delivery_id="d3", event_id="3-0", type="call.ended", attempt=1, at=11.0, outcome="ok")
    taken = await store.record_and_take(
        [(done, line)], msgspec.structs.replace(take, candidates={"sub_1": ["d4"]}), log_size=10, ttl=60.0
    )
    assert taken is not None and [d.id for d in taken.held] == ["d4"]
    assert await store.delivery("d3") == done
    await client.aclose()
