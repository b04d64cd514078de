"""A campaign's leads in Redis, with every change of state made in one Lua step with its indexes and counters.

Layout (``Keys.campaign_part``): a hash lead id -> lead JSON; a hash E.164 -> lead id (a number is in a campaign
once); a sorted set of new and scheduled leads by the time they may be tried (``due``); a sorted set of claimed
leads by the end of their lease (``dialing``); a hash of counters (leads by state, attempts, outcomes, contacts,
dispositions) that the statistics read without a scan.

Every change is compare-and-set on the lead's JSON: the script changes the lead only if it still is what the
caller read and decided on, so a lead claimed by one dialer is skipped by another, across processes and restarts.
Under a hot standby's lease each step checks the node's fencing token in its script (``store/scripts.py``): a
process that lost the node claims, releases and settles no lead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import msgspec
from redis.asyncio import Redis

from callcenter_ari.campaigns.model import Lead, LeadState
from callcenter_ari.store.codec import text
from callcenter_ari.store.errors import translating
from callcenter_ari.store.fenced import FenceSource, unfenced, write
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.scripts import Script

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Lead).decode

# KEYS: leads, numbers, due, stats, do-not-call, seen (a dry run's scratch hash; the numbers hash otherwise).
# ARGV: dry ("1"/"0"), now, the leads as lines of "<lead id> TAB <number> TAB <lead JSON>" (one argument: a
# thousand leads cost one string to send, not three thousand; JSON escapes tabs and line breaks in strings).
# Returns per lead: "" added (or would be), "!dnc" on the do-not-call list, or the lead id that has the number.
_ADD = Script(r"""
local dry = ARGV[1] == '1'
local out, added = {}, 0
for id, number, lead in string.gmatch(ARGV[3], '([^\t\n]+)\t([^\t\n]+)\t([^\n]+)') do
  local existing = redis.call('HGET', KEYS[2], number)
  if not existing and dry then existing = redis.call('HGET', KEYS[6], number) end
  if redis.call('HEXISTS', KEYS[5], number) == 1 then
    out[#out + 1] = '!dnc'
  elseif existing then
    out[#out + 1] = existing
  else
    if dry then
      redis.call('HSET', KEYS[6], number, id)
    else
      redis.call('HSET', KEYS[2], number, id)
      redis.call('HSET', KEYS[1], id, lead)
      redis.call('ZADD', KEYS[3], ARGV[2], id)
      added = added + 1
    end
    out[#out + 1] = ''
  end
end
if added > 0 then
  redis.call('HINCRBY', KEYS[4], 'leads', added)
  redis.call('HINCRBY', KEYS[4], 'state:new', added)
end
return out
""")

# KEYS: leads, due, dialing, stats, abandoned numbers.
# ARGV: lead id, expected JSON, new JSON, old state, new state, due score ("" leaves due), lease end ("" leaves
# dialing), abandoned number ("" none), its time, then (counter, increment) pairs. Returns 1, or 0 if the lead
# changed meanwhile.
_SWAP = Script("""
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[6] == '' then redis.call('ZREM', KEYS[2], ARGV[1]) else redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1]) end
if ARGV[7] == '' then redis.call('ZREM', KEYS[3], ARGV[1]) else redis.call('ZADD', KEYS[3], ARGV[7], ARGV[1]) end
if ARGV[4] ~= ARGV[5] then
  redis.call('HINCRBY', KEYS[4], 'state:' .. ARGV[4], -1)
  redis.call('HINCRBY', KEYS[4], 'state:' .. ARGV[5], 1)
end
if ARGV[8] ~= '' then
  redis.call('ZADD', KEYS[5], ARGV[9], ARGV[8])
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', tonumber(ARGV[9]) - 691200)  -- forgotten after 8 days
end
for i = 10, #ARGV, 2 do redis.call('HINCRBY', KEYS[4], ARGV[i], ARGV[i + 1]) end
return 1
""")

# KEYS: leads, due, dialing, stats, do-not-call, abandoned numbers, the day's call counter.
# ARGV: quota (-1: none), counter lifetime, abandoned since, then (lead id, expected JSON, claimed JSON, number,
# lease end, old state) per lead. Returns per lead: ok, quota, changed, dnc or abandoned.
_CLAIM = Script("""
local quota, used, claimed = tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[7]) or '0'), 0
local out = {}
for i = 4, #ARGV, 6 do
  local id, number = ARGV[i], ARGV[i + 3]
  local abandoned = redis.call('ZSCORE', KEYS[6], number)
  if quota >= 0 and used + claimed >= quota then
    out[#out + 1] = 'quota'
  elseif redis.call('HGET', KEYS[1], id) ~= ARGV[i + 1] then
    out[#out + 1] = 'changed'
  elseif redis.call('HEXISTS', KEYS[5], number) == 1 then
    out[#out + 1] = 'dnc'
  elseif abandoned and tonumber(abandoned) > tonumber(ARGV[3]) then
    out[#out + 1] = 'abandoned'
  else
    redis.call('HSET', KEYS[1], id, ARGV[i + 2])
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZADD', KEYS[3], ARGV[i + 4], id)
    redis.call('HINCRBY', KEYS[4], 'state:' .. ARGV[i + 5], -1)
    redis.call('HINCRBY', KEYS[4], 'state:dialing', 1)
    claimed = claimed + 1
    out[#out + 1] = 'ok'
  end
end
if claimed > 0 then
  redis.call('INCRBY', KEYS[7], claimed)
  redis.call('EXPIRE', KEYS[7], ARGV[2])
end
return out
""")

# KEYS: leads, numbers, due, dialing, stats. ARGV: lead id, number, lead JSON, due score ("" none), lease end (""
# none), then (counter, increment) pairs. Writes a lead back where Redis holds none of that id (it lost its data),
# with its indexes and its share of the counters; returns 1 if written, 0 if Redis holds one.
_RESTORE = Script("""
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if not redis.call('HGET', KEYS[2], ARGV[2]) then redis.call('HSET', KEYS[2], ARGV[2], ARGV[1]) end
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1]) end
if ARGV[5] ~= '' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1]) end
for i = 6, #ARGV, 2 do redis.call('HINCRBY', KEYS[5], ARGV[i], ARGV[i + 1]) end
return 1
""")


@translating
class LeadStore:
    def __init__(self, redis: Redis, keys: Keys, *, fence: FenceSource = unfenced) -> None:
        self.redis = redis
        self.keys = keys
        self._fence = fence

    def part(self, campaign_id: str, part: str) -> str:
        return self.keys.campaign_part(campaign_id, part)

    async def add(self, campaign_id: str, leads: Sequence[Lead], now: float, *, seen: str = "") -> list[str]:
        """Add new leads (with ``seen``, a dry run's scratch hash: only check them). Per lead: "" added, "!dnc" on
        the do-not-call list, or the id of the lead that has the number already."""
        if not leads:
            return []
        part = self.part
        keys = [part(campaign_id, "leads"), part(campaign_id, "numbers"), part(campaign_id, "due")]
        keys += [part(campaign_id, "stats"), self.keys.do_not_call, seen or part(campaign_id, "numbers")]
        lines = b"\n".join(b"%s\t%s\t%s" % (lead.id.encode(), lead.number.encode(), _encode(lead)) for lead in leads)
        args: list[Any] = ["1" if seen else "0", repr(now), lines]
        return [text(r) for r in await _ADD.call(self.redis, keys, args, fence=self._fence())]

    async def get(self, campaign_id: str, lead_id: str) -> Lead | None:
        blob = await self.redis.hget(self.part(campaign_id, "leads"), lead_id)
        return _decode(blob) if blob is not None else None

    async def get_many(self, campaign_id: str, lead_ids: Sequence[str]) -> list[Lead | None]:
        if not lead_ids:
            return []
        blobs = await self.redis.hmget(self.part(campaign_id, "leads"), list(lead_ids))
        return [_decode(blob) if blob is not None else None for blob in blobs]

    async def by_number(self, campaign_id: str, number: str) -> Lead | None:
        lead_id = await self.redis.hget(self.part(campaign_id, "numbers"), number)
        return await self.get(campaign_id, text(lead_id)) if lead_id is not None else None

    async def page(self, campaign_id: str, cursor: int, count: int) -> tuple[list[Lead], int]:
        """About ``count`` leads from ``cursor`` on, in no particular order, and the next cursor (0: the end)."""
        scanned: Any = await self.redis.hscan(self.part(campaign_id, "leads"), cursor, count=count)
        nxt, found = scanned
        return [_decode(blob) for blob in found.values()], int(nxt)

    async def scan(self, campaign_id: str, batch: int = 1000) -> AsyncIterator[list[Lead]]:
        """Every lead, a batch at a time (for the export); bounded memory whatever the campaign's size."""
        cursor = 0
        while True:
            leads, cursor = await self.page(campaign_id, cursor, batch)
            if leads:
                yield leads
            if cursor == 0:
                return

    async def swap(
        self,
        campaign_id: str,
        old: Lead,
        new: Lead,
        counters: Mapping[str, int] | None = None,
        *,
        abandoned_at: float | None = None,
    ) -> bool:
        """Replace ``old`` by ``new`` if the lead is still ``old``; the indexes follow ``new``'s state."""
        keys = [self.part(campaign_id, p) for p in ("leads", "due", "dialing", "stats")] + [self.keys.abandoned_numbers]
        due = repr(new.next_at) if new.state in ("new", "scheduled") else ""
        lease = repr(new.lease_until) if new.state == "dialing" else ""
        abandoned = [new.number, repr(abandoned_at)] if abandoned_at is not None else ["", ""]
        args: list[Any] = [new.id, _encode(old), _encode(new), old.state, new.state, due, lease, *abandoned]
        for counter, increment in (counters or {}).items():
            args += [counter, increment]
        return bool(await _SWAP.call(self.redis, keys, args, fence=self._fence()))

    async def claim(
        self,
        campaign_id: str,
        pairs: Sequence[tuple[Lead, Lead]],
        *,
        day_key: str,
        quota: int | None,
        abandoned_since: float,
    ) -> list[str]:
        """Claim each (read, claimed) pair unless it changed, is on the do-not-call list, was abandoned since
        ``abandoned_since`` or the day's ``quota`` is used up; per pair: ok, changed, dnc, abandoned or quota."""
        if not pairs:
            return []
        keys = [self.part(campaign_id, p) for p in ("leads", "due", "dialing", "stats")]
        keys += [self.keys.do_not_call, self.keys.abandoned_numbers, day_key]
        args: list[Any] = [-1 if quota is None else quota, 3 * 86400, repr(abandoned_since)]
        for old, new in pairs:
            args += [old.id, _encode(old), _encode(new), old.number, repr(new.lease_until), old.state]
        return [text(r) for r in await _CLAIM.call(self.redis, keys, args, fence=self._fence())]

    async def restore(self, campaign_id: str, lead: Lead, counters: Mapping[str, int]) -> bool:
        """Write back a lead a dialer holds (claimed, its call in progress) where Redis holds none of that id (it
        lost its data), in its indexes, adding ``counters`` (the lead's share: ``lead_counters``); False when
        Redis holds one (another process wrote it back first, or it changed since: that one stands)."""
        keys = [self.part(campaign_id, p) for p in ("leads", "numbers", "due", "dialing", "stats")]
        due = repr(lead.next_at) if lead.state in ("new", "scheduled") else ""
        lease = repr(lead.lease_until) if lead.state == "dialing" else ""
        args: list[Any] = [lead.id, lead.number, _encode(lead), due, lease]
        for counter, increment in counters.items():
            args += [counter, increment]
        return bool(await _RESTORE.call(self.redis, keys, args, fence=self._fence()))

    async def due(self, campaign_id: str, now: float, count: int) -> list[str]:
        found: Any = await self.redis.zrangebyscore(self.part(campaign_id, "due"), "-inf", repr(now), 0, count)
        return [text(i) for i in found]

    async def lapsed(self, campaign_id: str, now: float, count: int) -> list[str]:
        """Claimed leads whose lease ended at or before ``now``."""
        found: Any = await self.redis.zrangebyscore(self.part(campaign_id, "dialing"), "-inf", repr(now), 0, count)
        return [text(i) for i in found]

    async def counters(self, campaign_id: str) -> dict[str, int]:
        raw = await self.redis.hgetall(self.part(campaign_id, "stats"))
        return {text(k): int(v) for k, v in raw.items()}

    async def counters_of(self, campaign_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """The counters of each campaign, in one round trip."""
        if not campaign_ids:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for campaign_id in campaign_ids:
                pipe.hgetall(self.part(campaign_id, "stats"))
            found = await pipe.execute()
        return {i: {text(k): int(v) for k, v in raw.items()} for i, raw in zip(campaign_ids, found, strict=True)}

    async def calls_on(self, day_key: str) -> int:
        return int(await self.redis.get(day_key) or 0)

    async def give_back_call(self, day_key: str) -> None:
        """A claimed lead released undialled does not count against the day's limit."""
        if (fence := self._fence()) is None:
            await self.redis.decr(day_key)
        else:
            await write(self.redis, fence, lambda pipe: pipe.decr(day_key))

    async def on_dnc(self, numbers: Sequence[str]) -> list[bool]:
        if not numbers:
            return []
        found = await self.redis.hmget(self.keys.do_not_call, list(numbers))
        return [value is not None for value in found]

    async def abandoned(self, numbers: Sequence[str]) -> list[float | None]:
        if not numbers:
            return []
        return list(await self.redis.zmscore(self.keys.abandoned_numbers, list(numbers)))

    def all_parts(self, campaign_id: str) -> list[str]:
        return [self.part(campaign_id, p) for p in ("leads", "numbers", "due", "dialing", "stats", "imports", "ledger")]


def lead_counters(lead: Lead, success: Callable[[str], bool]) -> dict[str, int]:
    """The counters one lead accounts for (``stats``): itself, its state, its attempts, their outcomes, contacts
    and dispositions (``success``: whether a disposition code counts as a success)."""
    counters = {"leads": 1, f"state:{lead.state}": 1}
    for attempt in lead.attempts:
        for counter in ("attempts", f"outcome:{attempt.outcome}"):
            counters[counter] = counters.get(counter, 0) + 1
        if attempt.outcome == "answered":
            counters["contacts"] = counters.get("contacts", 0) + 1
        if attempt.disposition:
            key = f"disposition:{attempt.disposition}"
            counters[key] = counters.get(key, 0) + 1
            if success(attempt.disposition):
                counters["successes"] = counters.get("successes", 0) + 1
    return counters


def state_counts(counters: Mapping[str, int], states: Sequence[LeadState]) -> dict[str, int]:
    return {state: counters.get(f"state:{state}", 0) for state in states}
