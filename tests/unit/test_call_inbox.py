"""A call's inbox, which holds the inputs delivered while one of its steps waits: a flood of digits is cut short,
but nothing that moves the call on is ever dropped."""

from __future__ import annotations

from typing import Any, cast

from callcenter_ari.calls.machine import CallSettings, InboundCall
from callcenter_ari.calls.messages import CallerGone, Digit, Timeout
from callcenter_ari.calls.records import CallRecord
from callcenter_ari.runtime.call import INBOX_SIZE, LiveCall


def test_a_hang_up_after_a_dtmf_flood_is_still_delivered() -> None:
    """Digits past the inbox size are dropped; the hang-up and timer that follow are queued, in order."""
    record = CallRecord(call_id="c1", channel_id="ch1", started_at=0.0)
    call = LiveCall(InboundCall(record, CallSettings()), cast(Any, None))  # queuing needs no services
    call._busy = True  # a step of the call waits: what is delivered meanwhile is queued
    accepted = [call.deliver(Digit("5")) for _ in range(INBOX_SIZE + 3)]
    assert accepted.count(False) == 3
    assert call.deliver(CallerGone(16)) and call.deliver(Timeout("max_wait"))
    assert list(call._inbox)[INBOX_SIZE:] == [CallerGone(16), Timeout("max_wait")]
    assert len(call._inbox) == INBOX_SIZE + 2
