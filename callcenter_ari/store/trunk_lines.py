"""Trunk lines in Redis: every channel that uses one of a trunk's lines, inbound and outbound, for the whole tenant.

A line is held by a lease, the channel's id (``LineLedger``'s rule: releasing twice frees one line). Taking a
line is one script that counts what every process holds and refuses when the trunk is full, for a call we place
and for a call that arrives on the trunk alike: two processes never overbook an E1 between them, a trunk full of
callers has no line left to dial out on, and a caller past the trunk's capacity is refused (cause 34, so that the
carrier routes the call elsewhere). A trunk found full is told to the event stream once (``trunk.full``), and again
when this process next takes or gives back one of its lines (``trunk.available``): the wallboard's trunk alert.
Each holder records its node, so that after a restart a node drops the lines
of its channels that ended while it was down (``recover``) and never touches another node's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog
from redis.asyncio.client import Pipeline

from callcenter_ari.store.codec import text
from callcenter_ari.store.errors import translated, translating
from callcenter_ari.store.keys import checked
from callcenter_ari.store.redis import Store
from callcenter_ari.store.scripts import Script

log = structlog.get_logger(__name__)

# KEYS: the trunks' line hashes, in preference order. ARGV: the lease, the node, then each trunk's capacity.
# Returns the 1-based index of the trunk whose line was taken (or already held by this lease), 0 if all are full.
_ACQUIRE = Script("""
for i = 1, #KEYS do
  if redis.call('HEXISTS', KEYS[i], ARGV[1]) == 1 then return i end
end
for i = 1, #KEYS do
  if redis.call('HLEN', KEYS[i]) < tonumber(ARGV[i + 2]) then
    redis.call('HSET', KEYS[i], ARGV[1], ARGV[2])
    return i
  end
end
return 0
""")


@translating
class TrunkLines:
    def __init__(
        self,
        store: Store,
        capacities: Mapping[str, int],
        *,
        emit: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self._store = store
        self._keys = store.keys
        self._capacity = dict(capacities)
        self._held: dict[str, str] = {}  # lease -> trunk, for the leases this process took or recovered
        self._emit = emit or store.emit
        self._full: set[str] = set()  # trunks this process found full and has not seen a line of free since

    def known(self, trunk: str) -> bool:
        return trunk in self._capacity

    async def acquire(self, lease: str, trunks: Sequence[str]) -> str | None:
        """A line on the first of ``trunks`` (in preference order) with one free, across every process; None
        when all are full."""
        names = [trunk for trunk in trunks if trunk in self._capacity]
        if not names:
            return None
        keys = [self._keys.trunk_lines(trunk) for trunk in names]
        args: list[str | int] = [checked(lease, "channel id"), self._store.node]
        args += [self._capacity[trunk] for trunk in names]

        def queue(pipe: Pipeline) -> int:
            _ACQUIRE.queue(pipe, keys, args)
            return 1

        [result] = await self._store.execute(queue)
        # Fenced: queued in the store's batch (a fenced transaction), or on its own with the fence in the script.
        index = int(await _ACQUIRE.retry_if_unknown(self._store.redis, result, keys, args, fence=self._store.fence))
        for trunk in names[: index - 1] if index else names:  # those before the one taken were full
            self._now_full(trunk)
        if index == 0:
            return None
        taken = names[index - 1]
        self._held[lease] = taken
        self._now_free(taken)
        return taken

    def release(self, lease: str) -> str | None:
        """Give back the line ``lease`` holds (staged); returns its trunk, or None if it holds none here."""
        trunk = self._held.pop(lease, None)
        if trunk is not None:
            self._store.stage("hdel", self._keys.trunk_lines(trunk), lease)
            self._now_free(trunk)
        return trunk

    def _now_full(self, trunk: str) -> None:
        if trunk not in self._full:
            self._full.add(trunk)
            self._emit("trunk.full", {"trunk": trunk, "lines": self._capacity[trunk]})

    def _now_free(self, trunk: str) -> None:
        if trunk in self._full:
            self._full.discard(trunk)
            self._emit("trunk.available", {"trunk": trunk})

    def write_back(self) -> None:
        """Redis lost its data: the lines this process holds are recorded again (staged)."""
        for lease, trunk in self._held.items():
            self._store.stage("hset", self._keys.trunk_lines(trunk), lease, self._store.node)

    async def busy(self, trunk: str) -> int:
        """Lines of ``trunk`` in use now, by every process."""
        with translated():
            return int(await self._store.redis.hlen(self._keys.trunk_lines(trunk)))

    async def recover(self, channels: set[str]) -> dict[str, int]:
        """After a restart: this node's lines whose channel Asterisk no longer lists are freed; the others are
        held again by this process. Returns the lines in use per trunk."""
        node = self._store.node
        counts: dict[str, int] = {}
        with translated():
            for trunk in self._capacity:
                key = self._keys.trunk_lines(trunk)
                holders = {text(k): text(v) for k, v in (await self._store.redis.hgetall(key)).items()}
                gone = [lease for lease, holder in holders.items() if holder == node and lease not in channels]
                if gone:
                    await self._store.redis.hdel(key, *gone)
                    log.info("trunk.lines_freed", trunk=trunk, lines=len(gone))
                for lease, holder in holders.items():
                    if holder == node and lease in channels:
                        self._held[lease] = trunk
                counts[trunk] = len(holders) - len(gone)
        return counts
