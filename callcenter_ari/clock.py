"""Time for the whole process: the runtime's timers, the simulated PBX and the tests all read one ``Clock``.

``WallClock`` follows real time, optionally ``speed`` times faster (the demo, the load generator). ``ManualClock``
stands still until it is advanced; advancing runs what falls due in time order, and before each instant waits
until every task that can run has run (``idle``), so that the application reacts to each event at the simulated
time it happened. Together they are trio's MockClock and ``wait_all_tasks_blocked``, for asyncio: a test of a
30-second ring timeout takes microseconds and polls for nothing.

The simulator schedules plain callbacks (``call_later``: its model is synchronous); the runtime sleeps
(``sleep_until``) and bounds a wait by a deadline (``move_on_at``); machines only ever see ``now``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import anyio


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch on this clock."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Return once ``now() >= deadline`` (at once if it is already)."""
        ...

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        """Call ``callback`` (synchronously, from the event loop) ``delay`` seconds of this clock from now."""
        ...

    def move_on_at(self, deadline: float) -> AbstractContextManager[anyio.CancelScope]:
        """A cancel scope that this clock cancels at ``deadline`` (``anyio.move_on_after`` on this clock)."""
        ...


class WallClock:
    """Real time, ``speed`` times faster: simulated time = start + elapsed monotonic time * speed."""

    def __init__(self, speed: float = 1.0, *, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._epoch = time.time() if start is None else start
        self._mono = time.monotonic()

    def now(self) -> float:
        return self._epoch + (time.monotonic() - self._mono) * self.speed

    async def sleep_until(self, deadline: float) -> None:
        await anyio.sleep(max(0.0, (deadline - self.now()) / self.speed))

    def call_later(self, delay: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(max(delay, 0.0) / self.speed, callback)

    def move_on_at(self, deadline: float) -> anyio.CancelScope:
        return anyio.move_on_after(max(0.0, (deadline - self.now()) / self.speed))


class _Due:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], object]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


Barrier = Callable[[], Awaitable[object]]


class ManualClock:
    """A clock that moves only when ``advance`` is awaited (by one task at a time).

    ``barriers`` are what ``idle`` waits for besides the event loop: work in flight outside the process, which the
    loop cannot see (a reply on its way back from Redis). Each is awaited until the loop stays quiet after them.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = float(int(time.time())) if start is None else start
        self._heap: list[tuple[float, int, _Due]] = []
        self._seq = itertools.count()
        self.barriers: list[Barrier] = []

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], object]) -> _Due:
        return self.call_at(self._now + max(delay, 0.0), callback)

    def call_at(self, when: float, callback: Callable[[], object]) -> _Due:
        due = _Due(when, callback)
        heapq.heappush(self._heap, (when, next(self._seq), due))
        return due

    async def sleep_until(self, deadline: float) -> None:
        if deadline <= self._now:
            await anyio.lowlevel.checkpoint()
            return
        woken = anyio.Event()
        due = self.call_at(deadline, woken.set)
        try:
            await woken.wait()
        finally:
            due.cancel()

    @contextmanager
    def move_on_at(self, deadline: float) -> Iterator[anyio.CancelScope]:
        with anyio.CancelScope() as scope:
            due = self.call_at(deadline, scope.cancel)
            if deadline <= self._now:
                scope.cancel()
            try:
                yield scope
            finally:
                due.cancel()

    def next_due(self) -> float | None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, stopping at every instant something falls due: everything runnable
        runs first, then that instant's callbacks fire (ties in scheduling order) and sleepers wake."""
        target = self._now + max(seconds, 0.0)
        await self.idle()
        while (due := self.next_due()) is not None and due <= target:
            self._now = max(self._now, due)
            self._fire_due()
            await self.idle()
        self._now = max(self._now, target)

    def _fire_due(self) -> None:
        heap, now = self._heap, self._now
        while heap and heap[0][0] <= now:  # a callback may schedule another one for this very instant
            due = heapq.heappop(heap)[2]
            if not due.cancelled:
                due.cancelled = True
                due.callback()

    async def idle(self) -> None:
        """Wait until every task that can run has run and no barrier has anything in flight."""
        for _ in range(_MAX_IDLE_ROUNDS):
            busy = await _loop_quiet()
            for barrier in self.barriers:
                await barrier()
            if self.barriers:
                busy = await _loop_quiet() or busy
            if not busy:
                return
        raise RuntimeError(f"the event loop did not go idle in {_MAX_IDLE_ROUNDS} rounds")


_QUIET_TURNS = 2
_MAX_IDLE_ROUNDS = 10_000


async def _loop_quiet() -> bool:
    """Give the other tasks turns until the loop has had nothing else to run for two turns in a row (each turn
    polls the selector once, so I/O that has arrived runs too). Returns whether anything else ran.

    asyncio offers no public way to ask whether anything is ready; ``_ready`` is its run queue. A loop without one
    (uvloop) gets a fixed number of turns, which is enough for in-memory work but promises less.
    """
    ready = getattr(asyncio.get_running_loop(), "_ready", None)
    if ready is None:
        for _ in range(_QUIET_TURNS * 8):
            await asyncio.sleep(0)
        return False
    busy, quiet = False, 0
    while quiet < _QUIET_TURNS:
        await asyncio.sleep(0)
        if ready:
            busy, quiet = True, 0
        else:
            quiet += 1
    return busy
