"""The outbox's Redis traffic per delivery, with real Redis and real receivers: one round trip per dispatch round
records the results that ended together and claims what is due next; the subscriptions are read again only when
they changed, and a change another process makes is honoured from the next claim on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import anyio
import msgspec
import pytest
from redis.asyncio import Redis

from callcenter_ari.runtime import webhooks as webhooks_runtime
from callcenter_ari.runtime.egress import egress_session
from callcenter_ari.runtime.webhooks import WebhookService
from callcenter_ari.store.errors import NoConsumerGroup
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.webhooks import Take, WebhookStore
from callcenter_ari.tls import client_context
from callcenter_ari.webhooks.model import Delivery, DeliveryAttempt
from tests.webhooks.helpers import FAST, NO_DNS, Receiver, counted_client, eventually, running, settled

Emit = Callable[..., Awaitable[None]]
MakeReceiver = Callable[[], Awaitable[Receiver]]

# No idle look nor idle read within a test's few hundred milliseconds: what is counted is what the deliveries cost.
QUIET = msgspec.structs.replace(FAST, poll_interval=2.0, read_block=2.0)


async def test_deliveries_cost_a_round_trip_per_dispatch_round_and_no_subscriptions_read(
    redis: Redis, keys: Keys, redis_url: str, emit: Emit, receivers: MakeReceiver
) -> None:
    crm = await receivers()
    admin = WebhookService(redis, keys, resolver=NO_DNS, settings=QUIET)
    crm.secret = (await admin.create_subscription(crm.url)).secret
    await admin.store.ensure_group("$")  # the events below are the group's to read
    events = 40
    for n in range(events):
        await emit("call.ended", call_id=f"c{n}", outcome="completed")
    client, traffic = counted_client(redis_url)
    service = WebhookService(client, keys, resolver=NO_DNS, settings=QUIET)
    try:
        async with running(service):
            await eventually(lambda: len(crm.unique) == events)
            await settled(admin)
    finally:
        await client.aclose()
    # Read once and kept: not once per dispatch round, nor per batch the consumer fans out.
    assert traffic.commands["HVALS"] == 1
    # The schedules are looked at inside the claim: no separate look, no claim per delivery.
    assert traffic.commands["ZRANGEBYSCORE"] == 0
    rounds = traffic.commands["EVALSHA"] - events  # one script creates each delivery
    assert rounds <= events  # one round trip per round, each carrying one or more results
    # Every result recorded in the round trip of a claim: no transaction of its own.
    assert traffic.commands["MULTI"] <= rounds + 2  # + the subscriptions' read and the fan-out's transaction
    # + the group's creation, the consumer's reads (abandoned, its own, new), the subscriptions, the fan-out's
    # transaction; each connection's set-up (HELLO, CLIENT SETINFO) goes on its own.
    setup = traffic.commands["HELLO"] + traffic.commands["CLIENT"]
    assert traffic.round_trips - setup <= rounds + 7


async def test_a_subscription_another_process_creates_is_served_and_one_it_deletes_is_not(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    first, second = await receivers(), await receivers()
    settings = msgspec.structs.replace(QUIET, backoff=(0.5,))  # a retry that comes well after the delete
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=settings)
    api = WebhookService(redis, keys, resolver=NO_DNS, settings=settings)  # another process: the API's
    first.secret = (await api.create_subscription(first.url)).secret
    async with running(service):
        await emit("call.started", call_id="c1")
        await eventually(lambda: len(first.unique) == 1)
        await settled(api)
        # Created elsewhere: the dispatcher's copy is old, the claim's check of the version says so.
        second.secret = (await api.create_subscription(second.url)).secret
        await emit("call.started", call_id="c2")
        with anyio.fail_after(1.5):  # well inside _SUBSCRIPTIONS_MAX_AGE: the version told, not the age
            await eventually(lambda: len(second.unique) == 1 and len(first.unique) == 2)
        await settled(api)

        # Deleted elsewhere while a delivery to it waits for its retry: no attempt after the delete.
        first.statuses = [500]
        await emit("call.started", call_id="c3")
        await eventually(lambda: len(first.requests) == 3)  # c1, c2, and c3's first (failed) attempt
        [sub] = [s for s in await api.subscriptions() if s.url == first.url]
        await api.delete_subscription(sub.id)
        await eventually(lambda: len(second.unique) == 2)
        await anyio.sleep(2 * settings.backoff[0])  # the retry was due by now
    assert len(first.requests) == 3


async def test_a_subscription_another_process_disables_gets_no_claim_under_the_old_copy(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    crm = await receivers()
    crm.hold = asyncio.Event()
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=QUIET)
    api = WebhookService(redis, keys, resolver=NO_DNS, settings=QUIET)
    sub = await api.create_subscription(crm.url)
    crm.secret = sub.secret
    await api.store.ensure_group("$")  # the events are read in one batch, all fanned out before the change
    for n in range(2 * FAST.per_subscription):
        await emit("call.started", call_id=f"c{n}")
    async with running(service):
        # Its slots are full and the rest waits: now it is disabled elsewhere, then the attempts end.
        await eventually(lambda: service.outbox.in_flight.get(sub.id) == FAST.per_subscription)
        await api.update_subscription(sub.id, enabled=False)
        crm.hold.set()
        await eventually(lambda: len(crm.unique) == FAST.per_subscription)
        await anyio.sleep(0.3)
        assert len(crm.requests) == FAST.per_subscription
        await api.update_subscription(sub.id, enabled=True)
        await eventually(lambda: len(crm.unique) == 2 * FAST.per_subscription)


class TestRecordAndTake:
    def delivery(self, ident: str, sub: str = "sub_1", **fields: object) -> Delivery:
        return Delivery(
            id=ident, subscription_id=sub, event_id="1-0", type="call.ended", body="{}", created_at=1.0, **fields
        )  # type: ignore[arg-type]

    def line(self, delivery: Delivery) -> DeliveryAttempt:
        return DeliveryAttempt(
            delivery_id=delivery.id, event_id="1-0", type="call.ended", attempt=1, at=5.0, outcome="delivered"
        )

    async def test_results_and_a_claim_in_one_round_trip(self, redis: Redis, keys: Keys, redis_url: str) -> None:
        store = WebhookStore(redis, keys)
        made = [self.delivery(f"d{n}") for n in range(1, 7)] + [self.delivery("e1", "sub_2")]
        await store.create(made)
        await redis.zadd(keys.webhook_schedule("sub_1"), {"d6": 99.0})  # not due before 99
        client, traffic = counted_client(redis_url)
        counted = WebhookStore(client, keys)
        await client.ping()  # the connection's set-up, not counted below
        traffic.round_trips = 0
        done = msgspec.structs.replace(made[0], status="delivered", attempts=1)
        take = Take(
            version="",
            limits={"sub_1": 2, "sub_2": 2},
            candidates={"sub_1": ["d6", "d2", "d3"], "sub_2": []},
            free=3,
            now=10.0,
            lease_until=70.0,
            listing=10,
        )
        try:
            taken = await counted.record_and_take([(done, self.line(done))], take, log_size=10, ttl=60.0)
        finally:
            await client.aclose()
        assert traffic.round_trips == 1
        assert taken is not None
        # d6 is not due; d2 and d3 are claimed (the limit); sub_2 had no candidates: its due one is named instead.
        assert [d.id for d in taken.held] == ["d2", "d3"]
        assert taken.due == {"sub_1": ["d4", "d5"], "sub_2": ["e1"]}
        assert taken.soonest == 70.0  # the claims' lease ends, before d6
        assert await store.delivery("d1") == done
        schedule = await redis.zrange(keys.webhook_schedule("sub_1"), 0, -1, withscores=True)
        assert schedule == [(b"d4", 0.0), (b"d5", 0.0), (b"d2", 70.0), (b"d3", 70.0), (b"d6", 99.0)]
        # Claimed already: offered again, they are not taken twice.
        again = await store.take(msgspec.structs.replace(take, candidates={"sub_1": ["d2", "d3"]}))
        assert again is not None and again.held == []

    async def test_nothing_is_claimed_under_subscriptions_that_changed_but_the_results_are_recorded(
        self, redis: Redis, keys: Keys
    ) -> None:
        store = WebhookStore(redis, keys)
        version, _ = await store.versioned_subscriptions()
        made = [self.delivery("d1"), self.delivery("d2")]
        await store.create(made)
        sub = await WebhookService(redis, keys, resolver=NO_DNS).create_subscription("https://crm.example/a")
        assert (await store.versioned_subscriptions())[0] != version
        take = Take(
            version=version,
            limits={"sub_1": 4},
            candidates={"sub_1": ["d2"]},
            free=4,
            now=10.0,
            lease_until=70.0,
            listing=4,
        )
        done = msgspec.structs.replace(made[0], status="delivered", attempts=1)
        assert await store.record_and_take([(done, self.line(done))], take, log_size=10, ttl=60.0) is None
        assert await store.delivery("d1") == done
        assert await redis.zrange(keys.webhook_schedule("sub_1"), 0, -1, withscores=True) == [(b"d2", 0.0)]
        current, subs = await store.versioned_subscriptions()
        assert subs == [sub]
        taken = await store.take(msgspec.structs.replace(take, version=current))
        assert taken is not None and [d.id for d in taken.held] == ["d2"]

    async def test_the_version_changes_with_every_change_and_goes_with_the_last_subscription(
        self, redis: Redis, keys: Keys
    ) -> None:
        store = WebhookStore(redis, keys)
        service = WebhookService(redis, keys, resolver=NO_DNS)
        seen = [(await store.versioned_subscriptions())[0]]
        a = await service.create_subscription("https://crm.example/a")
        seen.append((await store.versioned_subscriptions())[0])
        b = await service.create_subscription("https://crm.example/b")
        seen.append((await store.versioned_subscriptions())[0])
        await service.update_subscription(a.id, enabled=False)
        seen.append((await store.versioned_subscriptions())[0])
        await service.delete_subscription(a.id)
        seen.append((await store.versioned_subscriptions())[0])
        assert seen[0] == "" and len(set(seen)) == len(seen)
        await service.delete_subscription(b.id)
        assert await store.versioned_subscriptions() == ("", [])
        assert await redis.exists(keys.webhook_subscriptions_version) == 0


async def test_a_result_whose_attempt_gave_up_waiting_is_not_written_later(
    redis: Redis, keys: Keys, receivers: MakeReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attempt hands its result to a dispatcher that is stalled (a slow Redis elsewhere in its round), waits for
    it to be written and gives up; the lease brings the delivery back, maybe to another process: the result it
    handed over is withdrawn, not written after whatever that process recorded."""
    monkeypatch.setattr(webhooks_runtime, "_RECORD_TIMEOUT", 0.1)  # an attempt waits this + 1 s
    crm = await receivers()
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=QUIET)
    sub = await service.create_subscription(crm.url)
    crm.secret = sub.secret
    delivery = Delivery(id="d1", subscription_id=sub.id, event_id="1-0", type="call.ended", body="{}", created_at=1.0)
    service._dispatching = True  # a dispatcher running but stalled: nothing handed over is taken
    async with egress_session(service.egress, connections=1, tls=client_context()) as session:
        with anyio.fail_after(5):
            await service._attempt(session, sub, delivery)
    assert len(crm.requests) == 1  # the request was made
    assert service._to_record == []  # and its result withdrawn


async def test_with_no_subscription_the_events_are_passed_unread_and_a_new_subscription_gets_what_follows(
    redis: Redis, keys: Keys, redis_url: str, emit: Emit, receivers: MakeReceiver
) -> None:
    """No subscription anywhere: the consumer moves the group past the events in one step with that check, instead
    of reading, decoding and acknowledging each; an event written once a subscription exists is read as ever."""
    client, traffic = counted_client(redis_url)
    service = WebhookService(client, keys, resolver=NO_DNS, settings=FAST)
    try:
        async with running(service):
            for n in range(20):
                await emit("call.started", call_id=f"before{n}")
            await eventually(lambda: traffic.commands["EVALSHA"] + traffic.commands["EVAL"] >= 3)
            status = await service.status()
            assert (status.unread, status.unacknowledged, status.scheduled) == (0, 0, 0)
            assert (traffic.commands["XACK"], traffic.commands["XREADGROUP"]) == (0, 1)  # its own pending, at start
            crm = await receivers()
            sub = await service.create_subscription(crm.url)
            crm.secret = sub.secret
            await emit("call.started", call_id="after")
            await eventually(lambda: len(crm.unique) == 1)
            await settled(service)
    finally:
        await client.aclose()
    assert [got.payload["data"]["call_id"] for got in crm.unique.values()] == ["after"]


async def test_passing_the_events_by_keeps_the_groups_lag_known(redis: Redis, keys: Keys, emit: Emit) -> None:
    """The status's count of events not yet read stays right after the group was moved past events unread."""
    store = WebhookStore(redis, keys)
    await store.ensure_group("$")
    for n in range(3):
        await emit("call.started", call_id=f"c{n}")
    assert await store.group_lag() == (3, 0)
    assert await store.skip_unsubscribed() is True
    assert await store.group_lag() == (0, 0)
    await emit("call.started", call_id="c3")
    await emit("call.started", call_id="c4")
    assert await store.group_lag() == (2, 0)
    await redis.hset(keys.webhook_subscriptions, "sub_1", "{}")  # a subscription: nothing is passed by
    assert await store.skip_unsubscribed() is False
    assert await store.group_lag() == (2, 0)


async def test_a_consumer_group_gone_while_nobody_subscribes_is_made_again(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    """Redis lost the group (a restart without persistence): the step that passes events by says so, whatever
    words the server puts around a script's error, and the consumer makes the group again, so that a subscription
    made afterwards gets its events."""
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=FAST)
    async with running(service):
        await emit("call.started", call_id="c0")
        await redis.xgroup_destroy(keys.events, "webhooks")
        with pytest.raises(NoConsumerGroup):
            await service.store.skip_unsubscribed()

        async def group_back() -> bool:
            return any(group["name"] in (b"webhooks", "webhooks") for group in await redis.xinfo_groups(keys.events))

        with anyio.fail_after(5):
            while not await group_back():
                await anyio.sleep(0.05)
        crm = await receivers()
        crm.secret = (await service.create_subscription(crm.url)).secret
        await emit("call.started", call_id="after")
        await eventually(lambda: len(crm.unique) == 1)
    assert [got.payload["data"]["call_id"] for got in crm.unique.values()] == ["after"]
