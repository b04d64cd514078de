"""The tenant's do-not-call list: one hash, E.164 number -> who added it, when and why.

Every campaign of the tenant checks it at import and again in the claim right before a lead is dialled (the claim
script reads the same hash), so a number added during a campaign is not called again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from redis.asyncio import Redis

from callcenter_ari.store.errors import translating
from callcenter_ari.store.keys import Keys

_encode = msgspec.json.Encoder().encode


class DncEntry(msgspec.Struct, frozen=True, kw_only=True):
    number: str  # E.164
    added_at: float
    by: str = ""  # the token's name, "import <id>", or "disposition <campaign>/<lead>"
    reason: str = ""


_decode = msgspec.json.Decoder(DncEntry).decode


@translating
class DoNotCallList:
    def __init__(self, redis: Redis, keys: Keys, key: str = "") -> None:
        """``key``: another hash of the same shape (a dry run's scratch list)."""
        self.redis = redis
        self.key = key or keys.do_not_call

    async def add(self, entries: Sequence[DncEntry]) -> list[bool]:
        """Add each entry unless its number is listed already (the first entry is kept); True for the new ones."""
        if not entries:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.hsetnx(self.key, entry.number, _encode(entry))
            return [bool(added) for added in await pipe.execute()]

    async def listed(self, numbers: Sequence[str]) -> list[bool]:
        if not numbers:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for number in numbers:
                pipe.hexists(self.key, number)
            return [bool(found) for found in await pipe.execute()]

    async def get(self, number: str) -> DncEntry | None:
        blob = await self.redis.hget(self.key, number)
        return _decode(blob) if blob is not None else None

    async def remove(self, number: str) -> bool:
        return bool(await self.redis.hdel(self.key, number))

    async def count(self) -> int:
        return int(await self.redis.hlen(self.key))

    async def page(self, cursor: int, count: int) -> tuple[list[DncEntry], int]:
        scanned: Any = await self.redis.hscan(self.key, cursor, count=count)
        nxt, found = scanned
        return sorted((_decode(blob) for blob in found.values()), key=lambda e: e.number), int(nxt)
