"""Agents in Redis, where their state has its one authority, and the tenant's seats.

Every change of an agent is one script that checks the version the writer last saw: Redis refuses a write whose
writer missed a change another process made (``Conflict``, with what Redis holds, for the board to adopt). So two
processes never both reserve an agent, and nothing overwrites a newer state with an older one. A write that logs
an agent in takes a seat in the same step, within the tenant's limit, whichever way the agent came in (API,
feature code, persistent line, configuration, directory); logging out frees it. Seats are leases that running
processes renew, so the seats of agents left logged in by processes that all died run out on their own.

Every accepted write is appended to a capped stream (``agents:changes``) that every process reads
(``changes``): how a board learns that an agent was freed or taken elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import msgspec
from redis.asyncio.client import Pipeline

from callcenter_ari.acd.records import AgentRecord
from callcenter_ari.store.codec import entries, read_entries, text
from callcenter_ari.store.errors import translated, translating
from callcenter_ari.store.keys import checked
from callcenter_ari.store.redis import Store
from callcenter_ari.store.scripts import Script

SEAT_LEASE_SECONDS = 30.0
CHANGES_MAXLEN = 10_000

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(AgentRecord).decode

# KEYS: the agent's hash, the agents set, the seats, the changes stream.
# ARGV: agent id, expected version, new state, call id, record JSON (at the new version), seat limit ('' for none),
# seat lease seconds, origin.
# Returns {1, version} when written, {0, current record or ''} when the version moved on, {2, current record} when
# logging in (from logged out, as Redis has it) would exceed the seat limit. An agent already logged in keeps a
# seat whatever the count: a call in progress is never refused for a lease that ran out while every process was down.
_WRITE = Script("""
local current = redis.call('HMGET', KEYS[1], 'version', 'state', 'record')
local version = tonumber(current[1]) or 0
if version ~= tonumber(ARGV[2]) then return {0, current[3] or ''} end
local state = ARGV[3]
if state == 'logged_out' then
  redis.call('ZREM', KEYS[3], ARGV[1])
else
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  local logging_in = (current[2] or 'logged_out') == 'logged_out'
  if logging_in and ARGV[6] ~= '' and not redis.call('ZSCORE', KEYS[3], ARGV[1]) then
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
    if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[6]) then return {2, current[3] or ''} end
  end
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[7]), ARGV[1])
end
redis.call('HSET', KEYS[1], 'version', version + 1, 'state', state, 'call_id', ARGV[4], 'record', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', 'origin', ARGV[8], 'record', ARGV[5])
return {1, version + 1}
""")

# KEYS: the seats. ARGV: lease seconds, seat limit ('' for none), then the ids of agents logged in. Renews each
# agent's lease, or takes a seat for one whose lease ran out (all processes were down); returns those refused.
_RENEW = Script("""
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local refused = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[1], id) or ARGV[2] == '' or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), id)
  else
    table.insert(refused, id)
  end
end
return refused
""")


class Written(msgspec.Struct, frozen=True):
    """The write took: the record is at ``version`` now."""

    agent_id: str
    version: int


class Refused(msgspec.Struct, frozen=True):
    """Redis kept what it had: ``conflict`` (another writer came first) or ``seat_limit``. ``current`` is the
    record Redis holds, or None when it holds none (a new agent, or Redis lost its data)."""

    agent_id: str
    why: Literal["conflict", "seat_limit"]
    current: AgentRecord | None


Outcome = Written | Refused


class Change(msgspec.Struct, frozen=True):
    """An agent write seen on the changes stream."""

    origin: str
    record: AgentRecord


@translating
class AgentStore:
    def __init__(self, store: Store, *, origin: str, seat_limit: int | None, lease: float = SEAT_LEASE_SECONDS) -> None:
        """``origin``: this process's instance id, written with each change so it can skip its own."""
        self._store = store
        self._keys = store.keys
        self.origin = checked(origin, "instance id")
        self.seat_limit = seat_limit
        self.lease = lease

    async def write(self, records: Sequence[AgentRecord]) -> list[Outcome]:
        """Write each record over the version it carries (the one its writer last saw), after everything staged
        in the store, with the store's next batch (``Store.execute_later``: the ACD's rounds and the flusher's
        batches share their round trips). A record written gets its new version."""
        calls = [self._args(record) for record in records]

        def queue(pipe: Pipeline) -> int:
            for keys, args in calls:
                _WRITE.queue(pipe, keys, args)
            return len(calls)

        results = await self._store.execute_later(queue)
        outcomes: list[Outcome] = []
        for record, (keys, args), result in zip(records, calls, results, strict=True):
            # Queued in the store's batch, fenced with it; a script Redis did not know is sent again on its own,
            # fenced in the script then.
            reply = await _WRITE.retry_if_unknown(self._store.redis, result, keys, args, fence=self._store.fence)
            code, value = int(reply[0]), reply[1]
            if code == 1:
                record.version = int(value)
                outcomes.append(Written(record.agent_id, record.version))
            else:
                current = _decode(value) if value else None
                outcomes.append(Refused(record.agent_id, "conflict" if code == 0 else "seat_limit", current))
        return outcomes

    def _args(self, record: AgentRecord) -> tuple[list[str], list[Any]]:
        agent_id = record.agent_id
        keys = [self._keys.agent(agent_id), self._keys.agents, self._keys.seats, self._keys.agent_changes]
        blob = _encode(msgspec.structs.replace(record, version=record.version + 1))
        limit = "" if self.seat_limit is None else str(self.seat_limit)
        args = [agent_id, record.version, record.state, record.call_id, blob, limit, self.lease, self.origin]
        return keys, [*args, CHANGES_MAXLEN]

    async def renew_seats(self, agent_ids: Sequence[str]) -> list[str]:
        """Renew the seat leases of these logged-in agents (taking seats again for any that ran out); returns the
        agents refused a seat because the limit is reached meanwhile."""
        if not agent_ids:
            return []
        limit = "" if self.seat_limit is None else str(self.seat_limit)
        with translated():
            # Fenced: a process that lost the node keeps no seat taken for agents it no longer serves.
            args = [self.lease, limit, *agent_ids]
            refused = await _RENEW.call(self._store.redis, [self._keys.seats], args, fence=self._store.fence)
        return [agent_id.decode() if isinstance(agent_id, bytes) else agent_id for agent_id in refused]

    async def seats_taken(self) -> int:
        """Agents holding a seat now (a hint for refusing early; the write itself decides)."""
        with translated():
            seats = self._keys.seats
            now = (await self._store.redis.time())[0]
            return int(await self._store.redis.zcount(seats, now, "+inf"))

    async def read_all(self) -> list[AgentRecord]:
        """Every agent Redis holds, at its version."""
        with translated():
            ids = sorted(await self._store.redis.smembers(self._keys.agents))
            pipe = self._store.redis.pipeline(transaction=False)
            for agent_id in ids:
                pipe.hget(self._keys.agent(text(agent_id)), "record")
            blobs = await pipe.execute()
        return [_decode(blob) for blob in blobs if blob is not None]

    async def read_figures(self, windows: dict[str, int]) -> tuple[dict[str, int], dict[str, list[float]]]:
        """The round-robin positions per queue, and each queue's latest handle times (``windows``: how many)."""
        redis, keys = self._store.redis, self._keys
        positions = {text(queue): int(at) for queue, at in (await redis.hgetall(keys.round_robin)).items()}
        times = {q: [float(s) for s in await redis.lrange(keys.handle_times(q), -n, -1)] for q, n in windows.items()}
        return positions, times

    async def head(self) -> str:
        """The id of the newest change: read changes after it to miss none from now on."""
        with translated():
            newest = entries(await self._store.redis.xrevrange(self._keys.agent_changes, count=1))
        return newest[0][0] if newest else "0-0"

    async def changes(self, after: str, *, block_ms: int, count: int = 1000) -> tuple[str, list[Change]]:
        """Changes after stream id ``after`` (waiting up to ``block_ms`` for one); returns the last id read."""
        with translated():
            reply = await self._store.redis.xread({self._keys.agent_changes: after}, count=count, block=block_ms)
        changes: list[Change] = []
        for ident, fields in read_entries(reply):
            after = ident
            changes.append(Change(fields[b"origin"].decode(), _decode(fields[b"record"])))
        return after, changes
