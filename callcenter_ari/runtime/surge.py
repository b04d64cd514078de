"""The tenant's surge announcement: set by a supervisor, read by every new call's IVR.

Redis holds it (several processes serve one tenant); each process keeps a mirror refreshed every second, so a
new call never waits on Redis for it and a change reaches every process within a second. Switching it off
affects the next caller, never one already listening.
"""

from __future__ import annotations

import anyio
import msgspec
import structlog
from anyio.abc import TaskStatus
from redis.asyncio import Redis
from redis.exceptions import RedisError

from callcenter_ari.ivr import SurgeAnnouncement
from callcenter_ari.ivr.checks import surge_problems
from callcenter_ari.store.keys import Keys

log = structlog.get_logger(__name__)

_decode = msgspec.json.Decoder(SurgeAnnouncement).decode
_encode = msgspec.json.Encoder().encode

REFRESH_SECONDS = 1.0


class InvalidSurge(ValueError):
    """An announcement that cannot be played; ``problems`` are (field, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems


class SurgeService:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._key = keys.surge
        self._current = SurgeAnnouncement()

    def current(self) -> SurgeAnnouncement:
        return self._current

    async def set(self, announcement: SurgeAnnouncement) -> None:
        await self._redis.set(self._key, _encode(announcement))
        self._current = announcement
        log.info("ivr.surge_changed", active=announcement.active, areas=list(announcement.areas))

    async def switch_on(self, announcement: SurgeAnnouncement) -> SurgeAnnouncement:
        """Play this announcement to every new caller (it replaces the current one); refused if unplayable."""
        surge = msgspec.structs.replace(announcement, active=True)
        problems = surge_problems(surge)
        if problems:
            raise InvalidSurge(problems)
        await self.set(surge)
        return surge

    async def switch_off(self) -> SurgeAnnouncement:
        """Stop playing it; the message is kept (inactive) so that it can be read back and switched on again."""
        await self.refresh()  # another process (the API, the command line) may have changed it a moment ago
        surge = msgspec.structs.replace(self._current, active=False)
        await self.set(surge)
        return surge

    async def refresh(self) -> None:
        blob = await self._redis.get(self._key)
        self._current = _decode(blob) if blob is not None else SurgeAnnouncement()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        await self.refresh()
        task_status.started()
        while True:
            await anyio.sleep(REFRESH_SECONDS)
            try:
                await self.refresh()
            except (RedisError, OSError, msgspec.DecodeError) as exc:
                log.warning("ivr.surge_refresh_failed", error=repr(exc))
