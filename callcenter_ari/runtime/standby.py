"""Hot standby: the process acts for its node only while it holds the node's lease in Redis.

A process with ``[standby] enabled`` starts by waiting for the lease (``store/lease.py``), polling every
``poll_seconds``, with nothing open towards Asterisk: Asterisk sends an application's events to its newest
WebSocket only, so a standby that connected would take the live calls' events from the active process. Once it
holds the lease (the holder died and its lease ran out, or it stopped and gave the lease up), the process takes
the new fencing token, and the application starts as after a restart: it connects, recovers the node's live calls
from Redis and what Asterisk lists, and serves.

While active, ``keep`` renews the lease every quarter of it. The process stops acting for the node (``SteppedDown``,
exit status 3, one clear log line) as soon as:

- a renewal finds the lease taken by another process (it was paused, or cut off from Redis, for longer than the
  lease);
- the lease may have run out as far as this process's own monotonic clock can tell (renewals failing while Redis is
  unreachable): the store and the ARI client refuse every write and request from then on (``Fence.check``), with no
  round trip to Redis;
- the store finds another token in Redis at a write (``Fenced``), which is the fencing proper: the check and the
  write are one transaction.

A stop (SIGTERM) hands the node over when a standby is waiting: no draining, the task tree ends, what is staged is
written, the lease is given up at once, and the standby recovers the calls. With no standby waiting, the process
drains as usual and gives the lease up at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import structlog
from anyio.abc import TaskStatus

from callcenter_ari.fencing import Fence, SteppedDown
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.store.lease import NodeLease

log = structlog.get_logger(__name__)


class LeaseTerm:
    """How long the lease lasts as this process can tell on its own: from the start of its last confirmed renewal
    (Redis set the expiry after that, so it runs out later in Redis than here), less a margin."""

    def __init__(self, lease: float, now: Callable[[], float]) -> None:
        self.lease = lease
        self.margin = min(0.5, lease / 10)
        self._now = now
        self._renewed_at: float | None = None

    def confirmed(self, asked_at: float) -> None:
        self._renewed_at = asked_at

    def lost(self) -> None:
        self._renewed_at = None

    def holds(self) -> bool:
        return self._renewed_at is not None and self._now() < self._renewed_at + self.lease - self.margin


class Standby:
    def __init__(
        self, lease: NodeLease, *, lease_seconds: float, poll_seconds: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._lease = lease
        self._poll = poll_seconds
        self._now = now
        self.term = LeaseTerm(lease_seconds, now)
        self.role = "standby"  # "active" while it holds the node, "stepped_down" once it gave it up
        self.token = 0

    @property
    def fence(self) -> Fence:
        return Fence(self._lease.fence_key, self.token, self.term.holds)

    def check(self) -> None:
        self.fence.check()

    async def acquire(self) -> None:
        """Wait until this process holds the node's lease."""
        log.info("standby.waiting", instance=self._lease.instance)
        while True:
            asked_at = self._now()
            try:
                token = await self._lease.acquire(self.term.lease)
            except StoreUnavailable as exc:
                log.warning("standby.acquire_failed", error=str(exc))
                token = 0
            if token:
                self.token = token
                self.term.confirmed(asked_at)
                self.role = "active"
                log.info("standby.active", instance=self._lease.instance, token=token)
                return
            await anyio.sleep(self._poll)

    async def keep(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Renew the lease until cancelled; raise ``SteppedDown`` once it is lost."""
        task_status.started()
        every = self.term.lease / 4
        while True:
            await anyio.sleep(every)
            asked_at = self._now()
            try:
                kept = await self._lease.renew(self.token, self.term.lease)
            except StoreUnavailable as exc:
                log.warning("standby.renew_failed", error=str(exc))
                if not self.term.holds():
                    self.step_down("the lease ran out while Redis could not be reached")
                continue
            if not kept:
                self.step_down("another process took the node's lease")
            self.term.confirmed(asked_at)

    def step_down(self, reason: str) -> None:
        self.term.lost()
        self.role = "stepped_down"
        log.error("standby.stepped_down", reason=reason, token=self.token)
        raise SteppedDown(reason)

    async def hand_over(self) -> bool:
        """Whether a stop should hand the node over (a standby is waiting) rather than drain it."""
        try:
            return await self._lease.someone_waiting()
        except StoreUnavailable:
            return False

    async def release(self) -> None:
        """Give the node up at once: a waiting standby takes it at its next poll."""
        self.term.lost()
        self.role = "stepped_down"
        try:
            released = await self._lease.release()
        except StoreUnavailable as exc:
            log.warning("standby.release_failed", error=str(exc))
            return
        log.info("standby.released", token=self.token, released=released)
