"""Time for the runtime. ``speed`` > 1 runs a whole shift of timers faster (demo, tests); machines only see ``now``."""

from __future__ import annotations

import time

import anyio


class Clock:
    def __init__(self, speed: float = 1.0, *, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._epoch = time.time() if start is None else start
        self._mono = time.monotonic()

    def now(self) -> float:
        """Seconds since the Unix epoch on this clock."""
        return self._epoch + (time.monotonic() - self._mono) * self.speed

    def shift(self, seconds: float) -> None:
        """Move this clock by ``seconds`` at once (tests of retention and deadlines months away)."""
        self._epoch += seconds

    async def sleep_until(self, deadline: float) -> None:
        delay = (deadline - self.now()) / self.speed
        await anyio.sleep(max(0.0, delay))
