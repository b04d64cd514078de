"""The timer heap on the manual clock: timers fire at their instant, in order, and a callback that raises is logged
while the timers after it still fire."""

from __future__ import annotations

import anyio

from callcenter_ari.clock import ManualClock
from callcenter_ari.runtime.timers import Timers


async def test_a_failing_timer_callback_does_not_stop_the_others() -> None:
    clock = ManualClock(1000.0)
    timers = Timers(clock)
    fired: list[str] = []

    def broken() -> None:
        raise RuntimeError("injected fault")

    async with anyio.create_task_group() as tg:
        await tg.start(timers.run)
        timers.set(("c1", "first"), clock.now(), broken)
        timers.set(("c2", "second"), clock.now() + 0.01, lambda: fired.append("second"))
        await clock.advance(0.01)
        tg.cancel_scope.cancel()
    assert fired == ["second"] and len(timers) == 0


async def test_a_timer_set_earlier_than_the_one_slept_on_fires_first_at_its_own_instant() -> None:
    clock = ManualClock(1000.0)
    timers = Timers(clock)
    fired: list[tuple[str, float]] = []
    async with anyio.create_task_group() as tg:
        await tg.start(timers.run)
        timers.set(("c1", "late"), 1030.0, lambda: fired.append(("late", clock.now())))
        await clock.advance(5)
        timers.set(("c2", "early"), 1010.0, lambda: fired.append(("early", clock.now())))
        timers.set(("c3", "gone"), 1020.0, lambda: fired.append(("gone", clock.now())))
        timers.cancel_owner("c3")
        await clock.advance(4.9)
        assert fired == []
        await clock.advance(60)
        tg.cancel_scope.cancel()
    assert fired == [("early", 1010.0), ("late", 1030.0)]
