"""The manual clock: callbacks and sleepers in time order, everything runnable run before each instant, and the
barriers that stand for work outside the event loop."""

from __future__ import annotations

import anyio

from callcenter_ari.clock import ManualClock


async def test_callbacks_fire_in_time_order_and_ties_in_the_order_scheduled() -> None:
    clock = ManualClock(100.0)
    fired: list[tuple[str, float]] = []
    clock.call_later(2, lambda: fired.append(("b", clock.now())))
    clock.call_later(1, lambda: fired.append(("a", clock.now())))
    clock.call_later(2, lambda: fired.append(("c", clock.now())))
    clock.call_later(3, lambda: fired.append(("never", clock.now()))).cancel()
    await clock.advance(2.5)
    assert fired == [("a", 101.0), ("b", 102.0), ("c", 102.0)] and clock.now() == 102.5
    await clock.advance(10)
    assert len(fired) == 3 and clock.next_due() is None


async def test_a_sleeper_reacts_before_the_next_instant_is_reached() -> None:
    """What a task does when it wakes at 10 s happens at 10 s: its own timer for 10 s later fires at 20 s."""
    clock = ManualClock(0.0)
    seen: list[tuple[str, float]] = []

    async def sleeper() -> None:
        await clock.sleep_until(10)
        seen.append(("woke", clock.now()))
        clock.call_later(10, lambda: seen.append(("follow-up", clock.now())))

    async with anyio.create_task_group() as tg:
        tg.start_soon(sleeper)
        await clock.advance(60)
    assert seen == [("woke", 10.0), ("follow-up", 20.0)]


async def test_idle_returns_once_a_chain_of_tasks_has_run_to_its_end() -> None:
    clock = ManualClock(0.0)
    steps: list[int] = []
    send, receive = anyio.create_memory_object_stream[int](10)

    async def relay(n: int) -> None:
        if n < 50:
            steps.append(n)
            await anyio.lowlevel.checkpoint()
            await send.send(n + 1)

    async def consumer() -> None:
        async for n in receive:
            tg.start_soon(relay, n)

    async with anyio.create_task_group() as tg:
        tg.start_soon(consumer)
        await send.send(0)
        await clock.idle()
        assert steps == list(range(50))
        tg.cancel_scope.cancel()


async def test_idle_waits_for_its_barriers_and_for_what_they_set_off() -> None:
    clock = ManualClock(0.0)
    pending = anyio.Event()
    done: list[str] = []

    async def outside() -> None:  # work the loop cannot see, then a reaction to it
        await pending.wait()
        done.append("reacted")

    async def barrier() -> None:
        if not pending.is_set():
            pending.set()

    clock.barriers.append(barrier)
    async with anyio.create_task_group() as tg:
        tg.start_soon(outside)
        await clock.idle()
        assert done == ["reacted"]
        tg.cancel_scope.cancel()
