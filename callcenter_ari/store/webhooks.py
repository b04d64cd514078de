"""The webhook outbox in Redis: subscriptions, the consumer group on the event stream, deliveries and their log.

Layout (all under the tenant's prefix, names from ``Keys``): a hash of subscriptions; per subscription a sorted set
of pending delivery ids scored by next-attempt time and a capped attempt log; a JSON string per delivery; a sorted
set of dead-lettered ids. Creating a delivery and scheduling it is one Lua step that does nothing if the delivery
exists, so a fan-out repeated after a crash (the stream entry was read but not acknowledged) creates no duplicate.
Claiming a due delivery moves its score a lease ahead in one step, so two workers never send it at once.

Both steps are called by SHA1 (``store/scripts.py``), with no SCRIPT EXISTS round trip before each pipeline; a
pipeline in which Redis did not know a script (it restarted, or its cache was flushed) is sent again with the
scripts' source: the steps are idempotent (a create does nothing if the delivery exists, an acknowledgement twice
is one), and a claim Redis refused as unknown changed nothing.

Under a hot standby's lease the writes are fenced (``store/fenced.py``): a process that lost the node claims,
creates and records no delivery (so it delivers none twice) and changes no subscription. Claims check the token in
their script; the transactions watch it. Reading the group (XREADGROUP, XAUTOCLAIM) is not fenced: it only moves
stream entries into this consumer's pending list, from which the active process takes them back once idle, and
nothing is delivered from them without a fenced write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError, ResponseError

from callcenter_ari.store.codec import members, text
from callcenter_ari.store.errors import translating
from callcenter_ari.store.fenced import FenceSource, unfenced, write
from callcenter_ari.store.keys import Keys, checked
from callcenter_ari.store.scripts import Script
from callcenter_ari.webhooks.model import Delivery, DeliveryAttempt, StreamEntry, Subscription

GROUP = "webhooks"

_encode = msgspec.json.Encoder().encode
_decode_sub = msgspec.json.Decoder(Subscription).decode
_decode_delivery = msgspec.json.Decoder(Delivery).decode
_decode_attempt = msgspec.json.Decoder(DeliveryAttempt).decode

# KEYS: delivery, schedule. ARGV: delivery JSON, score, delivery id.
_CREATE = Script("""
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0
""")

# KEYS: schedule, delivery. ARGV: delivery id, now, lease end. Returns the delivery JSON if we now hold it.
_CLAIM = Script("""
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return false end
local blob = redis.call('GET', KEYS[2])
if not blob then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return false
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return blob
""")


@translating
class WebhookStore:
    def __init__(self, redis: Redis, keys: Keys, *, fence: FenceSource = unfenced) -> None:
        self.redis = redis
        self.keys = keys
        self.fence = fence

    # ---- subscriptions ----------------------------------------------------------------------------------

    async def save_subscription(self, sub: Subscription) -> None:
        key, field = self.keys.webhook_subscriptions, checked(sub.id, "subscription id")
        if (fence := self.fence()) is None:
            await self.redis.hset(key, field, _encode(sub))
        else:
            await write(self.redis, fence, lambda pipe: pipe.hset(key, field, _encode(sub)))

    async def subscription(self, subscription_id: str) -> Subscription | None:
        blob = await self.redis.hget(self.keys.webhook_subscriptions, checked(subscription_id, "subscription id"))
        return _decode_sub(blob) if blob is not None else None

    async def subscriptions(self) -> list[Subscription]:
        blobs = await self.redis.hvals(self.keys.webhook_subscriptions)
        return sorted((_decode_sub(blob) for blob in blobs), key=lambda s: (s.created_at, s.id))

    async def delete_subscription(self, subscription_id: str) -> bool:
        """Remove it with its schedule, its pending deliveries and its log (dead letters stay until replayed)."""
        schedule = self.keys.webhook_schedule(checked(subscription_id, "subscription id"))
        pending = [self.keys.webhook_delivery(i) for i in members(await self.redis.zrange(schedule, 0, -1))]

        def fill(pipe: Pipeline) -> None:
            pipe.hdel(self.keys.webhook_subscriptions, subscription_id)
            pipe.delete(schedule, self.keys.webhook_log(subscription_id), *pending)

        removed, _ = await write(self.redis, self.fence(), fill)
        return bool(removed)

    # ---- the event stream's consumer group ----------------------------------------------------------------

    async def ensure_group(self, start_at: str) -> None:
        try:
            await self.redis.xgroup_create(self.keys.events, GROUP, id=start_at, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read_events(self, consumer: str, *, pending: bool, count: int, block_ms: int) -> list[StreamEntry]:
        """New entries (``pending=False``), or those this consumer read before and never acknowledged."""
        streams: Any = {self.keys.events: "0" if pending else ">"}
        reply: Any = await self.redis.xreadgroup(
            GROUP, consumer, streams, count=count, block=None if pending else block_ms
        )
        if not reply:
            return []
        # RESP2 answers [[stream, entries]], RESP3 {stream: entries}.
        rows = next(iter(reply.values())) if isinstance(reply, dict) else reply[0][1]
        return _entries(rows)

    async def claim_abandoned(self, consumer: str, *, min_idle_ms: int, count: int) -> list[StreamEntry]:
        """Entries another consumer (a process that is gone) read and never acknowledged."""
        reply = await self.redis.xautoclaim(self.keys.events, GROUP, consumer, min_idle_ms, "0-0", count=count)
        return _entries(reply[1])

    async def group_lag(self) -> tuple[int, int]:
        """(entries not yet read by the group, entries read but not acknowledged)."""
        for group in await self.redis.xinfo_groups(self.keys.events):
            if text(group["name"]) == GROUP:
                return int(group.get("lag") or 0), int(group["pending"])
        return 0, 0

    async def event(self, event_id: str) -> StreamEntry | None:
        rows = await self.redis.xrange(self.keys.events, min=event_id, max=event_id, count=1)
        entries = _entries(rows)
        return entries[0] if entries else None

    async def create_and_ack(self, deliveries: Sequence[Delivery], acked: Sequence[str]) -> int:
        """Create the deliveries (those not already there) and acknowledge the entries, in one transaction."""
        fence = self.fence()  # the whole transaction watched on the token: no acknowledgement without its deliveries
        for by_source in (False, True):

            def fill(pipe: Pipeline, by_source: bool = by_source) -> None:
                for delivery in deliveries:
                    schedule = self.keys.webhook_schedule(delivery.subscription_id)
                    keys = [self.keys.webhook_delivery(delivery.id), schedule]
                    args: list[bytes | str] = [_encode(delivery), repr(delivery.next_attempt_at), delivery.id]
                    _CREATE.queue(pipe, keys, args, by_source=by_source)
                if acked:
                    pipe.xack(self.keys.events, GROUP, *acked)

            results = await write(self.redis, fence, fill, raise_on_error=False)
            if not any(isinstance(r, NoScriptError) for r in results):
                break
        for result in results:
            if isinstance(result, Exception):
                raise result
        return sum(int(r) for r in results[: len(deliveries)])

    async def create(self, deliveries: Sequence[Delivery]) -> int:
        return await self.create_and_ack(deliveries, ())

    # ---- delivery ---------------------------------------------------------------------------------------

    async def due(self, limits: dict[str, int], now: float) -> tuple[dict[str, list[str]], float | None]:
        """Up to ``limits[sub]`` due delivery ids per subscription, and the earliest later next-attempt time."""
        subs = list(limits)
        if not subs:
            return {}, None
        pipe = self.redis.pipeline(transaction=False)
        for sub in subs:
            schedule = self.keys.webhook_schedule(sub)
            pipe.zrangebyscore(schedule, "-inf", repr(now), start=0, num=limits[sub])
            pipe.zrangebyscore(schedule, f"({now!r}", "+inf", start=0, num=1, withscores=True)
        replies = await pipe.execute()
        due: dict[str, list[str]] = {}
        soonest: float | None = None
        for index, sub in enumerate(subs):
            ids, later = replies[2 * index], replies[2 * index + 1]
            if ids:
                due[sub] = [text(i) for i in ids]
            if later:
                score = float(later[0][1])
                soonest = score if soonest is None else min(soonest, score)
        return due, soonest

    async def claim(self, claims: Sequence[tuple[str, str]], now: float, lease_until: float) -> list[Delivery]:
        """Take (subscription id, delivery id) pairs that are still due; returns the ones we now hold."""
        if not claims:
            return []
        fence = self.fence()  # each claim checks the token in its script
        pipe = self.redis.pipeline(transaction=False)
        steps = [
            (
                [self.keys.webhook_schedule(sub), self.keys.webhook_delivery(ident)],
                [ident, repr(now), repr(lease_until)],
            )
            for sub, ident in claims
        ]
        for keys, args in steps:
            _CLAIM.queue(pipe, keys, args, fence=fence)
        results = await pipe.execute(raise_on_error=False)
        held = [
            await _CLAIM.retry_if_unknown(self.redis, r, k, a, fence=fence)
            for r, (k, a) in zip(results, steps, strict=True)
        ]
        return [_decode_delivery(blob) for blob in held if blob]

    async def record(self, delivery: Delivery, attempt: DeliveryAttempt, *, log_size: int, ttl: float) -> None:
        """Write an attempt's result: the delivery, its place (schedule, dead letters or nowhere) and the log line."""
        await self.record_many([(delivery, attempt)], log_size=log_size, ttl=ttl)

    async def record_many(
        self, settled: Sequence[tuple[Delivery, DeliveryAttempt]], *, log_size: int, ttl: float
    ) -> None:
        """Several attempts' results in one transaction (fenced under a hot standby): per delivery its record (and
        its new time, or its dead letter), per subscription one ZREM of those that left the schedule, one LPUSH of
        the log lines (in the order given, so the newest is first) and one LTRIM."""

        def fill(pipe: Pipeline) -> None:
            gone: dict[str, list[str]] = {}
            lines: dict[str, list[bytes]] = {}
            for delivery, attempt in settled:
                sub = delivery.subscription_id
                schedule = self.keys.webhook_schedule(sub)
                key = self.keys.webhook_delivery(delivery.id)
                if delivery.status == "delivered":
                    pipe.set(key, _encode(delivery), ex=max(1, int(ttl)))
                    gone.setdefault(sub, []).append(delivery.id)
                elif delivery.status == "dead":
                    pipe.set(key, _encode(delivery))
                    gone.setdefault(sub, []).append(delivery.id)
                    pipe.zadd(self.keys.webhook_dead, {delivery.id: attempt.at})
                else:
                    # XX: if the subscription was deleted meanwhile (taking this delivery with it), bring neither
                    # back.
                    pipe.set(key, _encode(delivery), xx=True)
                    pipe.zadd(schedule, {delivery.id: delivery.next_attempt_at}, xx=True)
                lines.setdefault(sub, []).append(_encode(attempt))
            for sub, ids in gone.items():
                pipe.zrem(self.keys.webhook_schedule(sub), *ids)
            for sub, encoded in lines.items():
                log = self.keys.webhook_log(sub)
                pipe.lpush(log, *encoded)
                pipe.ltrim(log, 0, log_size - 1)

        await write(self.redis, self.fence(), fill)

    # ---- reads and replay -------------------------------------------------------------------------------

    async def delivery(self, delivery_id: str) -> Delivery | None:
        blob = await self.redis.get(self.keys.webhook_delivery(delivery_id))
        return _decode_delivery(blob) if blob is not None else None

    async def log(self, subscription_id: str, limit: int = 50) -> list[DeliveryAttempt]:
        blobs = await self.redis.lrange(self.keys.webhook_log(subscription_id), 0, max(0, limit - 1))
        return [_decode_attempt(blob) for blob in blobs]

    async def dead_letters(self, limit: int = 100) -> list[Delivery]:
        ids: Any = await self.redis.zrevrange(self.keys.webhook_dead, 0, max(0, limit - 1))
        if not ids:
            return []
        blobs = await self.redis.mget([self.keys.webhook_delivery(text(i)) for i in ids])
        return [_decode_delivery(blob) for blob in blobs if blob is not None]

    async def is_dead(self, delivery_id: str) -> bool:
        return await self.redis.zscore(self.keys.webhook_dead, checked(delivery_id, "delivery id")) is not None

    async def requeue(self, delivery: Delivery) -> None:
        """Put a dead-lettered delivery back on its subscription's schedule."""

        def fill(pipe: Pipeline) -> None:
            pipe.set(self.keys.webhook_delivery(delivery.id), _encode(delivery))
            pipe.zrem(self.keys.webhook_dead, delivery.id)
            pipe.zadd(self.keys.webhook_schedule(delivery.subscription_id), {delivery.id: delivery.next_attempt_at})

        await write(self.redis, self.fence(), fill)

    async def dead_count(self) -> int:
        return int(await self.redis.zcard(self.keys.webhook_dead))

    async def pending_count(self, subscription_ids: Sequence[str]) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for sub in subscription_ids:
            pipe.zcard(self.keys.webhook_schedule(sub))
        return sum(int(n) for n in await pipe.execute())


def _entries(rows: Any) -> list[StreamEntry]:
    out: list[StreamEntry] = []
    for ident, fields in rows:
        if not fields:
            # An entry trimmed away while pending comes back empty; it is still returned so it gets acknowledged.
            out.append(StreamEntry(text(ident), "", 0.0, b"{}"))
            continue
        try:
            at = float(fields.get(b"at", b"0"))
        except ValueError:
            at = 0.0
        out.append(StreamEntry(text(ident), text(fields.get(b"kind", b"")), at, fields.get(b"data", b"{}")))
    return out
