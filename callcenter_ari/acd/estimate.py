"""Estimated wait time (EWT) from recent handle times: a pure estimator the runtime's announcements read."""

from __future__ import annotations

from collections import deque


class HandleTimes:
    """The handle times (talk + hold + wrap-up, seconds) of the last ``window`` calls of a queue."""

    def __init__(self, window: int = 20) -> None:
        self._times: deque[float] = deque(maxlen=max(1, window))
        self._sum = 0.0

    def add(self, seconds: float) -> None:
        if len(self._times) == self._times.maxlen:
            self._sum -= self._times[0]
        self._times.append(seconds)
        self._sum += seconds

    def __len__(self) -> int:
        return len(self._times)

    def resized(self, window: int) -> HandleTimes:
        """The same history in a window of another size (the newest calls kept)."""
        copy = HandleTimes(window)
        for seconds in self._times:
            copy.add(seconds)
        return copy

    def average(self) -> float | None:
        return self._sum / len(self._times) if self._times else None


def estimate_wait(position: int, average_handle: float | None, agents: int) -> float | None:
    """EWT for the caller at ``position`` (1 = next). With ``agents`` busy agents who could serve, calls end at a
    rate of ``agents / AHT``, so the caller's turn comes after ``position`` such endings::

        EWT = position * AHT / agents

    None when there is no history or no agent who could serve."""
    if average_handle is None or agents <= 0 or position <= 0:
        return None
    return position * average_handle / agents
