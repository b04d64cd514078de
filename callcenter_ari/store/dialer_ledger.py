"""The abandon ledger of each campaign in Redis: every entry the pacer records (a person connected or abandoned, a
machine verdict), appended in order, read back whole when a pacer starts (after a restart, or in another process)
and for the campaign's figures. One list per campaign (``Keys.campaign_part(id, "ledger")``), JSON entries.

Entries older than every rule's period are of no use to the ledger; the list is trimmed to ``KEEP`` entries, far
more than 30 days of any campaign this process could dial (at 3 % a pause comes long before).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from callcenter_ari.dialer.messages import Recorded
from callcenter_ari.store.errors import translating
from callcenter_ari.store.fenced import FenceSource, unfenced, write
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.scripts import Script

KEEP = 2_000_000
_BATCH = 4000

_encode = msgspec.json.Encoder().encode

# KEYS: the ledger. ARGV: its entries. Written only where Redis holds no ledger (it lost its data); 1 if written.
_RESTORE = Script("""
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('RPUSH', KEYS[1], unpack(ARGV))
return 1
""")
_decode = msgspec.json.Decoder(Recorded).decode


@translating
class DialerLedger:
    def __init__(self, redis: Redis, keys: Keys, *, fence: FenceSource = unfenced) -> None:
        """``fence``: under a hot standby's lease, an entry is appended only by the process holding the node (one
        that lost it would count a connection or an abandon twice)."""
        self.redis = redis
        self.keys = keys
        self._fence = fence

    async def append(self, campaign_id: str, entry: Recorded) -> None:
        key = self.keys.campaign_part(campaign_id, "ledger")

        def fill(pipe: Pipeline) -> None:
            pipe.rpush(key, _encode(entry))
            pipe.ltrim(key, -KEEP, -1)

        await write(self.redis, self._fence(), fill, transaction=False)

    async def restore(self, campaign_id: str, entries: Sequence[Recorded]) -> bool:
        """Write back the entries a pacer holds where Redis holds no ledger for the campaign (it lost its data);
        False when it holds one (another process wrote its own back first: that one stands)."""
        if not entries:
            return False
        key = self.keys.campaign_part(campaign_id, "ledger")
        written = 0
        for start in range(0, len(entries), _BATCH):  # Lua's unpack() takes a few thousand arguments at most
            batch = [_encode(entry) for entry in entries[start : start + _BATCH]]
            if start == 0:
                written = int(await _RESTORE.call(self.redis, [key], batch))
                if not written:
                    return False
            else:
                await self.redis.rpush(key, *batch)
        return bool(written)

    async def entries(self, campaign_id: str, since: float = 0.0) -> list[Recorded]:
        raw = await self.redis.lrange(self.keys.campaign_part(campaign_id, "ledger"), 0, -1)
        entries = [_decode(item) for item in raw]
        return [entry for entry in entries if entry.at >= since]
