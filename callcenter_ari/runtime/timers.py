"""One task for every timer in the process: a heap of deadlines, each firing a callback when due.

A timer per call as a sleeping task would cost a task and a cancel scope each; with 10,000 calls waiting, a heap
costs one entry each. Cancelling marks the entry stale (lazy deletion).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

import anyio
from anyio.abc import TaskStatus

from callcenter_ari.runtime.clock import Clock

TimerKey = tuple[str, str]


class Timers:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, TimerKey]] = []
        self._live: dict[TimerKey, tuple[int, Callable[[], None]]] = {}
        self._seq = itertools.count()
        self._changed = anyio.Event()

    def set(self, key: TimerKey, at: float, callback: Callable[[], None]) -> None:
        seq = next(self._seq)
        self._live[key] = (seq, callback)
        heapq.heappush(self._heap, (at, seq, key))
        if self._heap[0][1] == seq:
            self._changed.set()

    def cancel(self, key: TimerKey) -> None:
        self._live.pop(key, None)

    def cancel_owner(self, owner: str) -> None:
        for key in [k for k in self._live if k[0] == owner]:
            del self._live[key]

    def __len__(self) -> int:
        return len(self._live)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            self._fire_due()
            self._changed = anyio.Event()
            if self._heap:
                with anyio.move_on_after((self._heap[0][0] - self._clock.now()) / self._clock.speed):
                    await self._changed.wait()
            else:
                await self._changed.wait()

    def _fire_due(self) -> None:
        now = self._clock.now()
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, seq, key = heapq.heappop(heap)
            live = self._live.get(key)
            if live is not None and live[0] == seq:
                del self._live[key]
                live[1]()
