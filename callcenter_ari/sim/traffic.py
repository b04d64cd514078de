"""The traffic generator: N inbound calls at a rate (or in one burst), DIDs and caller scripts drawn from a seeded
random generator, scheduled on the simulator clock so that manual-clock tests and real-time benchmarks run the
same code.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from callcenter_ari.clock import Clock, Timer
from callcenter_ari.sim.phones import CallerScript


@dataclass(frozen=True)
class TrafficSpec:
    calls: int
    rate: float | None = None  # calls per second of simulated time; None sends every call at once (a burst)
    dids: tuple[str, ...] = ("5551000",)
    mix: tuple[tuple[CallerScript, float], ...] = ((CallerScript(), 1.0),)  # (script, weight)
    trunk: str = "provider"
    tech: str = "PJSIP"


class TrafficHandle:
    """Awaitable: completes when the last call has been injected. `stop()` cancels the calls not yet sent."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.injected = 0
        self.channel_ids: list[str] = []
        self.calls: list[tuple[str, str]] = []  # (did, caller number) in the order sent
        self._timers: list[Timer] = []
        self._done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if total == 0:
            self._done.set_result(0)

    def _sent(self, channel_id: str, did: str, caller: str) -> None:
        self.injected += 1
        self.calls.append((did, caller))
        self.channel_ids.append(channel_id)
        if self.injected == self.total and not self._done.done():
            self._done.set_result(self.injected)

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        if not self._done.done():
            self._done.set_result(self.injected)

    @property
    def done(self) -> bool:
        return self._done.done()

    async def wait(self) -> int:
        return await asyncio.shield(self._done)

    def __await__(self) -> Generator[Any, None, int]:
        return self.wait().__await__()


def start(
    clock: Clock, rng: random.Random, spec: TrafficSpec, inject: Callable[[str, str, str, CallerScript], str]
) -> TrafficHandle:
    """Schedule the calls; `inject(did, caller, caller_name, script)` places one and returns its channel id."""
    handle = TrafficHandle(spec.calls)
    scripts = [s for s, _ in spec.mix]
    weights = [w for _, w in spec.mix]
    for i in range(spec.calls):
        script = rng.choices(scripts, weights)[0]
        did = rng.choice(spec.dids)
        caller = f"+1555{rng.randrange(10**7):07d}"
        delay = 0.0 if not spec.rate else i / spec.rate

        def fire(did: str = did, caller: str = caller, script: CallerScript = script) -> None:
            handle._sent(inject(did, caller, f"Caller {caller[-4:]}", script), did, caller)

        handle._timers.append(clock.call_later(delay, fire))
    return handle
