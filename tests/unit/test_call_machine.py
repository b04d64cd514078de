"""The inbound call machine: inputs and time in, commands out. Plain asserts, no I/O."""

from __future__ import annotations

import pytest

from callcenter_ari.calls.machine import CallSettings, InboundCall, QueueSettings
from callcenter_ari.calls.messages import (
    AgentConnected,
    AgentFailed,
    AgentFinished,
    AgentGone,
    AgentOnHold,
    AgentUp,
    Announce,
    Answer,
    CallerGone,
    CancelTimer,
    Connect,
    Dequeue,
    DestroyBridge,
    Emit,
    Enqueue,
    Hangup,
    Hold,
    MohStart,
    MohStop,
    Mute,
    Offered,
    Originate,
    Play,
    PlaybackDone,
    QueueEnded,
    QueueRefused,
    ReleaseAgent,
    Resume,
    SetTimer,
    Start,
    StopPlayback,
    SupervisorHangup,
    Timeout,
    TransferTo,
    Unhold,
    Unmute,
)
from callcenter_ari.calls.records import CallRecord

QUEUED = CallSettings(
    greeting="sound:hello",
    queue="support",
    queues={"support": QueueSettings(moh_class="default", ring_timeout=15, max_wait=600)},
)


def new_call(settings: CallSettings = QUEUED) -> InboundCall:
    record = CallRecord(call_id="c1", channel_id="ch1", caller="+15551234567", did="5551000", started_at=0.0)
    return InboundCall(record, settings)


def kinds(commands: list) -> list[type]:
    return [type(c) for c in commands if not isinstance(c, Emit)]


def emitted(commands: list) -> list[str]:
    return [c.kind for c in commands if isinstance(c, Emit)]


def queued_call() -> InboundCall:
    call = new_call()
    call.handle(Start(), 0.0)
    call.handle(PlaybackDone("c1-greeting"), 2.0)
    return call


def talking_call() -> InboundCall:
    call = queued_call()
    call.handle(Offered("a1", "PJSIP/a1"), 5.0)
    call.handle(AgentUp("c1-a1"), 8.0)
    return call


class TestFirstFlow:
    def test_answered_then_greeted(self) -> None:
        """A new call is answered and hears the greeting."""
        call = new_call()
        commands = call.handle(Start(), 0.0)
        assert commands[0] == Answer("ch1")
        assert Play("ch1", ("sound:hello",), "c1-greeting") in commands
        assert emitted(commands) == ["call.started"]
        assert call.record.phase == "greeting"

    def test_without_queue_hangs_up_after_greeting(self) -> None:
        """A DID with no queue: answer, greeting, hang up, outcome completed."""
        call = new_call(CallSettings(greeting="sound:hello"))
        call.handle(Start(), 0.0)
        commands = call.handle(PlaybackDone("c1-greeting"), 1.4)
        assert Hangup("ch1") in commands
        assert call.ended and call.record.outcome == "completed"
        assert emitted(commands) == ["call.ended"]

    def test_a_foreign_playback_does_not_end_the_greeting(self) -> None:
        call = new_call()
        call.handle(Start(), 0.0)
        assert call.handle(PlaybackDone("other-greeting"), 1.0) == []
        assert call.record.phase == "greeting"

    def test_hangup_during_greeting_is_not_an_abandon(self) -> None:
        """Leaving in the IVR is counted apart from abandoning a queue."""
        call = new_call()
        call.handle(Start(), 0.0)
        call.handle(CallerGone(16), 1.0)
        assert call.record.outcome == "hung_up_in_ivr"


class TestQueue:
    def test_greeting_then_queue_with_moh_and_max_wait(self) -> None:
        call = new_call()
        call.handle(Start(), 0.0)
        commands = call.handle(PlaybackDone("c1-greeting"), 2.0)
        assert kinds(commands) == [MohStart, Enqueue, SetTimer]
        assert Enqueue("support", 0, 2.0, first=True) in commands
        assert SetTimer("max_wait", 602.0) in commands
        assert call.record.phase == "queued"

    def test_offer_originates_the_agent_leg(self) -> None:
        call = queued_call()
        commands = call.handle(Offered("a1", "PJSIP/a1"), 5.0)
        originate = next(c for c in commands if isinstance(c, Originate))
        assert originate.endpoint == "PJSIP/a1"
        assert originate.channel_id == "c1-a1"
        assert originate.app_args == ("agent", "a1", "c1")
        assert call.record.phase == "ringing"

    def test_agent_answer_bridges_and_stops_moh(self) -> None:
        call = queued_call()
        call.handle(Offered("a1", "PJSIP/a1"), 5.0)
        commands = call.handle(AgentUp("c1-a1"), 8.0)
        assert MohStop("ch1") in commands
        assert Connect("c1-b", ("ch1", "c1-a1")) in commands
        assert AgentConnected("a1") in commands
        answered = next(c for c in commands if isinstance(c, Emit) and c.kind == "call.answered")
        assert answered.fields["wait"] == 6.0

    def test_ring_no_answer_returns_the_call_to_its_place(self) -> None:
        """The call keeps its original enqueue time, so it does not lose its place in line."""
        call = queued_call()
        call.handle(Offered("a1", "PJSIP/a1"), 5.0)
        commands = call.handle(AgentGone(19), 20.0)
        assert ReleaseAgent("a1", "ring_no_answer") in commands
        assert Enqueue("support", 0, 2.0) in commands
        assert Hangup("c1-a1") in commands
        assert call.record.phase == "queued"

    def test_busy_agent_is_released_as_busy(self) -> None:
        call = queued_call()
        call.handle(Offered("a1", "PJSIP/a1"), 5.0)
        assert ReleaseAgent("a1", "busy") in call.handle(AgentGone(17), 5.5)

    @pytest.mark.parametrize(
        ("dialstatus", "reason"),
        [
            ("BUSY", "busy"),
            ("CONGESTION", "unavailable"),
            ("CHANUNAVAIL", "unavailable"),
            ("NOANSWER", "ring_no_answer"),
        ],
    )
    def test_a_local_leg_ending_with_cause_0_is_released_for_its_dial_status(
        self, dialstatus: str, reason: str
    ) -> None:
        """A Local channel's own cause is 0 whatever happened; the Dial event's status says busy or unavailable."""
        call = queued_call()
        call.handle(Offered("a1", "Local/1001@agents"), 5.0)
        commands = call.handle(AgentGone(0, "c1-a1", dialstatus), 5.5)
        assert ReleaseAgent("a1", reason) in commands
        assert next(c for c in commands if isinstance(c, Emit)).fields["reason"] == reason

    def test_a_leg_with_neither_a_dial_status_nor_a_known_cause_failed(self) -> None:
        call = queued_call()
        call.handle(Offered("a1", "Local/1001@agents"), 5.0)
        assert ReleaseAgent("a1", "failed") in call.handle(AgentGone(0, "c1-a1"), 5.5)

    def test_ring_backstop_timer(self) -> None:
        call = queued_call()
        call.handle(Offered("a1", "PJSIP/a1"), 5.0)
        commands = call.handle(Timeout("ring"), 25.0)
        assert ReleaseAgent("a1", "ring_no_answer") in commands

    def test_originate_refused(self) -> None:
        call = queued_call()
        call.handle(Offered("a1", "PJSIP/a1"), 5.0)
        assert ReleaseAgent("a1", "unavailable") in call.handle(AgentFailed("unavailable"), 5.1)

    def test_second_offer_uses_a_new_leg_id(self) -> None:
        call = queued_call()
        call.handle(Offered("a1", "PJSIP/a1"), 5.0)
        call.handle(AgentGone(19), 20.0)
        commands = call.handle(Offered("a2", "PJSIP/a2"), 21.0)
        assert next(c for c in commands if isinstance(c, Originate)).channel_id == "c1-a2"

    def test_abandon_while_waiting(self) -> None:
        call = queued_call()
        commands = call.handle(CallerGone(16), 30.0)
        assert Dequeue("support") in commands
        assert CancelTimer("max_wait") in commands
        assert call.record.outcome == "abandoned"
        ended = next(c for c in commands if isinstance(c, Emit) and c.kind == "call.ended")
        assert ended.fields["wait"] == 28.0

    def test_abandon_while_agent_rings_releases_the_agent(self) -> None:
        call = queued_call()
        call.handle(Offered("a1", "PJSIP/a1"), 5.0)
        commands = call.handle(CallerGone(16), 6.0)
        assert Hangup("c1-a1") in commands
        assert ReleaseAgent("a1", "caller_abandoned") in commands
        assert call.record.outcome == "abandoned"

    def test_a_supervisor_hanging_up_a_waiting_caller_is_not_an_abandon(self) -> None:
        """The API marks the call before Asterisk hangs the caller up: the caller's leaving then ends it as
        hung_up_by_supervisor, naming who; an agent being rung is freed as for an abandon."""
        call = queued_call()
        call.handle(Offered("a1", "PJSIP/a1"), 5.0)
        assert call.handle(SupervisorHangup("floor"), 6.0) == []
        commands = call.handle(CallerGone(16), 6.1)
        assert Dequeue("support") in commands and ReleaseAgent("a1", "caller_abandoned") in commands
        assert call.record.outcome == "hung_up_by_supervisor"
        ended = next(c for c in commands if isinstance(c, Emit) and c.kind == "call.ended")
        assert (ended.fields["outcome"], ended.fields["by"]) == ("hung_up_by_supervisor", "floor")

    def test_a_supervisor_hang_up_that_failed_leaves_a_later_abandon_the_callers(self) -> None:
        call = queued_call()
        call.handle(SupervisorHangup("floor"), 6.0)
        call.handle(SupervisorHangup(""), 6.5)  # Asterisk could not be asked: the mark is withdrawn
        call.handle(CallerGone(16), 30.0)
        assert call.record.outcome == "abandoned"

    def test_max_wait_ends_the_call(self) -> None:
        call = queued_call()
        commands = call.handle(Timeout("max_wait"), 602.0)
        assert Hangup("ch1") in commands and Dequeue("support") in commands
        assert call.record.outcome == "max_wait"

    def test_queue_refusal_hangs_up(self) -> None:
        call = queued_call()
        assert Hangup("ch1") in call.handle(QueueRefused("full"), 2.1)
        assert call.record.outcome == "refused_full"

    def test_acd_ending_the_wait_plays_the_message_then_hangs_up(self) -> None:
        call = queued_call()
        commands = call.handle(QueueEnded("step_end", "sound:sorry"), 300.0)
        assert Dequeue("support") in commands and Play("ch1", ("sound:sorry",), "c1-leave") in commands
        assert call.record.phase == "leaving"
        assert Hangup("ch1") in call.handle(PlaybackDone("c1-leave"), 303.0)
        assert call.record.outcome == "step_end"

    def test_position_announcement_pauses_the_music(self) -> None:
        call = queued_call()
        commands = call.handle(Announce(3, 240.0), 60.0)
        play = next(c for c in commands if isinstance(c, Play))
        assert MohStop("ch1") in commands
        assert play.media == (
            "sound:queue-thereare",
            "number:3",
            "sound:queue-callswaiting",
            "sound:queue-holdtime",
            "number:4",
            "sound:queue-minutes",
        )
        assert call.handle(PlaybackDone(play.playback_id), 66.0) == [MohStart("ch1", "default")]

    def test_announcement_is_stopped_when_the_agent_answers(self) -> None:
        call = queued_call()
        play = next(c for c in call.handle(Announce(1), 60.0) if isinstance(c, Play))
        assert play.media == ("sound:queue-youarenext",)
        call.handle(Offered("a1", "PJSIP/a1"), 61.0)
        assert StopPlayback(play.playback_id) in call.handle(AgentUp("c1-a1"), 62.0)


class TestTalking:
    def test_caller_hangs_up(self) -> None:
        call = talking_call()
        commands = call.handle(CallerGone(16), 68.0)
        assert Hangup("c1-a1") in commands
        assert DestroyBridge("c1-b") in commands
        assert AgentFinished("a1") in commands
        ended = next(c for c in commands if isinstance(c, Emit) and c.kind == "call.ended")
        assert ended.fields["talk"] == 60.0 and ended.fields["released_by"] == "caller"
        assert call.record.outcome == "completed"

    def test_agent_hangs_up(self) -> None:
        call = talking_call()
        commands = call.handle(AgentGone(16), 30.0)
        assert Hangup("ch1") in commands
        assert call.record.outcome == "completed"

    def test_inputs_after_the_end_change_nothing(self) -> None:
        """A second hang-up (StasisEnd after ChannelHangupRequest) is ignored."""
        call = talking_call()
        call.handle(CallerGone(16), 68.0)
        before = call.record.ended_at
        assert call.handle(CallerGone(None), 69.0) == []
        assert call.handle(AgentGone(16), 69.0) == []
        assert call.record.ended_at == before


class TestHold:
    def test_hold_plays_music_mutes_the_caller_and_alerts_after_the_limit(self) -> None:
        call = talking_call()
        commands = call.handle(Hold(), 20.0)
        assert MohStart("ch1", "default") in commands and Mute("ch1") in commands
        assert AgentOnHold("a1", True) in commands and SetTimer("hold_alert", 50.0) in commands
        alert = call.handle(Timeout("hold_alert"), 50.0)
        assert [c.kind for c in alert if isinstance(c, Emit)] == ["call.hold_alert"]
        commands = call.handle(Unhold(), 55.0)
        assert MohStop("ch1") in commands and Unmute("ch1") in commands and AgentOnHold("a1", False) in commands
        assert call.record.hold_seconds == 35.0 and call.record.held_since is None

    def test_a_second_hold_or_an_unhold_without_hold_changes_nothing(self) -> None:
        call = talking_call()
        assert call.handle(Unhold(), 20.0) == []
        call.handle(Hold(), 21.0)
        assert call.handle(Hold(), 22.0) == []

    def test_hanging_up_on_hold_cancels_the_alert(self) -> None:
        call = talking_call()
        call.handle(Hold(), 20.0)
        assert CancelTimer("hold_alert") in call.handle(CallerGone(16), 25.0)


class TestResume:
    def test_queued_call_keeps_its_place_after_restart(self) -> None:
        record = queued_call().record
        resumed = InboundCall(record, QUEUED)
        commands = resumed.handle(Resume(), 100.0)
        assert Enqueue("support", 0, 2.0) in commands
        assert SetTimer("max_wait", 602.0) in commands

    def test_ringing_call_goes_back_to_queue(self) -> None:
        call = queued_call()
        call.handle(Offered("a1", "PJSIP/a1"), 5.0)
        resumed = InboundCall(call.record, QUEUED)
        commands = resumed.handle(Resume(), 7.0)
        assert ReleaseAgent("a1", "restart") in commands
        assert resumed.record.phase == "queued"

    def test_talking_call_waits_for_hangup(self) -> None:
        record = talking_call().record
        resumed = InboundCall(record, QUEUED)
        assert kinds(resumed.handle(Resume(frozenset({record.channel_id, record.agent_channel})), 50.0)) == []
        assert AgentFinished("a1") in resumed.handle(CallerGone(16), 60.0)

    def test_a_talking_call_whose_agent_hung_up_meanwhile_ends(self) -> None:
        """The agent's leg is not among the channels Asterisk lists: the caller is hung up (not left alone in the
        bridge), the bridge destroyed, the agent finished (wrap-up), the call completed."""
        record = talking_call().record
        resumed = InboundCall(record, QUEUED)
        commands = resumed.handle(Resume(frozenset({record.channel_id})), 50.0)
        assert Hangup(record.channel_id) in commands and DestroyBridge(record.bridge_id) in commands
        assert AgentFinished("a1") in commands
        assert resumed.record.phase == "ended" and resumed.record.outcome == "completed"


class TestStaleLegs:
    def test_a_late_hangup_of_the_unanswered_leg_does_not_fail_the_next_offer(self) -> None:
        """After a ring-no-answer the call rings another agent; the first leg's hang-up arriving now changes
        nothing."""
        call = queued_call()
        call.handle(Offered("a1", "PJSIP/a1"), 5.0)
        call.handle(Timeout("ring"), 25.0)  # the backstop: a1 did not answer
        call.handle(Offered("a2", "PJSIP/a2"), 26.0)
        assert call.handle(AgentGone(19, "c1-a1"), 26.5) == []
        assert call.record.phase == "ringing" and call.record.agent_id == "a2"
        assert ReleaseAgent("a2", "busy") in call.handle(AgentGone(17, "c1-a2"), 27.0)


class TestBlindTransfer:
    def test_to_another_queue_frees_the_agent_and_the_caller_waits_again(self) -> None:
        settings = CallSettings(
            greeting="sound:hello",
            queue="support",
            queues={"support": QueueSettings(), "billing": QueueSettings(moh_class="jazz")},
        )
        record = CallRecord(call_id="c1", channel_id="ch1", started_at=0.0)
        call = InboundCall(record, settings)
        call.handle(Start(), 0.0)
        call.handle(PlaybackDone("c1-greeting"), 2.0)
        call.handle(Offered("a1", "PJSIP/a1"), 5.0)
        call.handle(AgentUp("c1-a1"), 8.0)
        commands = call.handle(TransferTo("queue", "billing"), 60.0)
        assert Hangup("c1-a1") in commands and DestroyBridge("c1-b") in commands and AgentFinished("a1") in commands
        assert Enqueue("billing", 0, 60.0, first=True) in commands and MohStart("ch1", "jazz") in commands
        assert call.record.phase == "queued" and call.record.queue == "billing"
        assert call.handle(AgentGone(16, "c1-a1"), 60.5) == []  # the first agent's leg going away

    def test_to_an_unknown_target_changes_nothing(self) -> None:
        call = talking_call()
        assert call.handle(TransferTo("queue", "nowhere"), 60.0) == []
        assert call.record.phase == "talking"


class TestAwaitedPlayback:
    """The playback a call waits on, which the runtime checks after a disconnect (its end may have been lost)."""

    def test_greeting_announcement_and_nothing(self) -> None:
        call = new_call()
        call.handle(Start(), 0.0)
        assert call.awaited_playback == "c1-greeting"
        call.handle(PlaybackDone("c1-greeting"), 2.0)
        assert call.awaited_playback == ""
        play = next(c for c in call.handle(Announce(2), 30.0) if isinstance(c, Play))
        assert call.awaited_playback == play.playback_id
        call.handle(PlaybackDone(play.playback_id), 33.0)
        assert call.awaited_playback == ""

    def test_the_goodbye_of_a_caller_taken_out_of_the_queue(self) -> None:
        call = queued_call()
        call.handle(QueueEnded("step_end", "sound:sorry"), 300.0)
        assert call.awaited_playback == "c1-leave"
