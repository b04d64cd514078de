"""The directory in Redis: agents and queues created, changed or removed through the API, per tenant.

Each entry is the same Struct the TOML file decodes into (``AgentConfig``, ``QueueConfig``), as JSON, under its id;
a removed entry is ``null``, so that an agent or queue the file declares stays removed after a restart.
"""

from __future__ import annotations

from typing import Literal, TypeVar

import msgspec
import structlog
from redis.asyncio import Redis

from callcenter_ari.config import AgentConfig, QueueConfig
from callcenter_ari.store.codec import text
from callcenter_ari.store.errors import translating
from callcenter_ari.store.keys import Keys, checked

log = structlog.get_logger(__name__)

Kind = Literal["agents", "queues"]
Entry = TypeVar("Entry", AgentConfig, QueueConfig)
_encode = msgspec.json.Encoder().encode


@translating
class DirectoryStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def agents(self) -> dict[str, AgentConfig | None]:
        return await self._load("agents", AgentConfig)

    async def queues(self) -> dict[str, QueueConfig | None]:
        return await self._load("queues", QueueConfig)

    async def put(self, kind: Kind, entry_id: str, entry: AgentConfig | QueueConfig | None) -> bytes | None:
        """Store an entry as set through the API (None: removed); returns what was stored before, for ``restore``."""
        key, field = self._keys.directory(kind), checked(entry_id, kind)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hget(key, field)
            pipe.hset(key, field, _encode(entry))
            previous, _ = await pipe.execute()
        return previous  # type: ignore[no-any-return]

    async def restore(self, kind: Kind, entry_id: str, previous: bytes | None) -> None:
        """Put back what ``put`` replaced (a change the board refused after it was stored)."""
        key, field = self._keys.directory(kind), checked(entry_id, kind)
        if previous is None:
            await self._redis.hdel(key, field)
        else:
            await self._redis.hset(key, field, previous)

    async def _load(self, kind: Kind, cls: type[Entry]) -> dict[str, Entry | None]:
        decode = msgspec.json.Decoder(cls | None).decode
        entries: dict[str, Entry | None] = {}
        for raw_id, blob in (await self._redis.hgetall(self._keys.directory(kind))).items():
            entry_id = text(raw_id)
            try:
                entries[entry_id] = decode(blob)
            except msgspec.DecodeError as exc:  # written by another version: left alone, not fatal
                log.error("directory.undecodable", kind=kind, id=entry_id[:64], error=str(exc)[:200])
        return entries
