"""Callbacks in Redis: each entry, the live ones in order of their place, one live callback per number per queue.

Every change is one script that compares the entry's ``version`` with the one the caller read and writes only if
nothing changed it meanwhile, keeping the indexes in step: a new entry is refused when the number already has a
live callback for the queue (the script answers with that callback's id), an entry that ends leaves the live set
and frees its number. So two processes that see the same callback's turn come both try to move it from due to
dialing, and one of them wins: a callback is claimed once, and only its claimant dials it. While dialing, the
entry names its ``owner`` (the process); a process that finds a dialing entry whose owner's lease
(``store/instances.py``) ran out settles it as interrupted (``orphans``).

Ended entries stay readable for ``KEEP_DAYS`` (listed through ``callbacks_done``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
import structlog

from callcenter_ari.callback.entry import FINAL, Entry
from callcenter_ari.store.codec import members, text
from callcenter_ari.store.errors import translating
from callcenter_ari.store.redis import Store
from callcenter_ari.store.scripts import Script

log = structlog.get_logger(__name__)

KEEP_DAYS = 30
_KEEP_MS = KEEP_DAYS * 86_400 * 1000
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Entry).decode

# KEYS: the queue's pending numbers, the entry, the live set. ARGV: number, id, entry JSON, place.
# Returns "" when created, else the id of the number's live callback for the queue.
_CREATE = Script("""
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return existing end
if redis.call('EXISTS', KEYS[2]) == 1 then return ARGV[2] end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], 'entry', ARGV[3], 'version', 1, 'owner', '')
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
return ''
""")

# KEYS: the entry, the queue's pending numbers, the live set, the done set. ARGV: expected version, entry JSON,
# owner, number, id, 1 if the entry ended (else 0), place, ended at, keep (ms).
# Returns the new version, or {current version, current JSON} when the version did not match.
_UPDATE = Script("""
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[1]) then
  return {version, redis.call('HGET', KEYS[1], 'entry') or ''}
end
version = version + 1
redis.call('HSET', KEYS[1], 'entry', ARGV[2], 'version', version, 'owner', ARGV[3])
if ARGV[6] == '1' then
  if redis.call('HGET', KEYS[2], ARGV[4]) == ARGV[5] then redis.call('HDEL', KEYS[2], ARGV[4]) end
  redis.call('ZREM', KEYS[3], ARGV[5])
  redis.call('ZADD', KEYS[4], ARGV[8], ARGV[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[9])
else
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[5])
end
return version
""")

# KEYS: the entry, the queue's pending numbers, the live set. ARGV: version, entry JSON, owner, number, id, place.
# Writes a live entry back where Redis holds none (it lost its data); returns 1 if written, 0 if one exists.
_RESTORE = Script("""
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'entry', ARGV[2], 'version', ARGV[1], 'owner', ARGV[3])
if not redis.call('HGET', KEYS[2], ARGV[4]) then redis.call('HSET', KEYS[2], ARGV[4], ARGV[5]) end
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
return 1
""")

# KEYS: the instances set. ARGV: instance ids. Returns those whose lease has run out (or who never had one).
_GONE = Script("""
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local gone = {}
for i = 1, #ARGV do
  local expiry = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if not expiry or tonumber(expiry) < now then table.insert(gone, ARGV[i]) end
end
return gone
""")


class Stored(msgspec.Struct, frozen=True):
    """An entry as Redis holds it: the version to name when changing it, and who is connecting it."""

    entry: Entry
    version: int
    owner: str = ""


class Duplicate(Exception):
    """The number has a live callback for the queue already."""

    def __init__(self, existing: str) -> None:
        super().__init__(f"a callback to this number is pending already for this queue ({existing})")
        self.existing = existing


class Conflict(Exception):
    """Someone changed the entry first; ``current`` is what Redis holds now (None if it is gone)."""

    def __init__(self, current: Stored | None) -> None:
        super().__init__("the callback was changed meanwhile")
        self.current = current


@translating
class CallbackStore:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._keys = store.keys

    async def create(self, entry: Entry) -> Stored:
        """Raises Duplicate when the number has a live callback for the queue."""
        keys = [self._keys.callbacks_pending(entry.queue), self._keys.callback(entry.id), self._keys.callbacks_live]
        args = [entry.number, entry.id, _encode(entry), entry.place]
        reply = await _CREATE.call(self._store.redis, keys, args, fence=self._store.fence)
        existing = text(reply)
        if existing:
            raise Duplicate(existing)
        return Stored(entry, 1)

    async def update(self, stored: Stored, entry: Entry, *, owner: str = "") -> Stored:
        """Write ``entry`` over ``stored`` if nobody changed it since; raises Conflict otherwise."""
        if entry.id != stored.entry.id:
            raise ValueError("an update keeps the callback's id")
        keys = [
            self._keys.callback(entry.id),
            self._keys.callbacks_pending(entry.queue),
            self._keys.callbacks_live,
            self._keys.callbacks_done,
        ]
        ended = entry.state in FINAL
        args = [
            stored.version,
            _encode(entry),
            owner,
            entry.number,
            entry.id,
            1 if ended else 0,
            entry.place,
            entry.updated_at,
            _KEEP_MS,
        ]
        result = await _UPDATE.call(self._store.redis, keys, args, fence=self._store.fence)
        if isinstance(result, list):
            version, blob = int(result[0]), result[1]
            raise Conflict(Stored(_decode(blob), version) if blob else None)
        return Stored(entry, int(result), owner)

    async def restore(self, stored: Stored) -> bool:
        """Write a live entry back, at its version, where Redis holds no entry of that id (it lost its data);
        False when it holds one (ended or changed elsewhere: that one stands)."""
        entry = stored.entry
        keys = [self._keys.callback(entry.id), self._keys.callbacks_pending(entry.queue), self._keys.callbacks_live]
        args = [stored.version, _encode(entry), stored.owner, entry.number, entry.id, entry.place]
        return bool(await _RESTORE.call(self._store.redis, keys, args, fence=self._store.fence))

    async def get(self, callback_id: str) -> Stored | None:
        return _stored(await self._store.redis.hgetall(self._keys.callback(callback_id)))

    async def live(self) -> list[Stored]:
        """Every callback not ended, in order of their places."""
        ids = members(await self._store.redis.zrange(self._keys.callbacks_live, 0, -1))
        return await self._many(ids)

    async def ended(self, limit: int = 200) -> list[Stored]:
        """The latest ended callbacks, newest first."""
        ids = members(await self._store.redis.zrevrange(self._keys.callbacks_done, 0, limit - 1))
        return await self._many(ids)

    async def gone_owners(self, owners: Iterable[str]) -> set[str]:
        """Of ``owners`` (process ids), those no longer running: their lease ran out."""
        wanted = sorted(set(owners))
        if not wanted:
            return set()
        return set(members(await _GONE.call(self._store.redis, [self._keys.instances], wanted)))

    async def _many(self, ids: list[str]) -> list[Stored]:
        if not ids:
            return []
        async with self._store.redis.pipeline(transaction=False) as pipe:
            for callback_id in ids:
                pipe.hgetall(self._keys.callback(callback_id))
            rows = await pipe.execute()
        return [stored for stored in map(_stored, rows) if stored is not None]


def _stored(reply: Mapping[Any, Any]) -> Stored | None:
    fields = {text(key): value for key, value in reply.items()}
    if "entry" not in fields:
        return None
    try:
        entry = _decode(fields["entry"])
    except msgspec.DecodeError as exc:  # written by another version: skipped, never fatal
        log.error("callback.unreadable", error=str(exc))
        return None
    return Stored(entry, int(fields.get("version", b"0")), text(fields.get("owner", b"")))
