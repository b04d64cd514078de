"""The webhook outbox in Redis: subscriptions, the consumer group on the event stream, deliveries and their log.

Layout (all under the tenant's prefix, names from ``Keys``): a hash of subscriptions; per subscription a sorted set
of pending delivery ids scored by next-attempt time and a capped attempt log; a JSON string per delivery; a sorted
set of dead-lettered ids. Creating a delivery and scheduling it is one Lua step that does nothing if the delivery
exists, so a fan-out repeated after a crash (the stream entry was read but not acknowledged) creates no duplicate.
Claiming a due delivery moves its score a lease ahead in one step, so two workers never send it at once.

Every change of the subscriptions sets a new random token (``Keys.webhook_subscriptions_version``, gone with the
last subscription) in the same transaction, so a process can keep them in memory: it reads the token with them,
and the step that claims deliveries (``take``) refuses to claim anything unless the token is still the one read.
Claiming and looking at the schedules are that one script: it claims the candidates it is given (deliveries the
process knows of: it created them, retried them, or the script named them due the time before; a script takes
its keys as ``KEYS``, so the delivery keys it may read must be named by the caller), then names the ids still due
and the earliest next-attempt time. Attempts' results are recorded in the transaction that carries the next take.

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

import secrets
from collections.abc import Sequence
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError, ResponseError

from callcenter_ari.store.codec import members, text
from callcenter_ari.store.errors import NoConsumerGroup, translating
from callcenter_ari.store.fenced import FenceSource, unfenced, write
from callcenter_ari.store.keys import Keys, checked
from callcenter_ari.store.scripts import Script
from callcenter_ari.webhooks.model import Delivery, DeliveryAttempt, StreamEntry, Subscription

GROUP = "webhooks"

_encode = msgspec.json.Encoder().encode
_decode_sub = msgspec.json.Decoder(Subscription).decode
_decode_delivery = msgspec.json.Decoder(Delivery).decode
_decode_attempt = msgspec.json.Decoder(DeliveryAttempt).decode

# KEYS: delivery, schedule[, the subscriptions' version]. ARGV: delivery JSON, score, delivery id[, the version
# expected]. -1 (nothing created) if the subscriptions are no longer those the delivery was made for.
_CREATE = Script("""
if KEYS[3] and (redis.call('GET', KEYS[3]) or '') ~= ARGV[4] then return -1 end
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

# KEYS: the event stream, the subscriptions' version. ARGV: the group, the version expected, the entry ids. As
# ``_CREATE``: -1 (nothing acknowledged) if the subscriptions changed.
_ACK = Script("""
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] then return -1 end
return redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 3))
""")

# KEYS: the event stream, the subscriptions. ARGV: the group. With no subscription at all, the group's read position
# moves to the stream's last entry (what was written so far concerns nobody): 1; 0 if a subscription exists; -1 if
# the group is gone (said here: Redis 6.2 words an error raised inside a script so that NOGROUP is not its first
# word). The count of entries read goes with the move (Redis 7: ENTRIESREAD), or the group's lag would be unknown.
_SKIP_UNSUBSCRIBED = Script("""
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
local found = false
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  for i = 1, #group, 2 do
    if group[i] == 'name' and group[i + 1] == ARGV[1] then found = true end
  end
end
if not found then return -1 end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last, added
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1] end
  if info[i] == 'entries-added' then added = info[i + 1] end
end
if added then
  redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], last, 'ENTRIESREAD', added)
else
  redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], last)
end
return 1
""")

# KEYS: subscriptions, their version. ARGV: a new version. After a subscription went: a new version, or none at
# all once no subscription is left (so that nothing of the outbox stays behind).
_BUMP_AFTER_DELETE = Script("""
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[2], ARGV[1])
else
  redis.call('DEL', KEYS[2])
end
return 0
""")

# KEYS: the subscriptions' version, then each subscription's schedule, then the candidates' delivery keys (the
# first subscription's, the second's, ...). ARGV: the version expected ('' for none), now, lease end, how many to
# claim in all, how many due ids to name per subscription, the number of subscriptions, then per subscription its
# limit, its number of candidates and their ids. Candidates are claimed in turn, one subscription at a time (as
# ``Outbox.pick``), each only if it is still due; one whose record is gone leaves its schedule. Returns {0} if the
# version is not the one expected (nothing claimed), else {1, earliest later score or '', {claimed JSON},
# {per subscription: the ids due now and not claimed}}.
_TAKE = Script("""
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return {0} end
local now, free, listing, n = tonumber(ARGV[2]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local subs, a, k = {}, 7, n + 1
for i = 1, n do
  local s = {limit = tonumber(ARGV[a]), count = tonumber(ARGV[a + 1]), first_arg = a + 2, first_key = k + 1,
             next = 0, taken = 0}
  a = a + 2 + s.count
  k = k + s.count
  subs[i] = s
end
local held, progress = {}, true
while progress and #held < free do
  progress = false
  for i = 1, n do
    if #held >= free then break end
    local s = subs[i]
    while s.taken < s.limit and s.next < s.count do
      local id, key = ARGV[s.first_arg + s.next], s.first_key + s.next
      s.next = s.next + 1
      local score = redis.call('ZSCORE', KEYS[i + 1], id)
      if score and tonumber(score) <= now then
        local blob = redis.call('GET', KEYS[key])
        if blob then
          redis.call('ZADD', KEYS[i + 1], ARGV[3], id)
          held[#held + 1] = blob
          s.taken = s.taken + 1
          progress = true
          break
        end
        redis.call('ZREM', KEYS[i + 1], id)
      end
    end
  end
end
local listed, soonest = {}, false
for i = 1, n do
  listed[i] = redis.call('ZRANGEBYSCORE', KEYS[i + 1], '-inf', ARGV[2], 'LIMIT', 0, listing)
  local later = redis.call('ZRANGEBYSCORE', KEYS[i + 1], '(' .. ARGV[2], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if later[2] and (not soonest or tonumber(later[2]) < tonumber(soonest)) then soonest = later[2] end
end
return {1, soonest or '', held, listed}
""")


class Take(msgspec.Struct, frozen=True, kw_only=True):
    """What to claim: per subscription with room its limit and its candidates (ids, earliest due first), at most
    ``free`` in all, only while the subscriptions' version is still ``version``."""

    version: str
    limits: dict[str, int]
    candidates: dict[str, list[str]]
    free: int
    now: float
    lease_until: float
    listing: int  # due ids to name per subscription, for the next take's candidates


class Taken(msgspec.Struct, frozen=True):
    held: list[Delivery]  # claimed: ours until the lease ends
    due: dict[str, list[str]]  # per subscription, ids still due (not claimed)
    soonest: float | None  # the earliest later next-attempt time


@translating
class WebhookStore:
    def __init__(self, redis: Redis, keys: Keys, *, fence: FenceSource = unfenced) -> None:
        self.redis = redis
        self.keys = keys
        self.fence = fence

    # ---- subscriptions ----------------------------------------------------------------------------------

    async def save_subscription(self, sub: Subscription) -> None:
        key, field = self.keys.webhook_subscriptions, checked(sub.id, "subscription id")

        def fill(pipe: Pipeline) -> None:
            pipe.hset(key, field, _encode(sub))
            pipe.set(self.keys.webhook_subscriptions_version, secrets.token_hex(8))

        await write(self.redis, self.fence(), fill)

    async def subscription(self, subscription_id: str) -> Subscription | None:
        blob = await self.redis.hget(self.keys.webhook_subscriptions, checked(subscription_id, "subscription id"))
        return _decode_sub(blob) if blob is not None else None

    async def subscriptions(self) -> list[Subscription]:
        return (await self.versioned_subscriptions())[1]

    async def versioned_subscriptions(self) -> tuple[str, list[Subscription]]:
        """The subscriptions with their version ('' when there is none), read together."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(self.keys.webhook_subscriptions_version)
            pipe.hvals(self.keys.webhook_subscriptions)
            version, blobs = await pipe.execute()
        subs = sorted((_decode_sub(blob) for blob in blobs), key=lambda s: (s.created_at, s.id))
        return ("" if version is None else text(version)), subs

    async def delete_subscription(self, subscription_id: str) -> bool:
        """Remove it with its schedule, its pending deliveries and its log (dead letters stay until replayed)."""
        schedule = self.keys.webhook_schedule(checked(subscription_id, "subscription id"))
        pending = [self.keys.webhook_delivery(i) for i in members(await self.redis.zrange(schedule, 0, -1))]

        def fill(pipe: Pipeline) -> None:
            pipe.hdel(self.keys.webhook_subscriptions, subscription_id)
            pipe.delete(schedule, self.keys.webhook_log(subscription_id), *pending)
            keys = [self.keys.webhook_subscriptions, self.keys.webhook_subscriptions_version]
            _BUMP_AFTER_DELETE.queue(pipe, keys, [secrets.token_hex(8)], by_source=True)  # rare: no SHA1 first

        removed, *_ = await write(self.redis, self.fence(), fill)
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

    async def skip_unsubscribed(self) -> bool:
        """With no subscription at all, move the group past every entry written so far, unread: True. The check
        and the move are one step, so an entry written after a subscription was made is never skipped. False (and
        nothing moved) if a subscription exists."""
        keys = [self.keys.events, self.keys.webhook_subscriptions]
        moved = await _SKIP_UNSUBSCRIBED.call(self.redis, keys, [GROUP])
        if moved == -1:
            raise NoConsumerGroup(f"the consumer group {GROUP!r} of the event stream is gone")
        return bool(moved)

    async def claim_abandoned(self, consumer: str, *, min_idle_ms: int, count: int) -> list[StreamEntry]:
        """Entries another consumer (a process that is gone) read and never acknowledged."""
        reply = await self.redis.xautoclaim(self.keys.events, GROUP, consumer, min_idle_ms, "0-0", count=count)
        return _entries(reply[1])

    async def group_lag(self) -> tuple[int, int]:
        """(entries not yet read by the group, entries read but not acknowledged)."""
        return _lag(await self.redis.xinfo_groups(self.keys.events))

    async def counts(self, subscription_ids: Sequence[str]) -> tuple[str, tuple[int, int, int, int]]:
        """In one round trip: the subscriptions' version, and the group's lag (unread, unacknowledged), the
        deliveries scheduled for the subscriptions given and the dead letters."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self.keys.webhook_subscriptions_version)
        pipe.xinfo_groups(self.keys.events)
        pipe.zcard(self.keys.webhook_dead)
        for sub in subscription_ids:
            pipe.zcard(self.keys.webhook_schedule(sub))
        version, groups, dead, *scheduled = await pipe.execute()
        unread, unacknowledged = _lag(groups)
        figures = (unread, unacknowledged, sum(int(n) for n in scheduled), int(dead))
        return ("" if version is None else text(version)), figures

    async def event(self, event_id: str) -> StreamEntry | None:
        rows = await self.redis.xrange(self.keys.events, min=event_id, max=event_id, count=1)
        entries = _entries(rows)
        return entries[0] if entries else None

    async def create_and_ack(
        self, deliveries: Sequence[Delivery], acked: Sequence[str], *, version: str | None = None
    ) -> int | None:
        """Create the deliveries (those not already there) and acknowledge the entries, in one transaction; returns
        how many were created. With ``version`` (the subscriptions' the deliveries were made from), only if the
        subscriptions are still those: None (nothing created, nothing acknowledged) if they changed."""
        fence = self.fence()  # the whole transaction watched on the token: no acknowledgement without its deliveries
        checked_at = [] if version is None else [self.keys.webhook_subscriptions_version]
        expected = [] if version is None else [version]
        for by_source in (False, True):

            def fill(pipe: Pipeline, by_source: bool = by_source) -> None:
                for delivery in deliveries:
                    schedule = self.keys.webhook_schedule(delivery.subscription_id)
                    keys = [self.keys.webhook_delivery(delivery.id), schedule, *checked_at]
                    args = [_encode(delivery), repr(delivery.next_attempt_at), delivery.id, *expected]
                    _CREATE.queue(pipe, keys, args, by_source=by_source)
                if acked and version is None:
                    pipe.xack(self.keys.events, GROUP, *acked)
                elif acked:
                    keys = [self.keys.events, self.keys.webhook_subscriptions_version]
                    _ACK.queue(pipe, keys, [GROUP, version, *acked], by_source=by_source)

            results = await write(self.redis, fence, fill, raise_on_error=False)
            if not any(isinstance(r, NoScriptError) for r in results):
                break
        for result in results:
            if isinstance(result, Exception):
                raise result
        if any(int(r) < 0 for r in results):
            return None
        return sum(int(r) for r in results[: len(deliveries)])

    async def create(self, deliveries: Sequence[Delivery]) -> int:
        return await self.create_and_ack(deliveries, ()) or 0

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
        await write(self.redis, self.fence(), lambda pipe: self._queue_records(pipe, settled, log_size, ttl))

    async def take(self, take: Take) -> Taken | None:
        """Claim what ``take`` names (see ``_TAKE``), in one round trip; None if the subscriptions changed since
        the version it gives (nothing claimed: read them again)."""
        keys, args = self._take_step(take)
        fence = self.fence()
        return self._taken(take, await _TAKE.call(self.redis, keys, args, fence=fence))

    async def record_and_take(
        self,
        settled: Sequence[tuple[Delivery, DeliveryAttempt]],
        take: Take | None,
        *,
        log_size: int,
        ttl: float,
    ) -> Taken | None:
        """``record_many`` and then ``take``, in one transaction (one round trip without a standby). The results are
        recorded whatever the take answers; None: the take found the subscriptions changed (or there was none)."""
        if not settled:
            return await self.take(take) if take is not None else None
        if take is None:
            await self.record_many(settled, log_size=log_size, ttl=ttl)
            return None
        fence = self.fence()
        keys, args = self._take_step(take)

        def fill(pipe: Pipeline) -> None:
            self._queue_records(pipe, settled, log_size, ttl)
            _TAKE.queue(pipe, keys, args, fence=fence)

        results = await write(self.redis, fence, fill, raise_on_error=False)
        for result in results[:-1]:
            if isinstance(result, Exception):
                raise result
        # Recorded; a take Redis did not know the script of changed nothing and is sent again with its source.
        return self._taken(take, await _TAKE.retry_if_unknown(self.redis, results[-1], keys, args, fence=fence))

    def _take_step(self, take: Take) -> tuple[list[str], list[bytes | str | int]]:
        subs = list(take.limits)
        keys = [self.keys.webhook_subscriptions_version, *(self.keys.webhook_schedule(sub) for sub in subs)]
        args: list[bytes | str | int] = [
            take.version,
            repr(take.now),
            repr(take.lease_until),
            take.free,
            take.listing,
            len(subs),
        ]
        for sub in subs:
            candidates = take.candidates.get(sub, [])
            keys.extend(self.keys.webhook_delivery(ident) for ident in candidates)
            args.extend((take.limits[sub], len(candidates), *candidates))
        return keys, args

    @staticmethod
    def _taken(take: Take, reply: Any) -> Taken | None:
        if not reply or int(reply[0]) == 0:
            return None
        _, soonest, held, listed = reply
        due = {sub: [text(i) for i in ids] for sub, ids in zip(take.limits, listed, strict=True) if ids}
        return Taken([_decode_delivery(blob) for blob in held], due, float(soonest) if soonest else None)

    def _queue_records(
        self, pipe: Pipeline, settled: Sequence[tuple[Delivery, DeliveryAttempt]], log_size: int, ttl: float
    ) -> None:
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
                # XX: if the subscription was deleted meanwhile (taking this delivery with it), bring neither back.
                pipe.set(key, _encode(delivery), xx=True)
                pipe.zadd(schedule, {delivery.id: delivery.next_attempt_at}, xx=True)
            lines.setdefault(sub, []).append(_encode(attempt))
        for sub, ids in gone.items():
            pipe.zrem(self.keys.webhook_schedule(sub), *ids)
        for sub, encoded in lines.items():
            log = self.keys.webhook_log(sub)
            pipe.lpush(log, *encoded)
            pipe.ltrim(log, 0, log_size - 1)

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


def _lag(groups: Any) -> tuple[int, int]:
    for group in groups:
        if text(group["name"]) == GROUP:
            return int(group.get("lag") or 0), int(group["pending"])
    return 0, 0


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
