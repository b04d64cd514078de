"""The tenant's running processes: a marker key per process, renewed while it runs, and a sorted set of them by
lease expiry (Redis time). A marker found gone at a renewal means Redis lost its data (runtime/presence.py). A
renewal also counts the processes running, so that a process alone pays nothing for the global order of the
queues (runtime/acd.py)."""

from __future__ import annotations

from typing import NamedTuple

from callcenter_ari.store.errors import translating
from callcenter_ari.store.keys import checked
from callcenter_ari.store.redis import Store
from callcenter_ari.store.scripts import Script

# KEYS: the marker, the instances. ARGV: instance id, TTL in milliseconds. Returns {1 if the marker was there, the
# number of processes whose lease runs}.
_RENEW = Script("""
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]) / 1000, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return {existed, redis.call('ZCARD', KEYS[2])}
""")


class Renewal(NamedTuple):
    existed: bool  # the marker was there (Redis kept its data)
    running: int  # processes of the tenant running now, this one included


@translating
class Instances:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def renew(self, instance: str, ttl: float) -> Renewal:
        """Renew this process's marker and lease for ``ttl`` seconds."""
        keys = [self._store.keys.instance(checked(instance, "instance id")), self._store.keys.instances]
        existed, running = await _RENEW.call(self._store.redis, keys, [instance, int(ttl * 1000)])
        return Renewal(bool(existed), int(running))
