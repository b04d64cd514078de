"""The webhook service: a consumer that turns stream events into deliveries, and a dispatcher that sends them.

Both run in their own tasks and only read Redis, so a slow or dead receiver can delay nothing but its own
deliveries: the call path never waits on a webhook. The consumer reads the event stream through a Redis consumer
group and acknowledges an entry in the same transaction that creates its deliveries, so after a crash it resumes
with what it had not finished. The dispatcher claims due deliveries with a lease (a crashed worker's claims come
due again), keeps at most ``per_subscription`` of one receiver's in flight, and records every attempt.

Delivery is at least once: an attempt that reached the receiver but whose result was never recorded is sent again
with the same ``webhook-id``, which receivers use to dedupe.
"""

from __future__ import annotations

import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from urllib.parse import urlsplit

import anyio
import httpx
import msgspec
import structlog
from anyio.abc import TaskGroup, TaskStatus
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from callcenter_ari.store.keys import Keys
from callcenter_ari.store.webhooks import StreamEntry, WebhookStore
from callcenter_ari.tls import client_context
from callcenter_ari.webhooks.model import (
    Delivery,
    DeliveryAttempt,
    Subscription,
    WebhookSettings,
    check_description,
    check_filters,
    check_secret,
    check_url,
)
from callcenter_ari.webhooks.policy import after_attempt, delivery_id, fan_out, parse_retry_after
from callcenter_ari.webhooks.signing import generate_secret, signature_headers

log = structlog.get_logger(__name__)

_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_USER_AGENT = "callcenter-ari-webhooks/1"
_RETRY_PAUSE = 1.0  # after a Redis error, before trying again

ClientSource = httpx.AsyncClient | Callable[[], httpx.AsyncClient] | None


class WebhookNotFound(LookupError):
    """No such subscription, delivery, dead letter or event."""


class OutboxStatus(msgspec.Struct, frozen=True):
    unread: int  # stream entries the consumer group has not read yet
    unacknowledged: int  # read but not yet turned into deliveries
    scheduled: int  # deliveries waiting for an attempt (or in flight)
    dead: int


class _Result(msgspec.Struct, frozen=True):
    status: int | None
    error: str
    retry_after: float | None
    duration_ms: float


class WebhookService:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        now: Callable[[], float] = time.time,
        http: ClientSource = None,
        settings: WebhookSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = WebhookStore(redis, keys)
        self.settings = settings or WebhookSettings()
        self._now = now
        self._http = http
        self._rng = rng or random.Random()
        self._in_flight: dict[str, int] = {}
        self._wake = anyio.Event()

    # ---- running ----------------------------------------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Consume the event stream and deliver until cancelled."""
        await self.store.ensure_group(self.settings.start_at)
        async with AsyncExitStack() as stack:
            client = await self._client(stack)
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._consume)
                tg.start_soon(self._dispatch, tg, client)
                log.info("webhooks.started", consumer=self.settings.consumer)
                task_status.started()

    async def _client(self, stack: AsyncExitStack) -> httpx.AsyncClient:
        if isinstance(self._http, httpx.AsyncClient):
            return self._http  # the caller's: they close it
        if self._http is not None:
            return await stack.enter_async_context(self._http())
        s = self.settings
        timeout = httpx.Timeout(s.read_timeout, connect=s.connect_timeout)
        limits = httpx.Limits(max_connections=s.concurrency, max_keepalive_connections=s.concurrency)
        client = httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False, verify=client_context())
        return await stack.enter_async_context(client)

    def wake(self) -> None:
        """Look for due deliveries now (new ones were created)."""
        self._wake.set()

    # ---- the consumer -----------------------------------------------------------------------------------

    async def _consume(self) -> None:
        s = self.settings
        # First what this consumer (a previous run of it) or a vanished one read and never finished.
        await self._retrying(self._drain_abandoned)
        await self._retrying(self._drain_own_pending)
        last_claim = time.monotonic()
        while True:
            try:
                entries = await self.store.read_events(
                    s.consumer, pending=False, count=s.read_count, block_ms=int(s.read_block * 1000)
                )
                if entries:
                    await self._fan_out(entries)
                if time.monotonic() - last_claim > s.claim_idle:
                    last_claim = time.monotonic()
                    await self._drain_abandoned()
            except ResponseError as exc:
                log.error("webhooks.consume_failed", error=repr(exc))
                await anyio.sleep(_RETRY_PAUSE)
                if "NOGROUP" in str(exc):  # the stream or the group was deleted under us: start again at its end
                    await self._retrying(lambda: self.store.ensure_group(s.start_at))
            except (RedisError, OSError) as exc:
                log.error("webhooks.consume_failed", error=repr(exc))
                await anyio.sleep(_RETRY_PAUSE)
            except Exception:
                # A bug here must not take the call center down with it: log it loudly and keep consuming.
                log.exception("webhooks.consume_crashed")
                await anyio.sleep(_RETRY_PAUSE)

    async def _retrying(self, step: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await step()
                return
            except (RedisError, OSError) as exc:
                log.error("webhooks.consume_failed", error=repr(exc))
                await anyio.sleep(_RETRY_PAUSE)

    async def _drain_own_pending(self) -> None:
        s = self.settings
        while entries := await self.store.read_events(s.consumer, pending=True, count=s.read_count, block_ms=0):
            await self._fan_out(entries)

    async def _drain_abandoned(self) -> None:
        s = self.settings
        idle_ms = int(s.claim_idle * 1000)
        while entries := await self.store.claim_abandoned(s.consumer, min_idle_ms=idle_ms, count=s.read_count):
            await self._fan_out(entries)

    async def _fan_out(self, entries: Sequence[StreamEntry]) -> None:
        subscriptions = await self.store.subscriptions()
        now = self._now()
        deliveries: list[Delivery] = []
        for entry in entries:
            if not entry.kind:
                continue  # trimmed from the stream before we got to it: nothing to send
            deliveries.extend(fan_out(entry.id, entry.kind, entry.at, _valid_json(entry), subscriptions, now))
        created = await self.store.create_and_ack(deliveries, [entry.id for entry in entries])
        if created:
            self.wake()

    # ---- the dispatcher ---------------------------------------------------------------------------------

    async def _dispatch(self, tg: TaskGroup, client: httpx.AsyncClient) -> None:
        while True:
            # A fresh event before looking, so a wake-up that comes while we look is not lost.
            self._wake = wake = anyio.Event()
            try:
                delay = await self._dispatch_once(tg, client)
            except (RedisError, OSError) as exc:
                log.error("webhooks.dispatch_failed", error=repr(exc))
                delay = _RETRY_PAUSE
            except Exception:
                log.exception("webhooks.dispatch_crashed")  # as in the consumer: never take the process down
                delay = _RETRY_PAUSE
            if delay > 0:
                with anyio.move_on_after(delay):
                    await wake.wait()

    async def _dispatch_once(self, tg: TaskGroup, client: httpx.AsyncClient) -> float:
        """Start attempts for what is due and may be sent now; returns how long to wait before looking again."""
        s = self.settings
        free = s.concurrency - sum(self._in_flight.values())
        if free <= 0:
            return s.poll_interval  # an attempt ending wakes us
        # Disabled subscriptions are paused: their deliveries wait, nothing new is created for them.
        subs = {sub.id: sub for sub in await self.store.subscriptions() if sub.enabled}
        limits = {
            sub_id: s.per_subscription - self._in_flight.get(sub_id, 0)
            for sub_id in subs
            if self._in_flight.get(sub_id, 0) < s.per_subscription
        }
        now = self._now()
        due, soonest = await self.store.due(limits, now)
        held = await self.store.claim(_round_robin(due, free), now, now + s.lease_seconds)
        for delivery in held:
            self._in_flight[delivery.subscription_id] = self._in_flight.get(delivery.subscription_id, 0) + 1
            tg.start_soon(self._attempt, client, subs[delivery.subscription_id], delivery)
        if soonest is None:
            return s.poll_interval
        return min(s.poll_interval, max(0.0, soonest - now))

    async def _attempt(self, client: httpx.AsyncClient, sub: Subscription, delivery: Delivery) -> None:
        s = self.settings
        try:
            result = await self._post(client, sub, delivery)
            now = self._now()
            updated, outcome = after_attempt(
                delivery,
                now=now,
                status_code=result.status,
                error=result.error,
                settings=s,
                retry_after=result.retry_after,
                rng=self._rng,
            )
            attempt = DeliveryAttempt(
                delivery_id=delivery.id,
                event_id=delivery.event_id,
                type=delivery.type,
                attempt=updated.attempts,
                at=now,
                outcome=outcome,
                status_code=result.status,
                error=updated.last_error,
                duration_ms=result.duration_ms,
                next_attempt_at=updated.next_attempt_at if outcome == "retry" else None,
            )
            # The request was made: record it even if we are being cancelled, or it is sent once more than needed.
            with anyio.CancelScope(shield=True), anyio.move_on_after(5) as scope:
                await self.store.record(updated, attempt, log_size=s.log_size, ttl=s.delivered_ttl)
                if result.status == 410:
                    await self._disable(sub.id, "the receiver answered 410 Gone")
            if scope.cancelled_caught:
                log.error("webhooks.record_timed_out", delivery_id=delivery.id)  # the lease brings it back
            log.info(
                "webhooks.attempt",
                delivery_id=delivery.id,
                subscription_id=sub.id,
                type=delivery.type,
                attempt=updated.attempts,
                outcome=outcome,
                status=result.status,
                error=result.error or None,
            )
        except (RedisError, OSError) as exc:
            # Not recorded: the lease runs out and the delivery is tried again.
            log.error("webhooks.record_failed", delivery_id=delivery.id, error=repr(exc))
        except Exception:
            log.exception("webhooks.attempt_crashed", delivery_id=delivery.id)
        finally:
            self._in_flight[sub.id] -= 1
            if not self._in_flight[sub.id]:
                del self._in_flight[sub.id]
            self.wake()

    async def _post(self, client: httpx.AsyncClient, sub: Subscription, delivery: Delivery) -> _Result:
        body = delivery.body.encode("utf-8")
        headers = signature_headers(delivery.id, int(self._now()), body, sub.secret)
        headers.update({"content-type": "application/json", "user-agent": _USER_AGENT})
        started = time.monotonic()
        status: int | None = None
        error, retry_after = "", None
        try:
            # The total bound: httpx's timeouts are per phase, and a receiver can trickle a response forever.
            with anyio.fail_after(self.settings.attempt_timeout):
                async with client.stream("POST", sub.url, content=body, headers=headers) as response:
                    status = response.status_code
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except TimeoutError:
            error = "timed out"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return _Result(status, error, retry_after, round((time.monotonic() - started) * 1000, 1))

    # ---- subscriptions (for the API) ----------------------------------------------------------------------

    async def create_subscription(
        self,
        url: str,
        *,
        events: Sequence[str] = (),
        secret: str | None = None,
        enabled: bool = True,
        description: str = "",
    ) -> Subscription:
        """Validate and store a subscription; a secret is generated unless one is given. Raises SubscriptionError."""
        sub = Subscription(
            id=f"sub_{secrets.token_hex(8)}",
            url=check_url(url),
            secret=check_secret(secret) if secret is not None else generate_secret(),
            events=check_filters(tuple(events)),
            enabled=enabled,
            description=check_description(description),
            created_at=self._now(),
        )
        await self.store.save_subscription(sub)
        # The host only: a receiver's URL may carry an access token in its query.
        host = urlsplit(sub.url).hostname
        log.info("webhooks.subscription_created", subscription_id=sub.id, host=host, events=list(sub.events))
        return sub

    async def update_subscription(
        self,
        subscription_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        enabled: bool | None = None,
        description: str | None = None,
        secret: str | None = None,
    ) -> Subscription:
        """Change the given fields; ``secret=""`` generates a new secret (rotation). Raises WebhookNotFound."""
        sub = await self._subscription(subscription_id)
        changes: dict[str, object] = {}
        if url is not None:
            changes["url"] = check_url(url)
        if events is not None:
            changes["events"] = check_filters(tuple(events))
        if enabled is not None:
            changes["enabled"] = enabled
            changes["disabled_reason"] = ""
        if description is not None:
            changes["description"] = check_description(description)
        if secret is not None:
            changes["secret"] = check_secret(secret) if secret else generate_secret()
        updated = msgspec.structs.replace(sub, **changes)
        await self.store.save_subscription(updated)
        if updated.enabled:
            self.wake()  # re-enabled: its waiting deliveries may go
        log.info("webhooks.subscription_updated", subscription_id=sub.id, fields=sorted(changes))
        return updated

    async def delete_subscription(self, subscription_id: str) -> None:
        if not await self.store.delete_subscription(subscription_id):
            raise WebhookNotFound(f"no subscription {subscription_id!r}")
        log.info("webhooks.subscription_deleted", subscription_id=subscription_id)

    async def subscription(self, subscription_id: str) -> Subscription | None:
        return await self.store.subscription(subscription_id)

    async def subscriptions(self) -> list[Subscription]:
        return await self.store.subscriptions()

    async def _subscription(self, subscription_id: str) -> Subscription:
        sub = await self.store.subscription(subscription_id)
        if sub is None:
            raise WebhookNotFound(f"no subscription {subscription_id!r}")
        return sub

    async def _disable(self, subscription_id: str, reason: str) -> None:
        sub = await self.store.subscription(subscription_id)
        if sub is not None and sub.enabled:
            await self.store.save_subscription(msgspec.structs.replace(sub, enabled=False, disabled_reason=reason))
            log.warning("webhooks.subscription_disabled", subscription_id=subscription_id, reason=reason)

    # ---- deliveries, dead letters, replay (for the API) -----------------------------------------------------

    async def delivery(self, delivery_id: str) -> Delivery | None:
        return await self.store.delivery(delivery_id)

    async def delivery_log(self, subscription_id: str, limit: int = 50) -> list[DeliveryAttempt]:
        """The subscription's latest attempts, newest first."""
        return await self.store.log(subscription_id, limit)

    async def dead_letters(self, limit: int = 100) -> list[Delivery]:
        """Deliveries that used up their attempts, most recent first."""
        return await self.store.dead_letters(limit)

    async def replay_dead(self, delivery_id: str) -> Delivery:
        """Put a dead-lettered delivery back with a fresh set of attempts; the same ``webhook-id`` is kept."""
        delivery = await self.store.delivery(delivery_id)
        if delivery is None or not await self.store.is_dead(delivery_id):
            raise WebhookNotFound(f"no dead-lettered delivery {delivery_id!r}")
        await self._subscription(delivery.subscription_id)
        fresh = msgspec.structs.replace(
            delivery, status="pending", attempts=0, next_attempt_at=self._now(), last_status=None, last_error=""
        )
        await self.store.requeue(fresh)
        self.wake()
        log.info("webhooks.replayed_dead", delivery_id=delivery_id, subscription_id=delivery.subscription_id)
        return fresh

    async def replay_event(self, event_id: str, subscription_id: str | None = None) -> list[Delivery]:
        """Send a past event again: to one subscription (whatever its filters), or to every one that takes it.

        Each replay is a new delivery with its own ``webhook-id`` (a receiver that already processed the event
        would otherwise drop it as a duplicate); the body is the original one.
        """
        if not _STREAM_ID.fullmatch(event_id):
            raise WebhookNotFound(f"{event_id[:40]!r} is not an event id")
        entry = await self.store.event(event_id)
        if entry is None or not entry.kind:
            raise WebhookNotFound(f"no event {event_id!r} in the stream")
        if subscription_id is not None:
            targets = [msgspec.structs.replace(await self._subscription(subscription_id), events=(), enabled=True)]
        else:
            targets = await self.store.subscriptions()
        token = secrets.token_hex(4)
        deliveries = [
            msgspec.structs.replace(d, id=delivery_id(event_id, d.subscription_id, token), replay_of=event_id)
            for d in fan_out(entry.id, entry.kind, entry.at, _valid_json(entry), targets, self._now())
        ]
        await self.store.create(deliveries)
        self.wake()
        log.info("webhooks.replayed_event", event_id=event_id, deliveries=len(deliveries))
        return deliveries

    async def status(self) -> OutboxStatus:
        unread, unacked = await self.store.group_lag()
        subs = [sub.id for sub in await self.store.subscriptions()]
        scheduled = await self.store.pending_count(subs)
        return OutboxStatus(unread, unacked, scheduled, await self.store.dead_count())


def _round_robin(due: dict[str, list[str]], budget: int) -> list[tuple[str, str]]:
    """Take due deliveries one subscription at a time, so a backlog on one does not use up the free slots."""
    queues = {sub: list(ids) for sub, ids in due.items()}
    picked: list[tuple[str, str]] = []
    while queues and len(picked) < budget:
        for sub in list(queues):
            picked.append((sub, queues[sub].pop(0)))
            if not queues[sub]:
                del queues[sub]
            if len(picked) >= budget:
                break
    return picked


def _valid_json(entry: StreamEntry) -> bytes:
    """The event's data, or ``{}`` if it is not JSON (never send a receiver a body it cannot parse)."""
    try:
        msgspec.json.decode(entry.data)
    except msgspec.DecodeError:
        log.error("webhooks.bad_event_data", event_id=entry.id, kind=entry.kind)
        return b"{}"
    return entry.data
