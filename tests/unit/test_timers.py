"""The timer heap: a callback that raises is logged, and the timers after it still fire."""

from __future__ import annotations

import anyio

from callcenter_ari.runtime.clock import Clock
from callcenter_ari.runtime.timers import Timers


async def test_a_failing_timer_callback_does_not_stop_the_others() -> None:
    clock = Clock()
    timers = Timers(clock)
    fired: list[str] = []

    def broken() -> None:
        raise RuntimeError("injected fault")

    async with anyio.create_task_group() as tg:
        await tg.start(timers.run)
        timers.set(("c1", "first"), clock.now(), broken)
        timers.set(("c2", "second"), clock.now() + 0.01, lambda: fired.append("second"))
        with anyio.fail_after(2):
            while not fired:
                await anyio.sleep(0.01)
        tg.cancel_scope.cancel()
    assert fired == ["second"] and len(timers) == 0
