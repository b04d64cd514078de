"""The simulator's clock: every timer in the simulated PBX goes through it.

Two implementations share one small interface. `ManualClock` only moves when a test calls `advance()`, and fires
what falls due in time order, synchronously, so a 300-second call takes microseconds. `RealClock` follows the event
loop's monotonic time, optionally faster than real time (`speed=10` makes a 30 s call last 3 s), so the demo and the
load generator run unattended. Callbacks are plain functions: the model is synchronous and never awaits.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Simulated unix time in seconds."""
        ...

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer: ...


class _ManualTimer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], object]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that stands still until told to move (the trio MockClock idea, without autojump)."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._heap: list[tuple[float, int, _ManualTimer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], object]) -> _ManualTimer:
        timer = _ManualTimer(self._now + max(delay, 0.0), callback)
        heapq.heappush(self._heap, (timer.when, next(self._seq), timer))
        return timer

    def advance(self, seconds: float) -> int:
        """Move time forward, firing due timers in order (ties in scheduling order); returns how many fired."""
        target = self._now + max(seconds, 0.0)
        fired = 0
        while self._heap and self._heap[0][0] <= target:
            when, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            self._now = max(self._now, when)
            fired += 1
            timer.callback()
        self._now = target
        return fired

    def next_due(self) -> float | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None


class RealClock:
    """Simulated time = start + (loop time elapsed) * speed; timers map back onto the running event loop."""

    def __init__(self, start: float | None = None, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start = time.time() if start is None else start
        self._origin = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._origin) * self.speed

    def call_later(self, delay: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(max(delay, 0.0) / self.speed, callback)
