"""A node's lease in Redis, for a hot standby: one process acts for the node, the others wait.

The holder key names the instance acting for the node and expires unless renewed; each taking increments the
node's fencing token (``fencing.py``), which the store's writes are checked against. A waiting process says so in
a key of its own, so that a process stopping knows it can hand its calls over instead of draining them. Redis's
time decides every expiry, never a process's clock.

Redis losing its data takes the holder and the token with it: the holder takes the node back at its next renewal
(every quarter of the lease) under the token it had, and a waiting process, finding no token at all, first leaves
it half a lease's time to. The very first start on an empty Redis waits that long too.
"""

from __future__ import annotations

from callcenter_ari.store.codec import text
from callcenter_ari.store.errors import translating
from callcenter_ari.store.keys import checked
from callcenter_ari.store.redis import Store
from callcenter_ari.store.scripts import Script

# KEYS: holder, fence, vacant, waiting. ARGV: instance, lease in ms.
# Returns the new fencing token when taken, 0 when another process holds the node (or may take it back).
_ACQUIRE = Script("""
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
if holder then
  redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[2])
  return 0
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local since = redis.call('GET', KEYS[3])
  if not since then
    redis.call('SET', KEYS[3], now, 'PX', 3 * tonumber(ARGV[2]))
    return 0
  end
  if now - tonumber(since) < tonumber(ARGV[2]) / 2 then return 0 end
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[3])
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
return token
""")

# KEYS: holder, fence. ARGV: instance, token, lease in ms. Returns 1 while the node is still this process's (taken
# back if its lease ran out or Redis lost its data, as long as nobody took it meanwhile), 0 once another has.
_RENEW = Script("""
local holder = redis.call('GET', KEYS[1])
local fence = redis.call('GET', KEYS[2])
if holder == ARGV[1] and fence == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if not holder and (not fence or fence == ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  redis.call('SET', KEYS[2], ARGV[2])
  return 1
end
return 0
""")

# KEYS: holder. ARGV: instance. Gives the node up if this process holds it.
_RELEASE = Script("""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
""")


@translating
class NodeLease:
    def __init__(self, store: Store, node: str, instance: str) -> None:
        keys = store.keys
        self._redis = store.redis
        self.instance = checked(instance, "instance id")
        self.holder_key = keys.node_holder(node)
        self.fence_key = keys.node_fence(node)
        self._vacant = keys.node_vacant(node)
        self._waiting = keys.node_waiting(node)

    async def acquire(self, lease: float) -> int:
        """Take the node for ``lease`` seconds if nobody holds it: the new fencing token, or 0 (and this process
        is marked as waiting)."""
        keys = [self.holder_key, self.fence_key, self._vacant, self._waiting]
        return int(await _ACQUIRE.call(self._redis, keys, [self.instance, _ms(lease)]))

    async def renew(self, token: int, lease: float) -> bool:
        """Keep the node another ``lease`` seconds; False once another process has taken it."""
        keys = [self.holder_key, self.fence_key]
        return bool(await _RENEW.call(self._redis, keys, [self.instance, token, _ms(lease)]))

    async def release(self) -> bool:
        """Give the node up at once (a stop): a waiting process takes it at its next try."""
        return bool(await _RELEASE.call(self._redis, [self.holder_key], [self.instance]))

    async def holder(self) -> str | None:
        value = await self._redis.get(self.holder_key)
        return text(value) if value is not None else None

    async def someone_waiting(self) -> bool:
        """A standby waited for this node within the last lease."""
        return bool(await self._redis.exists(self._waiting))


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
