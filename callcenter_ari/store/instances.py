"""The tenant's running processes: a marker key per process, renewed while it runs, and a sorted set of them by
lease expiry (Redis time). Beside the marker, a witness that outlives any stall by far (a day): found gone at a
renewal, it means Redis lost its data (runtime/presence.py); a marker gone with its witness there means only that
the process stalled past its lease. A renewal also counts the processes running, so that a process alone pays
nothing for the global order of the queues (runtime/acd.py)."""

from __future__ import annotations

from typing import NamedTuple

from callcenter_ari.store.errors import translating
from callcenter_ari.store.keys import checked
from callcenter_ari.store.redis import Store
from callcenter_ari.store.scripts import Script

WITNESS_TTL_MS = 86_400_000

# KEYS: the marker, the instances, the witness. ARGV: instance id, TTL in milliseconds, the witness's TTL in
# milliseconds. Returns {1 if the witness was there, the number of processes whose lease runs}.
_RENEW = Script("""
local existed = redis.call('EXISTS', KEYS[3])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]) / 1000, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return {existed, redis.call('ZCARD', KEYS[2])}
""")


class Renewal(NamedTuple):
    existed: bool  # the witness was there (Redis kept its data)
    running: int  # processes of the tenant running now, this one included


@translating
class Instances:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def renew(self, instance: str, ttl: float) -> Renewal:
        """Renew this process's marker and lease for ``ttl`` seconds; ``existed`` is False if its witness was gone
        (Redis lost its data, or this is the process's first renewal)."""
        keys = self._store.keys
        instance = checked(instance, "instance id")
        marker, witness = keys.instance(instance), keys.instance_witness(instance)
        # Fenced: a process that lost the node does not count among the running (nor keep the ticket numbering and
        # the queues' global order waiting on it).
        existed, running = await _RENEW.call(
            self._store.redis,
            [marker, keys.instances, witness],
            [instance, int(ttl * 1000), WITNESS_TTL_MS],
            fence=self._store.fence,
        )
        return Renewal(bool(existed), int(running))
