"""The tenant's surge announcement: set by a supervisor, read by every new call's IVR.

Redis holds it (store/surge.py; several processes serve one tenant); each process keeps a mirror refreshed every
second, so a new call never waits on Redis for it and a change reaches every process within a second. Switching it
off affects the next caller, never one already listening.
"""

from __future__ import annotations

import anyio
import msgspec
import structlog
from anyio.abc import TaskStatus

from callcenter_ari.ivr import SurgeAnnouncement
from callcenter_ari.ivr.checks import surge_problems
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.store.surge import SurgeStore

log = structlog.get_logger(__name__)

REFRESH_SECONDS = 1.0


class InvalidSurge(ValueError):
    """An announcement that cannot be played; ``problems`` are (field, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems


class SurgeService:
    def __init__(self, store: SurgeStore) -> None:
        self._store = store
        self._current = SurgeAnnouncement()

    def current(self) -> SurgeAnnouncement:
        return self._current

    async def set(self, announcement: SurgeAnnouncement) -> None:
        await self._store.set(announcement)
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
        stored = await self._store.get()
        if stored is not None:
            self._current = stored
        elif self._current != SurgeAnnouncement():
            # Switching off keeps the key: gone, it was lost with Redis's data, and this process writes it back.
            log.warning("ivr.surge_lost", active=self._current.active)

    async def write_back(self) -> None:
        """Redis lost its data: the announcement as this process knows it goes back."""
        if self._current != SurgeAnnouncement():
            await self.set(self._current)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        await self.refresh()
        task_status.started()
        while True:
            await anyio.sleep(REFRESH_SECONDS)
            try:
                await self.refresh()
            except StoreUnavailable as exc:
                log.warning("ivr.surge_refresh_failed", error=str(exc))
