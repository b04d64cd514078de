"""Callback counts per queue for the queue statistics: ``attempted``, ``connected`` and ``expired`` counted from the
events (so that a restart, which replays the stream, gives the same figures), ``pending`` and ``due`` from the live
entries as they stand."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from callcenter_ari.callback.entry import WAITING, Entry


class QueueCallbacks(msgspec.Struct, kw_only=True):
    pending: int = 0  # accepted, waiting for their time (scheduled, a retry, the window to open)
    due: int = 0  # in line for an agent now, or being connected
    attempted: int = 0  # customer legs placed
    connected: int = 0
    expired: int = 0


_COUNTED = {"callback.attempted": "attempted", "callback.connected": "connected", "callback.expired": "expired"}


class CallbackFigures:
    """An event observer: ``figures(live)`` gives each queue's counts."""

    def __init__(self) -> None:
        self._counts: dict[str, dict[str, int]] = {}

    def __call__(self, kind: str, fields: dict[str, Any]) -> None:
        name = _COUNTED.get(kind)
        queue = fields.get("queue")
        if name is None or not isinstance(queue, str):
            return
        counts = self._counts.setdefault(queue, {})
        counts[name] = counts.get(name, 0) + 1

    def figures(self, queue: str, live: Iterable[Entry]) -> QueueCallbacks:
        counts = self._counts.get(queue, {})
        result = QueueCallbacks(**counts)
        for entry in live:
            if entry.queue != queue:
                continue
            if entry.state in WAITING:
                result.pending += 1
            elif entry.state in ("due", "dialing"):
                result.due += 1
        return result
