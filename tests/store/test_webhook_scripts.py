"""The webhook store's scripts are called by SHA1 with no SCRIPT EXISTS before each pipeline: a Redis that does not
know them (restarted, its script cache flushed) still gets every delivery created, acknowledged and claimed once.
A private redis-server, since flushing the script cache is not something to do to a shared one."""

from __future__ import annotations

from redis.asyncio import Redis

from callcenter_ari.store.keys import Keys
from callcenter_ari.store.webhooks import GROUP, WebhookStore
from callcenter_ari.webhooks.model import Delivery
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

    await client.script_flush()
    held = await store.claim([("sub_1", "d1"), ("sub_1", "d2")], now=10.0, lease_until=70.0)
    assert sorted(d.id for d in held) == ["d1", "d2"]
    again = await store.claim([("sub_1", "d1")], now=10.0, lease_until=70.0)
    assert again == []  # leased: not due again before 70
    await client.aclose()
