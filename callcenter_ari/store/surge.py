"""The tenant's surge announcement in Redis: one JSON value that every process mirrors (runtime/surge.py)."""

from __future__ import annotations

import msgspec
import structlog
from redis.asyncio import Redis

from callcenter_ari.ivr import SurgeAnnouncement
from callcenter_ari.store.errors import translating
from callcenter_ari.store.keys import Keys

log = structlog.get_logger(__name__)

_decode = msgspec.json.Decoder(SurgeAnnouncement).decode
_encode = msgspec.json.Encoder().encode


@translating
class SurgeStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._key = keys.surge

    async def get(self) -> SurgeAnnouncement | None:
        """The announcement as set, or None if none was ever set (or Redis lost it)."""
        blob = await self._redis.get(self._key)
        if blob is None:
            return None
        try:
            return _decode(blob)
        except msgspec.DecodeError as exc:  # written by another version: as if unset, never fatal
            log.error("ivr.surge_unreadable", error=str(exc))
            return None

    async def set(self, announcement: SurgeAnnouncement) -> None:
        await self._redis.set(self._key, _encode(announcement))
