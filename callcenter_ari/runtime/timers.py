"""One task for every timer in the process: a heap of deadlines, each firing a callback when due.

A timer per call as a sleeping task would cost a task and a cancel scope each; with 10,000 calls waiting, a heap
costs one entry each. Cancelling drops the live entry and leaves the heap entry to be skipped (lazy deletion);
timers are indexed by owner so that ending a call cancels its timers without scanning anyone else's. The task
sleeps on the clock until the earliest deadline; a new earlier one cuts that sleep short.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

import anyio
import structlog
from anyio.abc import TaskStatus

from callcenter_ari.clock import Clock

log = structlog.get_logger(__name__)

TimerKey = tuple[str, str]


class Timers:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, TimerKey]] = []
        self._live: dict[TimerKey, tuple[int, Callable[[], None]]] = {}
        self._by_owner: dict[str, set[str]] = {}
        self._seq = itertools.count()
        self._sleep: anyio.CancelScope | None = None  # the run loop's sleep, cut short by an earlier deadline

    def set(self, key: TimerKey, at: float, callback: Callable[[], None]) -> None:
        seq = next(self._seq)
        self._live[key] = (seq, callback)
        self._by_owner.setdefault(key[0], set()).add(key[1])
        heapq.heappush(self._heap, (at, seq, key))
        if self._heap[0][1] == seq and self._sleep is not None:
            self._sleep.cancel()

    def cancel(self, key: TimerKey) -> None:
        if self._live.pop(key, None) is not None:
            self._forget_name(key)

    def cancel_owner(self, owner: str) -> None:
        for name in self._by_owner.pop(owner, ()):
            self._live.pop((owner, name), None)

    def __len__(self) -> int:
        return len(self._live)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            self._fire_due()
            with anyio.CancelScope() as self._sleep:
                if self._heap:
                    await self._clock.sleep_until(self._heap[0][0])
                else:
                    await anyio.sleep_forever()

    def _fire_due(self) -> None:
        now = self._clock.now()
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, seq, key = heapq.heappop(heap)
            live = self._live.get(key)
            if live is not None and live[0] == seq:
                del self._live[key]
                self._forget_name(key)
                try:
                    live[1]()
                except Exception:  # one owner's bug must not stop every other timer, nor the process
                    log.exception("timer.callback_failed", owner=key[0], timer=key[1])

    def _forget_name(self, key: TimerKey) -> None:
        names = self._by_owner.get(key[0])
        if names is not None:
            names.discard(key[1])
            if not names:
                del self._by_owner[key[0]]
