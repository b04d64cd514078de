"""The durable outbox end to end: events emitted by the runtime's Store reach real HTTP receivers on loopback,
signed, retried, dead-lettered, replayed, and never lost or doubled across a restart. Real Redis throughout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal

import anyio
import msgspec
import pytest
from redis.asyncio import Redis

from callcenter_ari.runtime.webhooks import WebhookService
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from callcenter_ari.webhooks import DeliveryAttempt, SubscriptionError, WebhookNotFound
from callcenter_ari.webhooks.policy import fan_out
from tests.webhooks.helpers import FAST, NO_DNS, Receiver, eventually, free_port, running, settled

Emit = Callable[..., Awaitable[None]]
MakeReceiver = Callable[[], Awaitable[Receiver]]


async def subscribe(service: WebhookService, receiver: Receiver, *events: str) -> str:
    sub = await service.create_subscription(receiver.url, events=events)
    receiver.secret = sub.secret
    return sub.id


async def test_an_event_is_delivered_signed_with_the_spec_payload(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    crm = await receivers()
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=FAST)
    sub_id = await subscribe(service, crm)
    async with running(service):
        await emit("call.answered", call_id="c1", agent_id="a1", wait=4.5)
        await eventually(lambda: len(crm.unique) == 1)
        await settled(service)  # the receiver has it; now the service has recorded the answer too
    [got] = crm.unique.values()
    assert got.payload["type"] == "call.answered"
    assert got.payload["data"] == {"call_id": "c1", "agent_id": "a1", "wait": 4.5}
    assert got.payload["timestamp"].endswith("Z")
    assert crm.bad_signatures == 0
    delivery = await service.delivery(got.webhook_id)
    assert delivery is not None and delivery.status == "delivered" and delivery.subscription_id == sub_id
    [line] = await service.delivery_log(sub_id)
    assert line.outcome == "delivered" and line.status_code == 200 and line.delivery_id == got.webhook_id


@pytest.mark.parametrize("answer", [b"", b'{"ok": true}'], ids=["no body", "a body"])
async def test_deliveries_reuse_the_receivers_connections(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver, answer: bytes
) -> None:
    """The answer is read through, so the connection serves the next delivery: at most one connection per attempt
    in flight, not one per delivery."""
    crm = await receivers()
    crm.answer = answer
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=FAST)
    await subscribe(service, crm)
    async with running(service):
        for n in range(20):
            await emit("call.ended", call_id=f"c{n}", outcome="completed")
        await eventually(lambda: len(crm.unique) == 20)
        await settled(service)
    assert 1 <= len(crm.connections) <= FAST.per_subscription


async def test_a_500_is_retried_with_the_same_webhook_id(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    crm = await receivers()
    crm.statuses = [500, 503]
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=FAST)
    sub_id = await subscribe(service, crm)
    async with running(service):
        await emit("call.ended", call_id="c1", outcome="completed")
        await eventually(lambda: len(crm.unique) == 1)
        await settled(service)
    assert len(crm.requests) == 3
    assert len({r.webhook_id for r in crm.requests}) == 1
    log = await service.delivery_log(sub_id)
    assert [(line.attempt, line.outcome, line.status_code) for line in reversed(log)] == [
        (1, "retry", 500),
        (2, "retry", 503),
        (3, "delivered", 200),
    ]


async def test_a_receiver_that_is_down_gets_the_event_once_it_is_up(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    port = free_port()
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=FAST)
    sub = await service.create_subscription(f"http://127.0.0.1:{port}/hook")
    async with running(service):
        await emit("call.started", call_id="c1")

        async def refused_twice() -> bool:
            return len(await service.delivery_log(sub.id)) >= 2

        with anyio.fail_after(5):
            while not await refused_twice():
                await anyio.sleep(0.01)
        crm = Receiver(secret=sub.secret)
        await crm.start(port)
        try:
            await eventually(lambda: len(crm.unique) == 1)
            await settled(service)
        finally:
            await crm.stop()
    log = await service.delivery_log(sub.id)
    assert log[0].outcome == "delivered"
    assert all(line.outcome == "retry" and line.status_code is None and line.error for line in log[1:])


async def test_a_slow_receiver_does_not_delay_another_subscription(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    slow, fast = await receivers(), await receivers()
    slow.hold = asyncio.Event()  # never answers until released
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=FAST)
    await subscribe(service, slow)
    await subscribe(service, fast)
    async with running(service):
        for n in range(20):
            await emit("call.started", call_id=f"c{n}")
        with anyio.fail_after(2):  # well inside the slow receiver's read timeout
            await eventually(lambda: len(fast.unique) == 20)
        assert not slow.unique
        slow.hold.set()
        await eventually(lambda: len(slow.unique) == 20)
    assert slow.bad_signatures == fast.bad_signatures == 0


async def test_filters_choose_what_each_subscription_receives(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    answered, calls, tickets, everything = [await receivers() for _ in range(4)]
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=FAST)
    await subscribe(service, answered, "call.answered")
    await subscribe(service, calls, "call.*")
    await subscribe(service, tickets, "ticket.*", "survey.result")
    await subscribe(service, everything)
    async with running(service):
        for kind in ("call.started", "call.answered", "callback.requested", "ticket.created", "survey.result"):
            await emit(kind, call_id="c1")
        await eventually(lambda: len(everything.unique) == 5)
        await settled(service)
    assert answered.types() == ["call.answered"]
    assert calls.types() == ["call.answered", "call.started"]
    assert tickets.types() == ["survey.result", "ticket.created"]


async def test_dead_letter_after_the_last_attempt_then_replay(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    crm = await receivers()
    crm.statuses = [500] * FAST.max_attempts
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=FAST)
    sub_id = await subscribe(service, crm)
    async with running(service):
        await emit("ticket.escalated", ticket="T-2026-000001")

        async def dead() -> list[str]:
            return [d.id for d in await service.dead_letters()]

        with anyio.fail_after(5):
            while not await dead():
                await anyio.sleep(0.01)
        [dead_id] = await dead()
        assert len(crm.requests) == FAST.max_attempts and not crm.unique
        replayed = await service.replay_dead(dead_id)
        assert replayed.id == dead_id and replayed.attempts == 0
        await eventually(lambda: dead_id in crm.unique)
        assert await dead() == []
        with pytest.raises(WebhookNotFound):
            await service.replay_dead(dead_id)  # no longer dead-lettered

        # Re-delivering the past event by its stream id: a new delivery id, the same body.
        event_id = crm.unique[dead_id].webhook_id.split("_")[1]
        [again] = await service.replay_event(event_id, sub_id)
        await eventually(lambda: again.id in crm.unique)
        await settled(service)
    assert again.id != dead_id and again.replay_of == event_id
    assert crm.unique[again.id].body == crm.unique[dead_id].body
    attempts = [line.attempt for line in await service.delivery_log(sub_id, limit=100)]
    assert attempts.count(1) == 3  # first try, the replayed dead letter, the replayed event


async def test_nothing_is_lost_or_doubled_across_a_restart(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    """Stop the service mid-way (events unread, deliveries pending and in flight), start a new one on the same
    Redis: every delivery id arrives, and the receiver, deduping on webhook-id, processes each exactly once."""
    crm = await receivers()
    settings = msgspec.structs.replace(FAST, per_subscription=2, attempt_timeout=0.3, lease_seconds=0.5)
    first = WebhookService(redis, keys, resolver=NO_DNS, settings=settings)
    await subscribe(first, crm)
    async with running(first):
        for n in range(30):
            await emit("call.started", call_id=f"c{n}")
        await eventually(lambda: len(crm.unique) >= 5)
    delivered_before = len(crm.unique)
    for n in range(30, 60):  # emitted while no service runs
        await emit("call.started", call_id=f"c{n}")
    second = WebhookService(redis, keys, resolver=NO_DNS, settings=settings)
    async with running(second):
        await eventually(lambda: len(crm.unique) == 60)
        await settled(second)
    assert delivered_before < 60
    assert sorted(r.payload["data"]["call_id"] for r in crm.unique.values()) == sorted(f"c{n}" for n in range(60))
    assert all(d is not None and d.status == "delivered" for d in [await second.delivery(i) for i in crm.unique])
    assert crm.bad_signatures == 0


async def test_a_fan_out_repeated_after_a_crash_creates_no_duplicate(redis: Redis, keys: Keys) -> None:
    """The consumer died after creating deliveries but before acknowledging: reading the entry again is harmless."""
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=FAST)
    await service.create_subscription("https://crm.example/hook")
    await service.store.ensure_group("0")
    store = Store(redis, keys, now=time.time)
    store.emit("call.started", {"at": 1.0, "call_id": "c1"})
    await store.flush()
    [entry] = await service.store.read_events("w1", pending=False, count=10, block_ms=10)
    subs = await service.store.subscriptions()
    from callcenter_ari.webhooks.policy import fan_out

    deliveries = fan_out(entry.id, entry.kind, entry.at, entry.data, subs, now=2.0)
    assert await service.store.create(deliveries) == 1
    assert await service.store.create_and_ack(deliveries, [entry.id]) == 0
    status = await service.status()
    assert (status.scheduled, status.unacknowledged, status.unread) == (1, 0, 0)


async def test_a_disabled_subscription_is_paused_and_resumes_when_enabled(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    crm = await receivers()
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=FAST)
    sub_id = await subscribe(service, crm)
    async with running(service):
        await service.update_subscription(sub_id, enabled=False)
        await emit("call.started", call_id="skipped")  # nothing is created for a disabled subscription
        await settled(service)
        await service.update_subscription(sub_id, enabled=True)
        await emit("call.started", call_id="sent")
        await eventually(lambda: len(crm.unique) == 1)
    assert [r.payload["data"]["call_id"] for r in crm.unique.values()] == ["sent"]


async def test_410_gone_disables_the_subscription(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    crm = await receivers()
    crm.statuses = [410]
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=FAST)
    sub_id = await subscribe(service, crm)
    async with running(service):
        await emit("call.started", call_id="c1")

        async def disabled() -> bool:
            sub = await service.subscription(sub_id)
            return sub is not None and not sub.enabled

        with anyio.fail_after(5):
            while not await disabled():
                await anyio.sleep(0.01)
    sub = await service.subscription(sub_id)
    assert sub is not None and "410" in sub.disabled_reason
    assert len(await service.dead_letters()) == 1


class TestSubscriptions:
    async def test_create_list_update_rotate_delete(self, redis: Redis, keys: Keys) -> None:
        service = WebhookService(redis, keys, resolver=NO_DNS, now=lambda: 1000.0)
        sub = await service.create_subscription("https://crm.example/a", events=["call.*"], description="CRM")
        assert sub.secret.startswith("whsec_") and sub.created_at == 1000.0
        assert await service.subscriptions() == [sub]
        moved = await service.update_subscription(sub.id, url="https://crm.example/b", events=["ticket.*"])
        assert (moved.url, moved.events, moved.secret) == ("https://crm.example/b", ("ticket.*",), sub.secret)
        rotated = await service.update_subscription(sub.id, secret="")
        assert rotated.secret != sub.secret and rotated.secret.startswith("whsec_")
        await service.delete_subscription(sub.id)
        assert await service.subscriptions() == []
        with pytest.raises(WebhookNotFound):
            await service.delete_subscription(sub.id)

    async def test_delete_takes_the_pending_deliveries_with_it(self, redis: Redis, keys: Keys) -> None:
        """No delivery of a deleted subscription is left behind in Redis (they have no expiry while pending)."""
        service = WebhookService(redis, keys, resolver=NO_DNS, now=lambda: 1000.0)
        sub = await service.create_subscription("https://crm.example/a")
        [pending] = fan_out("1000-0", "call.started", 1000.0, b"{}", [sub], 1000.0)
        assert await service.store.create([pending]) == 1
        await service.delete_subscription(sub.id)
        assert await service.delivery(pending.id) is None
        assert await redis.keys(f"{keys.base}:webhooks:*") == []

    async def test_an_attempt_ending_after_the_delete_brings_nothing_back(self, redis: Redis, keys: Keys) -> None:
        """The attempt was in flight when the subscription went: its retry is not written back."""
        service = WebhookService(redis, keys, resolver=NO_DNS, now=lambda: 1000.0)
        sub = await service.create_subscription("https://crm.example/a")
        [pending] = fan_out("1000-0", "call.started", 1000.0, b"{}", [sub], 1000.0)
        await service.store.create([pending])
        await service.delete_subscription(sub.id)
        retry = msgspec.structs.replace(pending, attempts=1, next_attempt_at=1005.0)
        attempt = DeliveryAttempt(
            delivery_id=pending.id, event_id="1000-0", type="call.started", attempt=1, at=1000.0, outcome="retry"
        )
        await service.store.record(retry, attempt, log_size=10, ttl=60.0)
        assert await service.delivery(pending.id) is None
        assert await redis.exists(keys.webhook_schedule(sub.id)) == 0

    async def test_a_given_secret_is_kept(self, redis: Redis, keys: Keys) -> None:
        secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        service = WebhookService(redis, keys, resolver=NO_DNS)
        assert (await service.create_subscription("https://crm.example/a", secret=secret)).secret == secret

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"url": "ftp://crm.example/a"}, "url"),
            ({"url": "https://crm.example/a", "secret": "hunter2"}, "secret"),
            ({"url": "https://crm.example/a", "events": ["call.*", "CALL"]}, "events[1]"),
        ],
    )
    async def test_invalid_fields_are_named(self, redis: Redis, keys: Keys, kwargs: dict, field: str) -> None:
        service = WebhookService(redis, keys, resolver=NO_DNS)
        with pytest.raises(SubscriptionError) as caught:
            await service.create_subscription(**kwargs)
        assert caught.value.field == field
        assert await service.subscriptions() == []


async def test_the_consumer_recovers_when_the_stream_is_deleted_under_it(
    redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
) -> None:
    crm = await receivers()
    service = WebhookService(redis, keys, resolver=NO_DNS, settings=FAST)
    await subscribe(service, crm)
    async with running(service):
        await redis.delete(keys.events)  # an operator's mistake: the group goes with the stream

        async def group_back() -> bool:
            return bool(await redis.exists(keys.events)) and bool(await redis.xinfo_groups(keys.events))

        with anyio.fail_after(5):
            while not await group_back():
                await anyio.sleep(0.01)
        await emit("call.started", call_id="after")
        await eventually(lambda: len(crm.unique) == 1)


async def test_attempts_recorded_together_land_as_if_recorded_one_by_one(redis: Redis, keys: Keys) -> None:
    """One transaction for several results: the delivered one leaves its schedule, the one to retry keeps its
    place at its new time, the dead one is dead-lettered; the log has every line, newest first, cut to its size."""
    from callcenter_ari.store.webhooks import WebhookStore
    from callcenter_ari.webhooks.model import Delivery

    store = WebhookStore(redis, keys)

    made = [
        Delivery(id=ident, subscription_id="sub_1", event_id="1-0", type="call.ended", body="{}", created_at=1.0)
        for ident in ("d1", "d2", "d3", "d4")
    ]
    assert await store.create(made) == 4
    results: list[tuple[Delivery, Literal["delivered", "retry", "dead"]]] = [
        (msgspec.structs.replace(made[0], status="delivered", attempts=1), "delivered"),
        (msgspec.structs.replace(made[1], attempts=1, next_attempt_at=50.0), "retry"),
        (msgspec.structs.replace(made[2], status="dead", attempts=5), "dead"),
    ]
    settled = [
        (d, DeliveryAttempt(delivery_id=d.id, event_id="1-0", type="call.ended", attempt=1, at=n, outcome=outcome))
        for n, (d, outcome) in enumerate(results)
    ]
    await store.record_many(settled, log_size=2, ttl=60)
    schedule = keys.webhook_schedule("sub_1")
    assert await redis.zrange(schedule, 0, -1, withscores=True) == [(b"d4", 0.0), (b"d2", 50.0)]
    assert await store.dead_letters() == [results[2][0]]
    assert await store.delivery("d1") == results[0][0] and await redis.ttl(keys.webhook_delivery("d1")) > 0
    assert [line.delivery_id for line in await store.log("sub_1")] == ["d3", "d2"]  # newest first, two kept
