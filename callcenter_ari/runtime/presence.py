"""This process's presence in Redis, and what it does when Redis has lost its data.

Every process renews a marker key of its own every ``BEAT`` seconds (and its entry in the tenant's instances).
The marker lives for ``TTL``: if a renewal finds it gone, Redis lost what it held (restarted without persistence,
flushed, failed over to an empty replica), or this process stalled for longer than the TTL. Either way the process
writes back what it holds in memory (``write_back``: its live calls, agents, queue places, lines, the directory's
entries, the surge announcement, the ticket numbers it gave), and ticket numbering, paused since the loss (its
guard key is gone), resumes only once every other running process has had a beat to write back the numbers it
gave, so that no number already sent to a CRM is given again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import structlog
from anyio.abc import TaskStatus

from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.store.instances import Instances
from callcenter_ari.store.redis import Store

log = structlog.get_logger(__name__)

BEAT = 2.0
TTL = 10.0


class Presence:
    def __init__(
        self,
        store: Store,
        instance: str,
        *,
        write_back: Callable[[], Awaitable[None]],
        resume_tickets: Callable[[], Awaitable[None]],
        running: Callable[[int], None] = lambda count: None,
        beat: float = BEAT,
        ttl: float = TTL,
    ) -> None:
        self._instances = Instances(store)
        self._instance = instance
        self._write_back = write_back
        self._resume_tickets = resume_tickets
        self._running = running  # told how many processes of the tenant run, at every beat
        self._beat = beat
        self._ttl = ttl
        self.losses = 0  # times Redis was found to have lost its data

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        first = True
        async with anyio.create_task_group() as tg:
            task_status.started()
            while True:
                try:
                    renewal = await self._instances.renew(self._instance, self._ttl)
                except StoreUnavailable as exc:
                    log.warning("presence.beat_failed", error=str(exc))
                else:
                    self._running(renewal.running)
                    if not renewal.existed and not first:
                        self.losses += 1
                        log.error("redis.data_lost", action="writing back what this process holds")
                        await self._write_back()
                        tg.start_soon(self._reopen)
                    first = False
                await anyio.sleep(self._beat)

    async def _reopen(self) -> None:
        """Ticket numbers again, once every running process has renewed its marker since the loss (and so written
        back the numbers it gave)."""
        await anyio.sleep(self._ttl)
        while True:
            try:
                await self._resume_tickets()
                log.info("tickets.numbering_resumed")
                return
            except StoreUnavailable as exc:
                log.warning("tickets.resume_failed", error=str(exc))
                await anyio.sleep(self._beat)
