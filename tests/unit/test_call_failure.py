"""What ending means when the call could not end itself: a step that broke (``Failed``) and a caller who left
while the process was down (``EndedWhileAway``)."""

from __future__ import annotations

from callcenter_ari.calls.machine import CallSettings, InboundCall, QueueSettings
from callcenter_ari.calls.messages import (
    AgentJoined,
    AgentReserved,
    AgentUp,
    CallerGone,
    Consult,
    ContinueInDialplan,
    DestroyBridge,
    Emit,
    EndedWhileAway,
    Failed,
    Hangup,
    Offered,
    PlaybackDone,
    ReleaseCall,
    RingAll,
    Start,
)
from callcenter_ari.calls.records import CallRecord

SETTINGS = CallSettings(greeting="sound:hello", queue="support", queues={"support": QueueSettings()})
ENDED_FAILED = Emit("call.ended", {"at": 50.0, "call_id": "c1", "outcome": "failed"})


def queued() -> InboundCall:
    record = CallRecord(call_id="c1", channel_id="ch1", caller="+15551234567", did="5552000", started_at=0.0)
    call = InboundCall(record, SETTINGS)
    call.handle(Start(), 0.0)
    call.handle(PlaybackDone("c1-greeting"), 2.0)
    return call


def talking() -> InboundCall:
    call = queued()
    call.handle(Offered("a1", "PJSIP/a1"), 5.0)
    call.handle(AgentUp("c1-a1"), 8.0)
    return call


def consulting() -> InboundCall:
    call = talking()
    call.handle(Consult("agent", "a2"), 20.0)
    call.handle(AgentReserved("a2", "PJSIP/a2"), 20.0)
    call.handle(AgentUp("c1-c2"), 23.0)
    return call


def persistent() -> InboundCall:
    call = queued()
    call.handle(Offered("p1", "PJSIP/p1", line="line-p1", bridge="line-p1-b"), 5.0)
    call.handle(AgentJoined(), 5.5)
    return call


class TestFailed:
    def test_a_waiting_caller_goes_back_to_the_dialplan_and_leaves_the_queue(self) -> None:
        call = queued()
        commands = call.handle(Failed(), 50.0)
        assert commands == [ContinueInDialplan("ch1"), ReleaseCall("support"), ENDED_FAILED]
        assert (call.record.phase, call.record.outcome, call.record.ended_at) == ("ended", "failed", 50.0)

    def test_every_leg_the_call_dialled_is_hung_up(self) -> None:
        assert call_legs(talking()) == ["c1-a1"]
        assert call_legs(consulting()) == ["c1-a1", "c1-c2"]
        ringing_all = queued()
        ringing_all.handle(RingAll((("a1", "PJSIP/a1"), ("a2", "PJSIP/a2"))), 5.0)
        assert call_legs(ringing_all) == ["c1-a2", "c1-a1"]  # the last dialled is also the record's agent leg

    def test_a_persistent_agents_line_is_theirs_and_stays(self) -> None:
        assert call_legs(persistent()) == []

    def test_a_call_that_broke_after_it_ended_is_not_ended_twice(self) -> None:
        call = talking()
        call.handle(CallerGone(16), 40.0)
        commands = call.handle(Failed(), 50.0)
        assert commands == [ContinueInDialplan("ch1"), ReleaseCall("support")]
        assert (call.record.outcome, call.record.ended_at) == ("completed", 40.0)


def call_legs(call: InboundCall) -> list[str]:
    return [c.channel for c in call.handle(Failed(), 50.0) if isinstance(c, Hangup)]


class TestEndedWhileAway:
    def test_the_agent_leg_left_in_the_bridge_and_the_bridge_are_ended(self) -> None:
        call = talking()
        commands = call.handle(EndedWhileAway(frozenset({"c1-a1"})), 90.0)
        assert commands == [
            Hangup("c1-a1"),
            DestroyBridge("c1-b"),
            Emit("call.ended", {"at": 90.0, "call_id": "c1", "outcome": "ended_while_down"}),
        ]
        assert (call.record.phase, call.record.outcome) == ("ended", "ended_while_down")

    def test_legs_asterisk_no_longer_has_are_left_alone(self) -> None:
        commands = consulting().handle(EndedWhileAway(frozenset()), 90.0)
        assert not any(isinstance(c, Hangup) for c in commands)
        assert [c for c in commands if isinstance(c, DestroyBridge)] == [
            DestroyBridge("c1-b"),
            DestroyBridge("c1-c2-b"),
        ]

    def test_a_persistent_agents_line_and_bridge_stay(self) -> None:
        commands = persistent().handle(EndedWhileAway(frozenset({"line-p1"})), 90.0)
        assert [type(c) for c in commands] == [Emit]

    def test_a_call_leaving_the_queue_keeps_the_outcome_it_had(self) -> None:
        call = queued()
        call.record.phase, call.record.outcome = "leaving", "closing"  # its goodbye was playing
        assert call.handle(EndedWhileAway(frozenset()), 90.0)[-1].fields["outcome"] == "closing"  # type: ignore[union-attr]

    def test_the_recording_is_left_to_the_recording_service(self) -> None:
        """Its recovery closes the segment by the name the record keeps: the call must not forget it."""
        call = talking()
        call.record.recording.live = "c1-r1"
        call.handle(EndedWhileAway(frozenset()), 90.0)
        assert call.record.recording.live == "c1-r1"
