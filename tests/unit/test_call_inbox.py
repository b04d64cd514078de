"""A call's inbox: a flood of digits is cut short, but nothing that moves the call on is ever dropped."""

from __future__ import annotations

from typing import Any, cast

import anyio

from callcenter_ari.calls.machine import CallSettings, InboundCall
from callcenter_ari.calls.messages import CallerGone, Digit, Timeout
from callcenter_ari.calls.records import CallRecord
from callcenter_ari.runtime.call import INBOX_SIZE, CallTask


async def test_a_hang_up_after_a_dtmf_flood_is_still_delivered() -> None:
    """Digits past the inbox size are dropped; the hang-up and timer that follow are queued, in order."""
    record = CallRecord(call_id="c1", channel_id="ch1", started_at=0.0)
    task = CallTask(InboundCall(record, CallSettings()), cast(Any, None))  # deliver() needs no services
    accepted = [task.deliver(Digit("5")) for _ in range(INBOX_SIZE + 3)]
    assert accepted.count(False) == 3
    assert task.deliver(CallerGone(16)) and task.deliver(Timeout("max_wait"))
    received = [await task._next() for _ in range(INBOX_SIZE + 2)]
    assert received[INBOX_SIZE:] == [CallerGone(16), Timeout("max_wait")]


async def test_a_call_waiting_for_its_next_input_wakes_when_one_is_delivered() -> None:
    record = CallRecord(call_id="c1", channel_id="ch1", started_at=0.0)
    task = CallTask(InboundCall(record, CallSettings()), cast(Any, None))
    received: list[object] = []

    async def take() -> None:
        received.append(await task._next())

    async with anyio.create_task_group() as tg:
        tg.start_soon(take)
        await anyio.wait_all_tasks_blocked()
        assert received == []  # nothing there: it waits
        task.deliver(CallerGone(16))
    assert received == [CallerGone(16)]
