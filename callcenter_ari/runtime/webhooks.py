"""The webhook outbox's loop: a consumer that turns stream events into deliveries, and a dispatcher that sends them.

Both run in their own tasks and only read Redis, so a slow or dead receiver can delay nothing but its own
deliveries: the call path never waits on a webhook. The consumer reads the event stream through a Redis consumer
group and acknowledges an entry in the same transaction that creates its deliveries, so after a crash it resumes
with what it had not finished. The dispatcher claims due deliveries with a lease (a crashed worker's claims come
due again), keeps at most ``per_subscription`` of one receiver's in flight, and records every attempt. What to do at
each step is the decider's (``webhooks/outbox.py``); this module reads, writes and sends.

Redis traffic per delivery: the dispatcher looks once per round (after a wake-up it lets attempts ending together
gather for a few milliseconds), and that one round trip records the results handed over since the last round and
claims what is due next (``WebhookStore.record_and_take``). The subscriptions are kept in memory with their version:
they are read again when this process changed them, when the claim finds their version changed (another process
changed them: nothing is claimed under the old ones, so a deleted or disabled subscription gets no new attempt once
the change is in Redis, and a new one is served from the next round, within ``poll_interval``), and at least every
``_SUBSCRIPTIONS_MAX_AGE`` whatever the version says (a writer that does not set it). The consumer fans out with
the same copy, and its transaction creates and acknowledges nothing if their version changed: it reads them again
and fans out again, so a delivery is created only for a subscription that exists when it is created.

Delivery is at least once: an attempt that reached the receiver but whose result was never recorded is sent again
with the same ``webhook-id``, which receivers use to dedupe.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import aiohttp
import anyio
import msgspec
import structlog
import yarl
from anyio.abc import TaskGroup, TaskStatus
from redis.asyncio import Redis

from callcenter_ari.runtime.egress import Egress, EgressRefused, Resolver, egress_session, system_resolver
from callcenter_ari.store.errors import NoConsumerGroup, StoreUnavailable
from callcenter_ari.store.fenced import FenceSource, unfenced
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.webhooks import Take, Taken, WebhookStore
from callcenter_ari.tls import client_context
from callcenter_ari.webhooks.model import (
    Delivery,
    DeliveryAttempt,
    OutboxStatus,
    StreamEntry,
    Subscription,
    WebhookNotFound,
    WebhookSettings,
    check_description,
    check_filters,
    check_secret,
    check_url,
)
from callcenter_ari.webhooks.outbox import AttemptResult, FanOut, Outbox
from callcenter_ari.webhooks.policy import parse_retry_after
from callcenter_ari.webhooks.signing import generate_secret, signature_headers

log = structlog.get_logger(__name__)

_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_USER_AGENT = "callcenter-ari-webhooks/1"
_RETRY_PAUSE = 1.0  # after a Redis error, before trying again
_GATHER_SECONDS = 0.1  # after a read that was not full, before the next
_DISPATCH_GATHER_SECONDS = 0.005  # after a wake-up, before looking for due deliveries
_SUBSCRIPTIONS_MAX_AGE = 5.0  # the in-memory subscriptions are read again at least this often
_TAKES_PER_ROUND = 3  # claims in one round: the first, and again while it names due deliveries it had no keys for
_RECORD_TIMEOUT = 5.0  # for the round trip that records results, shielded from cancellation
# A receiver's answer body is read (and dropped) up to this much, so that the connection goes back to the pool for
# the next delivery; past it the connection is closed instead (a receiver need not send a body at all).
_BODY_KEPT_ALIVE = 64 * 1024


class WebhookService:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        now: Callable[[], float] = time.time,
        settings: WebhookSettings | None = None,
        rng: random.Random | None = None,
        resolver: Resolver = system_resolver,
        fence: FenceSource = unfenced,
    ) -> None:
        """``resolver``: how host names become addresses, for the egress policy (tests pass a table). ``fence``:
        under a hot standby's lease, the writes are fenced and no request is sent once the lease may have run
        out."""
        self.store = WebhookStore(redis, keys, fence=fence)
        self._fence = fence
        self.settings = settings or WebhookSettings()
        self.outbox = Outbox(self.settings, rng)
        self.egress = Egress(self.settings.egress(), resolver, timeout=self.settings.connect_timeout)
        self._timeouts = aiohttp.ClientTimeout(
            total=None, sock_connect=self.settings.connect_timeout, sock_read=self.settings.read_timeout
        )
        self._now = now  # the one clock: wall time, which receivers check webhook-timestamp against
        self._wake = anyio.Event()
        self._to_record: list[_Recording] = []  # attempts' results for the dispatcher's next round trip
        self._dispatching = False  # while False an attempt records its own result
        self._subs: dict[str, Subscription] = {}
        self._subs_version = ""
        self._subs_read_at: float | None = None  # monotonic; None: read them before using them
        self._subs_lock = anyio.Lock()

    # ---- running ----------------------------------------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Consume the event stream and deliver until cancelled."""
        await self.store.ensure_group(self.settings.start_at)
        s = self.settings
        # Every connection goes to checked addresses only (runtime/egress.py). Redirects are not followed.
        session = egress_session(self.egress, connections=s.concurrency, tls=client_context())
        async with session, anyio.create_task_group() as tg:
            tg.start_soon(self._consume)
            tg.start_soon(self._dispatch, tg, session)
            log.info("webhooks.started", consumer=s.consumer)
            task_status.started()

    def wake(self) -> None:
        """Look for due deliveries now (new ones were created)."""
        self._wake.set()

    # ---- the consumer -----------------------------------------------------------------------------------

    async def _consume(self) -> None:
        s = self.settings
        # First what this consumer (a previous run of it) or a vanished one read and never finished.
        if self.outbox.reclaim_due(self._now()):
            await self._retrying(self._drain_abandoned)
        await self._retrying(self._drain_own_pending)
        while True:
            try:
                skipped = await self._skipped()
                entries: Sequence[StreamEntry] = []
                if not skipped:
                    wait = int(s.read_block * 1000)
                    entries = await self.store.read_events(s.consumer, pending=False, count=s.read_count, block_ms=wait)
                if entries:
                    await self._fan_out(entries)
                if self.outbox.reclaim_due(self._now()):
                    await self._drain_abandoned()
                if skipped:
                    await anyio.sleep(s.read_block)  # as long as a read would wait
                elif 0 < len(entries) < s.read_count:
                    # Let events gather: under load one read, one subscriptions read and one transaction carry
                    # many calls' events instead of each a few (a delivery waits this much longer at most).
                    await anyio.sleep(_GATHER_SECONDS)
            except NoConsumerGroup as exc:  # the stream or the group was deleted under us: start again at its end
                log.error("webhooks.consume_failed", error=str(exc))
                await anyio.sleep(_RETRY_PAUSE)
                await self._retrying(lambda: self.store.ensure_group(s.start_at))
            except StoreUnavailable as exc:
                log.error("webhooks.consume_failed", error=str(exc))
                await anyio.sleep(_RETRY_PAUSE)
            except Exception:
                # A bug here must not take the call center down with it: log it loudly and keep consuming.
                log.exception("webhooks.consume_crashed")
                await anyio.sleep(_RETRY_PAUSE)

    async def _skipped(self) -> bool:
        """With no subscription (the default ``start_at``, new events only), the events written so far concern
        nobody: the group is moved past them unread instead of reading, decoding and acknowledging each. Tried
        while the subscriptions in memory are none; the step checks Redis's."""
        if self.settings.start_at != "$" or self._subs:
            return False
        if await self.store.skip_unsubscribed():
            return True
        self._subscriptions_changed()  # made by another process: read them for the fan-out
        return False

    async def _retrying(self, step: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await step()
                return
            except StoreUnavailable as exc:
                log.error("webhooks.consume_failed", error=str(exc))
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
        while True:
            subs = await self._current_subscriptions()
            decided = self.outbox.fan_out(entries, subs.values(), self._now())
            version = self._subs_version
            created = await self.store.create_and_ack(decided.deliveries, decided.acknowledge, version=version)
            if created is not None:
                break
            self._subscriptions_changed()  # by another process: fan out again to the subscriptions as they are
        _log_malformed(decided, entries)
        self._expect(decided.deliveries)
        if created:
            self.wake()

    def _expect(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            self.outbox.expect(delivery.subscription_id, delivery.id, delivery.next_attempt_at)

    # ---- the subscriptions, kept in memory --------------------------------------------------------------

    async def _read_subscriptions(self) -> dict[str, Subscription]:
        read_at = time.monotonic()
        version, subs = await self.store.versioned_subscriptions()
        self._subs = {sub.id: sub for sub in subs}
        self._subs_version, self._subs_read_at = version, read_at
        self.outbox.forget_all_but(self._subs.keys())
        return self._subs

    async def _current_subscriptions(self) -> dict[str, Subscription]:
        async with self._subs_lock:  # the consumer and the dispatcher: one read for both
            read_at = self._subs_read_at
            if read_at is None or time.monotonic() - read_at > _SUBSCRIPTIONS_MAX_AGE:
                return await self._read_subscriptions()
            return self._subs

    def _subscriptions_changed(self) -> None:
        self._subs_read_at = None

    # ---- the dispatcher ---------------------------------------------------------------------------------

    async def _dispatch(self, tg: TaskGroup, session: aiohttp.ClientSession) -> None:
        self._dispatching = True
        try:
            while True:
                # A fresh event before looking, so a wake-up that comes while we look is not lost.
                self._wake = wake = anyio.Event()
                try:
                    delay = await self._dispatch_once(tg, session)
                except StoreUnavailable as exc:
                    log.error("webhooks.dispatch_failed", error=str(exc))
                    delay = _RETRY_PAUSE
                except Exception:
                    log.exception("webhooks.dispatch_crashed")  # as in the consumer: never take the process down
                    delay = _RETRY_PAUSE
                if delay > 0:
                    with anyio.move_on_after(delay):
                        await wake.wait()
                    # Attempts ending together are recorded and replaced together: one round trip for the handful
                    # that ended in this while, instead of one or more after each.
                    await anyio.sleep(_DISPATCH_GATHER_SECONDS)
        finally:
            # Stopping: what was handed over is still recorded, and attempts ending from now on record their own.
            self._dispatching = False
            if self._to_record:
                with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                    await self._record_batch(None)  # a failure is each attempt's to log

    async def _dispatch_once(self, tg: TaskGroup, session: aiohttp.ClientSession) -> float:
        """Record the results handed over and start attempts for what is due and may be sent now; returns how long
        to wait before looking again."""
        outbox = self.outbox
        delay = self.settings.poll_interval
        for _ in range(_TAKES_PER_ROUND):
            subs = await self._current_subscriptions()
            now = self._now()
            take: Take | None = None
            if (free := outbox.free()) > 0:
                limits = outbox.limits(subs.values())
                take = Take(
                    version=self._subs_version,
                    limits=limits,
                    candidates=outbox.candidates(limits, now),
                    free=free,
                    now=now,
                    lease_until=outbox.lease_until(now),
                    listing=2 * self.settings.per_subscription,
                )
            elif not self._to_record:
                return delay  # an attempt ending wakes us
            taken = await self._record_batch(take)
            if take is None:
                return delay
            if taken is None:
                self._subscriptions_changed()  # by another process: nothing was claimed under the old ones
                continue
            for delivery in taken.held:
                outbox.started(delivery.subscription_id)
                tg.start_soon(self._attempt, session, subs[delivery.subscription_id], delivery)
            for sub, ids in taken.due.items():
                for ident in ids:
                    outbox.expect(sub, ident, now)
            delay = outbox.next_look(taken.soonest, now)
            if not outbox.another_take(taken.due, subs.values()):
                break
        return delay

    async def _record_batch(self, take: Take | None) -> Taken | None:
        """One round trip: the results handed over so far, then ``take``. The attempts that handed them over learn
        that they are in Redis (or that the write failed); a write that carries results is shielded from
        cancellation, or a request that was made would be sent once more than needed."""
        batch, self._to_record = self._to_record, []
        if not batch:
            return await self.store.take(take) if take is not None else None
        s = self.settings
        items = [(r.delivery, r.line) for r in batch]
        error: Exception | None = None
        taken: Taken | None = None
        recorded = False
        with anyio.CancelScope(shield=True), anyio.move_on_after(_RECORD_TIMEOUT):
            try:
                taken = await self.store.record_and_take(items, take, log_size=s.log_size, ttl=s.delivered_ttl)
                recorded = True
            except Exception as exc:  # each attempt handles it as it handled its own write's failure
                error = exc
        for r in batch:
            r.error, r.recorded = error, recorded
            r.done.set()
        if error is not None:
            raise error
        if not recorded:
            raise StoreUnavailable(f"recording {len(batch)} results took over {_RECORD_TIMEOUT} s")
        return taken

    async def _attempt(self, session: aiohttp.ClientSession, sub: Subscription, delivery: Delivery) -> None:
        handed_over = False
        try:
            if (fence := self._fence()) is not None:
                fence.check()  # claimed before a stall that outlasted the lease: the process now active sends it
            result = await self._post(session, sub, delivery)
            settled = self.outbox.settle(delivery, result, self._now())
            updated = settled.delivery
            waiting = _Recording(updated, settled.line)
            # The request was made: record it even if we are being cancelled, or it is sent once more than needed.
            with anyio.CancelScope(shield=True), anyio.move_on_after(_RECORD_TIMEOUT + 1) as scope:
                if self._dispatching:
                    # The dispatcher's next round trip records it, with the others that end meanwhile; the slot is
                    # free for the attempt that round starts.
                    self._to_record.append(waiting)
                    handed_over = True
                    self.outbox.finished(sub.id)
                    if updated.status == "pending":
                        self.outbox.expect(sub.id, updated.id, updated.next_attempt_at)
                    self.wake()
                    await waiting.done.wait()
                else:
                    await self._record_own(waiting)
                if waiting.error is not None:
                    raise waiting.error
                if settled.disable and waiting.recorded:
                    await self._disable(sub.id, settled.disable)
            if scope.cancelled_caught or not waiting.recorded:
                if waiting in self._to_record:  # not written later either: by then another process may own it
                    self._to_record.remove(waiting)
                log.error("webhooks.record_timed_out", delivery_id=delivery.id)  # the lease brings it back
            log.info(
                "webhooks.attempt",
                delivery_id=delivery.id,
                subscription_id=sub.id,
                type=delivery.type,
                attempt=updated.attempts,
                outcome=settled.outcome,
                status=result.status,
                error=result.error or None,
            )
        except StoreUnavailable as exc:
            # Not recorded: the lease runs out and the delivery is tried again.
            log.error("webhooks.record_failed", delivery_id=delivery.id, error=str(exc))
        except Exception:
            log.exception("webhooks.attempt_crashed", delivery_id=delivery.id)
        finally:
            if not handed_over:
                self.outbox.finished(sub.id)
                self.wake()

    async def _record_own(self, waiting: _Recording) -> None:
        """Record one result on its own: the dispatcher is not running (the service is stopping)."""
        s = self.settings
        try:
            await self.store.record_many([(waiting.delivery, waiting.line)], log_size=s.log_size, ttl=s.delivered_ttl)
        except Exception as exc:
            waiting.error = exc
        else:
            waiting.recorded = True

    async def _post(self, session: aiohttp.ClientSession, sub: Subscription, delivery: Delivery) -> AttemptResult:
        s = self.settings
        body = delivery.body.encode("utf-8")
        started = self._now()
        headers = signature_headers(delivery.id, int(started), body, sub.secret)
        headers.update({"content-type": "application/json", "user-agent": _USER_AGENT})
        status: int | None = None
        error, retry_after = "", None
        try:
            # As the subscriber wrote it, byte for byte (a receiver may check a signed query); a host in another
            # script than ASCII is encoded (IDNA), and the URL with it.
            url = yarl.URL(sub.url, encoded=sub.url.isascii())
        except ValueError:
            return AttemptResult(None, "the URL cannot be requested", None, 0.0)
        try:
            host = self.egress.check_literal(url.raw_host or "")
            if host != url.raw_host:
                url = url.with_host(host)
            # The total bound: the client's time-outs are per phase, and a receiver can trickle a response forever.
            with anyio.fail_after(s.attempt_timeout):
                async with session.post(
                    url, data=body, headers=headers, allow_redirects=False, timeout=self._timeouts
                ) as response:
                    status = response.status
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    await _drain(response)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except TimeoutError:
            error = "timed out"
        except EgressRefused as refused:
            error = str(refused)  # nothing was sent: there is no answer to tell
        except aiohttp.InvalidURL:
            error = "the URL cannot be requested"
        except (aiohttp.ClientError, OSError) as exc:
            error = _no_answer(exc)
        return AttemptResult(status, error, retry_after, round(max(0.0, self._now() - started) * 1000, 1))

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
        await self.egress.check_url(check_url(url))
        sub = Subscription(
            id=f"sub_{secrets.token_hex(8)}",
            url=url,
            secret=check_secret(secret) if secret is not None else generate_secret(),
            events=check_filters(tuple(events)),
            enabled=enabled,
            description=check_description(description),
            created_at=self._now(),
        )
        await self.store.save_subscription(sub)
        self._subscriptions_changed()
        self.wake()
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
            await self.egress.check_url(check_url(url))
            changes["url"] = url
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
        self._subscriptions_changed()
        if updated.enabled:
            self.wake()  # re-enabled: its waiting deliveries may go
        log.info("webhooks.subscription_updated", subscription_id=sub.id, fields=sorted(changes))
        return updated

    async def delete_subscription(self, subscription_id: str) -> None:
        if not await self.store.delete_subscription(subscription_id):
            raise WebhookNotFound(f"no subscription {subscription_id!r}")
        self._subscriptions_changed()
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
            self._subscriptions_changed()
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
        fresh = self.outbox.requeued(delivery, self._now())
        await self.store.requeue(fresh)
        self._expect([fresh])
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
        decided = self.outbox.replayed(entry, targets, self._now(), secrets.token_hex(4))
        _log_malformed(decided, [entry])
        await self.store.create(decided.deliveries)
        self._expect(decided.deliveries)
        self.wake()
        log.info("webhooks.replayed_event", event_id=event_id, deliveries=len(decided.deliveries))
        return decided.deliveries

    async def status(self) -> OutboxStatus:
        """The outbox's figures, in one round trip while the subscriptions kept in memory are current (the version
        read with the figures says so; else they are read again, and the figures too)."""
        while True:
            subs = await self._current_subscriptions()
            version, figures = await self.store.counts(list(subs))
            if version == self._subs_version:
                return OutboxStatus(*figures)
            self._subscriptions_changed()


class _Recording:
    """An attempt's result waiting to be recorded, and how its attempt learns that it was."""

    __slots__ = ("delivery", "done", "error", "line", "recorded")

    def __init__(self, delivery: Delivery, line: DeliveryAttempt) -> None:
        self.delivery, self.line = delivery, line
        self.done = anyio.Event()
        self.error: Exception | None = None
        self.recorded = False


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read the answer's body to its end, so that the connection goes back to the pool for the next delivery (one
    whose response was not read through is closed): without this every delivery opened a TCP connection."""
    seen = 0
    try:
        while chunk := await response.content.readany():
            seen += len(chunk)
            if seen > _BODY_KEPT_ALIVE:
                return  # not worth reading on: the connection is closed, the next delivery opens another
    except (aiohttp.ClientError, OSError):
        return  # the status was answered; a body cut short only costs the connection


def _no_answer(exc: BaseException) -> str:
    """A request that got no answer, in words that name no address: a connection's error carries the address it
    tried, which for a host name is what the name resolved to inside the network."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "could not resolve the host"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        refused = exc.certificate_error
        why = getattr(refused, "verify_message", None) or getattr(refused, "reason", None) or type(refused).__name__
        return f"TLS: the receiver's certificate was refused ({why})"
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"TLS: {getattr(exc.os_error, 'reason', None) or type(exc.os_error).__name__}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"could not connect: {os.strerror(exc.errno) if exc.errno else 'no address answered'}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the receiver closed the connection without answering"
    return f"{type(exc).__name__}: {str(exc)[:200]}" if str(exc) else type(exc).__name__


def _log_malformed(decided: FanOut, entries: Sequence[StreamEntry]) -> None:
    kinds = {entry.id: entry.kind for entry in entries}
    for event_id in decided.malformed:
        log.error("webhooks.bad_event_data", event_id=event_id, kind=kinds.get(event_id, ""))
