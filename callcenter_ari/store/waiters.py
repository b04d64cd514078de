"""Callers' places in line, shared by every process of a tenant: the global order's Redis side.

Each waiting call has its score in the queue's sorted set (``Store.queue_add``: priority, then arrival) and, next
to it, who waits there and what serving them takes (``Waiter``: the process, the language, the skills needed), in
a hash per queue; both are staged writes, so a call joining or leaving the line costs no round trip of its own.
A call that joined in this process and was offered an agent at once never had a place written, and leaving the
line writes nothing for it (``joined``); a call of before a restart may have one, and leaving always removes it.

``fronts`` reads, in one script, the first ``depth`` callers of each queue with their details and the processes
whose lease still runs (``store/instances.py``, in Redis time); callers of this process and of processes that are
gone are left out. The read need not be atomic with the hand-out: an agent is still reserved by a versioned write
(``store/agents.py``), so the global order can only delay an offer, never put an agent on two calls.
"""

from __future__ import annotations

import msgspec
import structlog

from callcenter_ari.acd.global_order import Waiter, decode, encode
from callcenter_ari.store.errors import translating
from callcenter_ari.store.redis import Store, queue_score
from callcenter_ari.store.scripts import Script

log = structlog.get_logger(__name__)

DEPTH = 100  # callers read at the front of each queue

# KEYS: the instances, then each queue's sorted set and waiters hash. ARGV: depth. Returns {the processes whose
# lease runs, then per queue the details of its first ``depth`` callers (false for one without)}.
_FRONTS = Script("""
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local out = {redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')}
for i = 2, #KEYS, 2 do
  local ids = redis.call('ZRANGE', KEYS[i], 0, tonumber(ARGV[1]) - 1)
  if #ids > 0 then
    out[#out + 1] = redis.call('HMGET', KEYS[i + 1], unpack(ids))
  else
    out[#out + 1] = {}
  end
end
return out
""")


@translating
class Waiters:
    def __init__(self, store: Store, instance: str) -> None:
        self._store = store
        self.instance = instance
        self._unwritten: set[str] = set()  # calls that joined here and have no place in Redis (yet)

    def joined(self, call_id: str) -> None:
        """The call joined the line in this process: until ``add``, it has no place in Redis to remove."""
        self._unwritten.add(call_id)

    def add(self, waiter: Waiter) -> None:
        """Stage the caller's place in line and what it takes to serve them."""
        self._unwritten.discard(waiter.call_id)
        store = self._store
        store.queue_add(waiter.queue, waiter.call_id, queue_score(waiter.priority, waiter.enqueued_at))
        store.stage("hset", store.keys.waiters(waiter.queue), waiter.call_id, encode(waiter))

    def remove(self, queue: str, call_id: str) -> None:
        if call_id in self._unwritten:
            self._unwritten.discard(call_id)
            return  # offered before it ever waited: nothing of it is in Redis
        store = self._store
        store.queue_remove(queue, call_id)
        store.stage("hdel", store.keys.waiters(queue), call_id)

    async def fronts(self, queues: list[str], depth: int = DEPTH) -> list[Waiter]:
        """The callers at the front of these queues who wait in other processes that still run."""
        keys = [self._store.keys.instances]
        for queue in queues:
            keys += [self._store.keys.queue(queue), self._store.keys.waiters(queue)]
        reply = await _FRONTS.call(self._store.redis, keys, [depth])
        running = {item.decode() if isinstance(item, bytes) else str(item) for item in reply[0]}
        found: list[Waiter] = []
        for details in reply[1:]:
            for raw in details:
                if not raw:
                    continue  # a place whose details were never written (a process of an older version)
                try:
                    waiter = decode(raw)
                except msgspec.DecodeError:
                    log.warning("acd.waiter_unreadable")
                    continue
                if waiter.instance != self.instance and waiter.instance in running:
                    found.append(waiter)
        return found
