"""What the services of a tenant share, built first so that each service is handed what it uses.

``Events`` is the tenant's event stream as the process writes it: every event stamped once, written, and shown to
the observers (statistics, queue_log, the supervisor sessions, the demo's view). ``Spawner`` runs side tasks in the
application's task group, which exists only while the application runs (``Application.run`` binds it). The live
calls (a dict by call id) and the channel registry (``channels.py``) complete what is shared.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import anyio
import structlog
from anyio.abc import TaskGroup

from callcenter_ari.clock import Clock
from callcenter_ari.metrics import Metrics
from callcenter_ari.store.redis import Store

log = structlog.get_logger(__name__)

Emit = Callable[[str, dict[str, Any]], None]
Spawn = Callable[..., None]


class Events:
    def __init__(self, store: Store, clock: Clock, metrics: Metrics) -> None:
        self._store, self._clock, self._metrics = store, clock, metrics
        self.observers: list[Emit] = []  # called with every event appended to the stream

    def emit(self, kind: str, fields: dict[str, Any]) -> None:
        # One time, to the millisecond the stream keeps: the figures fed now and those replayed after a restart agree.
        fields["at"] = round(float(fields.get("at") or self._clock.now()), 3)
        self._store.emit(kind, dict(fields))
        for observer in self.observers:
            observer(kind, fields)
        if kind == "call.answered" and "wait" in fields:
            self._metrics.wait_seconds.observe(float(fields["wait"]))


class Spawner:
    def __init__(self) -> None:
        self._tg: TaskGroup | None = None

    def bind(self, tg: TaskGroup) -> None:
        """The task group side tasks run in, from now until it ends."""
        self._tg = tg

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run a side task (a CRM lookup, a hand-out, a hang-up); its failure is logged, never fatal to the rest."""
        self.start(_guarded, fn, args)

    def start(self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        """Run a task of the application's own (a call's), whose failure is the application's."""
        if self._tg is None:
            raise RuntimeError("tasks run only while the application runs")
        self._tg.start_soon(fn, *args)


async def _guarded(fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
    try:
        await fn(*args)
    except anyio.get_cancelled_exc_class():
        raise
    except Exception:
        log.exception("task.failed", task=getattr(fn, "__qualname__", repr(fn)))
