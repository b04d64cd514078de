"""The frozen snapshot a call shows to the outside (the API, the agent's screen pop) instead of its record."""

from __future__ import annotations

import msgspec
import pytest

from callcenter_ari.calls.machine import CallSettings, InboundCall, QueueSettings
from callcenter_ari.calls.messages import AgentReserved, AgentUp, Consult, Hold, Offered, PlaybackDone, Start
from callcenter_ari.calls.records import CallRecord

SETTINGS = CallSettings(greeting="sound:hello", queue="support", queues={"support": QueueSettings()})


def talking() -> InboundCall:
    record = CallRecord(call_id="c1", channel_id="ch1", caller="+15551234567", did="5552000", started_at=0.0)
    call = InboundCall(record, SETTINGS)
    for now, message in enumerate([Start(), PlaybackDone("c1-greeting"), Offered("a1", "PJSIP/a1"), AgentUp("c1-a1")]):
        call.handle(message, float(now))
    return call


def test_it_is_frozen_and_does_not_change_with_the_call() -> None:
    call = talking()
    before = call.snapshot()
    call.handle(Hold(), 20.0)
    after = call.snapshot()
    assert (before.on_hold, after.on_hold) == (False, True)
    assert (after.phase, after.agent_id, after.legs, after.persistent) == ("talking", "a1", ("c1-a1",), False)
    with pytest.raises(AttributeError):
        after.phase = "ended"  # type: ignore[misc]
    after.variables["vip"] = "yes"
    assert call.record.variables == {}


def test_a_consultation_shows_who_is_consulted() -> None:
    call = talking()
    assert call.snapshot().consult is None
    call.handle(Consult("agent", "a2"), 20.0)
    call.handle(AgentReserved("a2", "PJSIP/a2"), 20.0)
    call.handle(AgentUp("c1-c2"), 23.0)
    consult = call.snapshot().consult
    assert consult is not None
    assert msgspec.structs.asdict(consult) == {"agent_id": "a2", "destination": "", "answered": True}
    assert call.snapshot().legs == ("c1-a1", "c1-c2") and call.snapshot().on_hold
