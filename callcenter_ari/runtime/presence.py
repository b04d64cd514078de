"""This process's presence in Redis, and what it does when Redis has lost its data.

Every process renews a marker key of its own every ``BEAT`` seconds (and its entry in the tenant's instances),
with a witness beside it that outlives any stall by far (store/instances.py). If a renewal finds the witness gone,
Redis lost what it held (restarted without persistence, flushed, failed over to an empty replica); a process that
merely stalled past its marker's ``TTL`` (a loaded machine) finds its witness and carries on. After a loss the
process writes back what it holds in memory (``write_back``: its live calls, agents, queue places, lines, the
directory's entries, the surge announcement, the ticket numbers it gave, the campaigns and the leads its dialer
holds), and ticket numbering, paused since the
loss (its guard key is gone), resumes only once every other running process has had a beat to write back the
numbers it gave, so that no number already sent to a CRM is given again.

A failover is treated the same way. Replication is asynchronous: a primary that fails may take its last writes
with it, and the promoted replica then holds the process's state a little behind what the process knows. At each
beat the process also asks which server holds its keys (store/connection.py, ``primary_of``: the primary the
sentinels name, or the cluster node of the tenant's slot); when that changes, it pauses ticket numbering (a number
given just before the failover may be missing from the counter), writes back what it holds, and numbering resumes
as after a loss.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import anyio
import structlog
from anyio.abc import TaskStatus
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from callcenter_ari.store.connection import primary_of
from callcenter_ari.store.errors import StoreUnavailable, translated
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
        pause_tickets: Callable[[], Awaitable[None]] | None = None,
        running: Callable[[int], None] = lambda count: None,
        beat: float = BEAT,
        ttl: float = TTL,
    ) -> None:
        self._instances = Instances(store)
        self._instance = instance
        self._write_back = write_back
        self._resume_tickets = resume_tickets
        self._pause_tickets = pause_tickets
        self._store = store
        self._primary: str | None = None  # the server holding this tenant's keys at the last beat
        self._running = running  # told how many processes of the tenant run, at every beat
        self._beat = beat
        self._ttl = ttl
        self.losses = 0  # times Redis was found to have lost its data
        self.failovers = 0  # times the server holding the tenant's keys was found to have changed
        self._unwritten = False  # a loss or a failover whose write-back has not succeeded yet
        self.beats = 0  # beats that reached Redis

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        first = True
        async with anyio.create_task_group() as tg:
            task_status.started()
            while True:
                try:
                    renewal = await self._instances.renew(self._instance, self._ttl)
                    failed_over = await self._primary_changed()
                except StoreUnavailable as exc:
                    log.warning("presence.beat_failed", error=str(exc))
                else:
                    self._running(renewal.running)
                    if not renewal.existed and not first:
                        self.losses += 1
                        log.error("redis.data_lost", action="writing back what this process holds")
                        self._unwritten = True
                    elif failed_over:
                        await self._after_failover()
                    first = False
                    self.beats += 1
                    # Not fatal if Redis goes away again meanwhile: tried again at the next beat.
                    if self._unwritten and await self._written_back():
                        self._unwritten = False
                        tg.start_soon(self._reopen)
                await anyio.sleep(self._beat)

    async def _written_back(self) -> bool:
        """Write back what this process holds; False if Redis went away meanwhile (never fatal to the process)."""
        try:
            await self._write_back()
        except StoreUnavailable as exc:
            log.warning("redis.write_back_failed", error=str(exc), action="trying again at the next beat")
            return False
        return True

    async def _primary_changed(self) -> bool:
        with translated():
            primary = await primary_of(self._store.redis, self._store.keys.instances)
        before, self._primary = self._primary, primary
        return before is not None and primary != before

    async def _after_failover(self) -> None:
        self.failovers += 1
        log.warning("redis.failed_over", primary=self._primary, action="writing back what this process holds")
        if self._pause_tickets is not None:
            try:
                await self._pause_tickets()
            except StoreUnavailable as exc:  # the next beat finds no change: numbering stays as it is
                log.warning("tickets.pause_failed", error=str(exc))
        self._unwritten = True

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


class RedisCollector(Collector):
    """What Redis did to this process, read when Prometheus scrapes: losses of its data, failovers, and batches a
    replica did not confirm in time (``redis.wait_replicas``)."""

    def __init__(self, presence: Presence, store: Store) -> None:
        self._presence = presence
        self._store = store

    def collect(self) -> Iterable[CounterMetricFamily]:
        yield CounterMetricFamily(
            "callcenter_redis_data_losses", "Times Redis was found to have lost its data", value=self._presence.losses
        )
        yield CounterMetricFamily(
            "callcenter_redis_failovers",
            "Times the server holding the tenant's keys changed",
            value=self._presence.failovers,
        )
        yield CounterMetricFamily(
            "callcenter_redis_replicas_late",
            "Write batches a replica did not confirm within redis.wait_timeout_ms",
            value=self._store.replicas_late,
        )
