"""The call machine drives its recorder: start with the bridge, stop before the bridge goes, people's actions."""

from __future__ import annotations

import msgspec

from callcenter_ari.calls.machine import CallSettings, InboundCall, QueueSettings
from callcenter_ari.calls.messages import (
    AgentGone,
    AgentJoined,
    AgentReserved,
    AgentUp,
    CallerGone,
    CompleteTransfer,
    Connect,
    Consult,
    ControlRecording,
    DestroyBridge,
    Emit,
    Offered,
    PlaybackDone,
    RecordingControl,
    RecordingDone,
    Resume,
    Start,
    StartConference,
    StartRecording,
    TransferTo,
    TransferToAgent,
)
from callcenter_ari.calls.records import CallRecord
from callcenter_ari.recording.settings import RecordingPolicy

RECORDED = CallSettings(
    greeting="sound:hello",
    queue="support",
    queues={
        "support": QueueSettings(recording=RecordingPolicy(mode="all")),
        "sales": QueueSettings(),
    },
)


def talking(settings: CallSettings = RECORDED) -> InboundCall:
    call = InboundCall(CallRecord(call_id="c1", channel_id="ch1", started_at=0.0), settings)
    call.handle(Start(), 0.0)
    call.handle(PlaybackDone("c1-greeting"), 2.0)
    call.handle(Offered("a1", "PJSIP/a1"), 5.0)
    return call


def recording_commands(commands: list) -> list:
    return [c for c in commands if isinstance(c, (StartRecording, ControlRecording, Connect, DestroyBridge))]


def test_recording_starts_right_after_the_bridge_forms() -> None:
    call = talking()
    out = recording_commands(call.handle(AgentUp("c1-a1"), 8.0))
    assert out == [Connect("c1-b", ("ch1", "c1-a1")), StartRecording("c1-b", "c1-r1", False, 1)]


def test_queue_without_a_recording_policy_records_nothing() -> None:
    call = talking(msgspec.structs.replace(RECORDED, queues={"support": QueueSettings()}))
    assert [c for c in call.handle(AgentUp("c1-a1"), 8.0) if isinstance(c, StartRecording)] == []


def test_hang_up_stops_the_recording_before_the_bridge_is_destroyed() -> None:
    for gone in (CallerGone(16), AgentGone(16, "c1-a1")):
        call = talking()
        call.handle(AgentUp("c1-a1"), 8.0)
        out = recording_commands(call.handle(gone, 30.0))
        assert out == [ControlRecording("c1-r1", "stop"), DestroyBridge("c1-b")]


def test_transfer_away_ends_the_segment_and_the_next_agent_gets_the_next_one() -> None:
    call = talking()
    call.handle(AgentUp("c1-a1"), 8.0)
    out = recording_commands(call.handle(TransferTo("queue", "sales"), 20.0))
    assert out == [ControlRecording("c1-r1", "stop"), DestroyBridge("c1-b")]
    call.handle(Offered("a2", "PJSIP/a2"), 25.0)
    out = recording_commands(call.handle(AgentUp("c1-a2"), 27.0))
    # The decision was taken at the first bridge: the sales queue's own policy (none) does not undo it.
    assert out[-1] == StartRecording("c1-b", "c1-r2", False, 2)


def test_pause_is_carried_out_and_announced() -> None:
    call = talking()
    call.handle(AgentUp("c1-a1"), 8.0)
    out = call.handle(RecordingControl("pause"), 12.0)
    assert out[0] == ControlRecording("c1-r1", "pause")
    assert isinstance(out[1], Emit) and out[1].kind == "recording.control" and out[1].fields["action"] == "pause"


def test_an_action_that_does_not_apply_changes_nothing() -> None:
    call = talking()
    call.handle(AgentUp("c1-a1"), 8.0)
    assert call.handle(RecordingControl("resume"), 12.0) == []
    assert call.record.recording.live == "c1-r1" and not call.record.recording.paused


def test_a_segment_that_ended_on_its_own_is_not_stopped_again() -> None:
    call = talking()
    call.handle(AgentUp("c1-a1"), 8.0)
    call.handle(RecordingDone("c1-r1"), 9.0)
    assert ControlRecording("c1-r1", "stop") not in call.handle(CallerGone(16), 30.0)


def test_after_a_restart_the_live_segment_is_still_known() -> None:
    call = talking()
    call.handle(AgentUp("c1-a1"), 8.0)
    call.handle(RecordingControl("pause"), 10.0)
    stored = msgspec.json.decode(msgspec.json.encode(call.record), type=CallRecord)
    resumed = InboundCall(stored, RECORDED)
    resumed.handle(Resume(frozenset({stored.channel_id, stored.agent_channel})), 40.0)
    assert resumed.handle(RecordingControl("resume"), 41.0)[0] == ControlRecording("c1-r1", "unpause")
    assert recording_commands(resumed.handle(CallerGone(16), 50.0))[0] == ControlRecording("c1-r1", "stop")


def consulting_a2(call: InboundCall) -> None:
    call.handle(Consult("agent", "a2"), 20.0)
    call.handle(AgentReserved("a2", "PJSIP/a2"), 20.0)
    call.handle(AgentUp("c1-c2"), 23.0)


def test_a_completed_attended_transfer_starts_the_next_agents_segment_in_the_same_bridge() -> None:
    call = talking()
    call.handle(AgentUp("c1-a1"), 8.0)
    consulting_a2(call)
    out = recording_commands(call.handle(CompleteTransfer(), 30.0))
    assert ControlRecording("c1-r1", "stop") in out
    assert out[-1] == StartRecording("c1-b", "c1-r2", False, 2)
    assert call.record.agent_id == "a2"


def test_a_conference_is_recorded_in_the_first_segment_until_the_first_agent_leaves() -> None:
    call = talking()
    call.handle(AgentUp("c1-a1"), 8.0)
    consulting_a2(call)
    assert [c for c in call.handle(StartConference(), 30.0) if isinstance(c, (StartRecording, ControlRecording))] == []
    out = recording_commands(call.handle(AgentGone(16, "c1-a1"), 40.0))
    assert out == [ControlRecording("c1-r1", "stop"), StartRecording("c1-b", "c1-r2", False, 2)]


def test_a_blind_transfer_to_an_agent_ends_the_segment_and_the_target_gets_the_next() -> None:
    call = talking()
    call.handle(AgentUp("c1-a1"), 8.0)
    call.handle(TransferToAgent("a2"), 20.0)
    out = recording_commands(call.handle(AgentReserved("a2", "PJSIP/a2"), 20.0))
    assert out == [ControlRecording("c1-r1", "stop"), DestroyBridge("c1-b")]
    leg = call.record.agent_channel
    assert recording_commands(call.handle(AgentUp(leg), 24.0))[-1] == StartRecording("c1-b", "c1-r2", False, 2)


def test_the_recording_can_be_paused_during_a_conference() -> None:
    call = talking()
    call.handle(AgentUp("c1-a1"), 8.0)
    consulting_a2(call)
    call.handle(StartConference(), 30.0)
    assert call.handle(RecordingControl("pause"), 31.0)[0] == ControlRecording("c1-r1", "pause")


def joined_to_persistent_agent() -> InboundCall:
    call = InboundCall(CallRecord(call_id="c1", channel_id="ch1", started_at=0.0), RECORDED)
    call.handle(Start(), 0.0)
    call.handle(PlaybackDone("c1-greeting"), 2.0)
    call.handle(Offered("p1", "PJSIP/p1", line="line-p1", bridge="line-p1-agent"), 5.0)
    return call


def test_a_persistent_agents_call_is_recorded_in_their_bridge_from_the_join() -> None:
    call = joined_to_persistent_agent()
    out = [c for c in call.handle(AgentJoined(), 5.1) if isinstance(c, StartRecording)]
    assert out == [StartRecording("line-p1-agent", "c1-r1", False, 1)]
    assert call.handle(RecordingControl("pause"), 6.0)[0] == ControlRecording("c1-r1", "pause")


def test_the_recording_stops_when_the_caller_leaves_the_persistent_agents_bridge() -> None:
    """The agent's bridge stays up for the next caller: the segment must be stopped, not left to the bridge's end."""
    for gone in (CallerGone(16), AgentGone(16, "line-p1")):
        call = joined_to_persistent_agent()
        call.handle(AgentJoined(), 5.1)
        out = call.handle(gone, 30.0)
        assert out[0] == ControlRecording("c1-r1", "stop")
        assert not any(isinstance(c, DestroyBridge) for c in out)


def test_a_segment_that_ended_during_a_conference_can_be_started_again() -> None:
    call = talking()
    call.handle(AgentUp("c1-a1"), 8.0)
    consulting_a2(call)
    call.handle(StartConference(), 30.0)
    call.handle(RecordingDone("c1-r1"), 31.0)  # Asterisk ended it (or would not pause it): not live any more
    assert call.record.recording.live == ""
    assert call.handle(RecordingControl("start"), 32.0)[0] == StartRecording("c1-b", "c1-r2", True, 2)
