"""The call machine with a persistent agent (joined, never rung) and with ring_all (several legs at once)."""

from __future__ import annotations

import msgspec

from callcenter_ari import ivr
from callcenter_ari.calls.machine import CallSettings, InboundCall, QueueSettings
from callcenter_ari.calls.messages import (
    AgentConnected,
    AgentFailed,
    AgentFinished,
    AgentGone,
    AgentJoined,
    AgentUp,
    Announce,
    CallerGone,
    Connect,
    DestroyBridge,
    Emit,
    Enqueue,
    Hangup,
    JoinAgent,
    LeaveBridge,
    MohStart,
    MohStop,
    Offered,
    Originate,
    Play,
    PlaybackDone,
    ReleaseAgent,
    Resume,
    RingAll,
    Start,
    StopPlayback,
    Timeout,
    TransferTo,
)
from callcenter_ari.calls.records import CallRecord

SETTINGS = CallSettings(
    greeting="sound:hello",
    queue="support",
    queues={"support": QueueSettings(moh_class="default", ring_timeout=15, max_wait=600)},
)
JOIN = Offered("p1", "PJSIP/p1", line="line-p1", bridge="line-p1-agent")


def queued_call(settings: CallSettings = SETTINGS) -> InboundCall:
    record = CallRecord(call_id="c1", channel_id="ch1", caller="+15551234567", did="5551000", started_at=0.0)
    call = InboundCall(record, settings)
    call.handle(Start(), 0.0)
    call.handle(PlaybackDone("c1-greeting"), 2.0)
    return call


def emitted(commands: list) -> list[str]:
    return [c.kind for c in commands if isinstance(c, Emit)]


def event(commands: list, kind: str) -> dict:
    [found] = [c.fields for c in commands if isinstance(c, Emit) and c.kind == kind]
    return found


def talking_with_persistent_agent(settings: CallSettings = SETTINGS) -> InboundCall:
    call = queued_call(settings)
    call.handle(JOIN, 10.0)
    call.handle(AgentJoined(), 10.05)
    return call


class TestPersistentAgent:
    def test_an_offer_joins_the_caller_into_the_agents_bridge_without_ringing(self) -> None:
        """No originate, no ring timer: the music stops and the caller goes into the agent's bridge."""
        call = queued_call()
        commands = call.handle(JOIN, 10.0)
        assert not any(isinstance(c, Originate) for c in commands)
        assert MohStop("ch1") in commands
        assert JoinAgent("line-p1-agent", "ch1", "line-p1") in commands
        assert event(commands, "call.offered")["persistent"] is True
        assert call.record.phase == "joining"
        assert (call.record.agent_id, call.record.agent_channel) == ("p1", "line-p1")

    def test_once_joined_the_call_is_answered_with_no_ring_time(self) -> None:
        call = queued_call()
        call.handle(JOIN, 10.0)
        commands = call.handle(AgentJoined(), 10.05)
        assert AgentConnected("p1") in commands
        answered = event(commands, "call.answered")
        assert (answered["agent"], answered["ring"], answered["wait"]) == ("p1", 0.0, 8.05)
        assert not any(isinstance(c, Connect) for c in commands)  # no bridge of the call's own
        assert call.record.phase == "talking" and call.record.connected_at == 10.05

    def test_a_position_announcement_playing_is_stopped_and_forgotten(self) -> None:
        call = queued_call()
        [_, play] = call.handle(Announce(position=1), 5.0)
        assert isinstance(play, Play)
        commands = call.handle(JOIN, 10.0)
        assert StopPlayback(play.playback_id) in commands
        call.handle(AgentJoined(), 10.1)
        assert call.handle(PlaybackDone(play.playback_id), 10.2) == []  # no music comes back in the conversation

    def test_the_caller_hanging_up_leaves_the_agent_in_their_bridge_for_wrap_up(self) -> None:
        call = talking_with_persistent_agent()
        commands = call.handle(CallerGone(16), 70.0)
        assert not any(isinstance(c, (Hangup, DestroyBridge, LeaveBridge)) for c in commands)
        assert AgentFinished("p1") in commands
        ended = event(commands, "call.ended")
        assert (ended["outcome"], ended["released_by"], ended["talk"]) == ("completed", "caller", 59.95)

    def test_the_agent_hanging_up_their_phone_mid_call_releases_the_caller(self) -> None:
        """The agent's line went down: the caller is hung up and the call counts as released by the agent."""
        call = talking_with_persistent_agent()
        commands = call.handle(AgentGone(16, "line-p1"), 40.0)
        assert Hangup("ch1") in commands
        assert not any(isinstance(c, DestroyBridge) for c in commands)  # the agent's bridge is not the call's
        assert AgentFinished("p1") in commands
        assert event(commands, "call.ended")["released_by"] == "agent"

    def test_the_agent_hanging_up_sends_the_caller_to_the_survey_out_of_the_bridge(self) -> None:
        survey = ivr.survey_flow("csat", msgspec.convert({"question": ["sound:rate-us"], "thanks": []}, ivr.Survey))
        queues = {"support": QueueSettings(survey_name="csat", survey=survey)}
        call = talking_with_persistent_agent(CallSettings(greeting="sound:hello", queue="support", queues=queues))
        commands = call.handle(AgentGone(16, "line-p1"), 40.0)
        assert commands[0] == LeaveBridge("line-p1-agent", "ch1")
        assert Hangup("ch1") not in commands
        assert AgentFinished("p1") in commands
        assert call.record.phase == "survey"

    def test_the_caller_hanging_up_while_being_joined_frees_the_agent(self) -> None:
        """The race: the caller hangs up before they are in the bridge. The agent never heard them: available
        again (no wrap-up), and the call is an abandon."""
        call = queued_call()
        call.handle(JOIN, 10.0)
        commands = call.handle(CallerGone(16), 10.01)
        assert ReleaseAgent("p1", "caller_abandoned") in commands
        assert not any(isinstance(c, (AgentFinished, Hangup)) for c in commands)
        assert call.record.outcome == "abandoned"
        assert call.handle(AgentJoined(), 10.02) == []  # a join reported after the end changes nothing

    def test_the_agents_line_going_down_while_joining_puts_the_caller_back_at_their_place(self) -> None:
        call = queued_call()
        call.handle(JOIN, 10.0)
        commands = call.handle(AgentGone(16, "line-p1"), 10.01)
        assert LeaveBridge("line-p1-agent", "ch1") in commands
        assert ReleaseAgent("p1", "unavailable") in commands
        assert MohStart("ch1", "default") in commands
        assert Enqueue("support", 0, 2.0) in commands  # the original enqueue time: the same place in line
        assert call.record.phase == "queued" and call.record.agent_bridge == ""

    def test_a_restart_while_joining_starts_the_offer_over(self) -> None:
        call = queued_call()
        call.handle(JOIN, 10.0)
        commands = call.handle(Resume(), 20.0)
        assert LeaveBridge("line-p1-agent", "ch1") in commands
        assert ReleaseAgent("p1", "restart") in commands
        assert call.record.phase == "queued"

    def test_a_transfer_to_a_queue_takes_the_caller_out_and_leaves_the_agent_in_place(self) -> None:
        call = talking_with_persistent_agent(
            CallSettings(queue="support", queues={"support": QueueSettings(), "sales": QueueSettings()})
        )
        commands = call.handle(TransferTo("queue", "sales"), 30.0)
        assert LeaveBridge("line-p1-agent", "ch1") in commands
        assert not any(isinstance(c, (Hangup, DestroyBridge)) for c in commands)
        assert AgentFinished("p1") in commands
        assert call.record.phase == "queued" and call.record.agent_bridge == ""


def ringing_all(call: InboundCall) -> list:
    return call.handle(RingAll((("a1", "PJSIP/a1"), ("a2", "PJSIP/a2"), ("a3", "PJSIP/a3"))), 10.0)


class TestRingAll:
    def test_every_agent_is_rung_at_once_with_one_offer_event_each(self) -> None:
        call = queued_call()
        commands = ringing_all(call)
        legs = [c for c in commands if isinstance(c, Originate)]
        assert [(o.endpoint, o.channel_id) for o in legs] == [
            ("PJSIP/a1", "c1-a1"),
            ("PJSIP/a2", "c1-a2"),
            ("PJSIP/a3", "c1-a3"),
        ]
        assert [e["agent"] for e in (c.fields for c in commands if isinstance(c, Emit))] == ["a1", "a2", "a3"]
        assert call.record.legs == {"c1-a1": "a1", "c1-a2": "a2", "c1-a3": "a3"}

    def test_the_first_to_answer_takes_the_call_and_the_other_legs_are_hung_up(self) -> None:
        """The other agents are not released by the call: the ACD frees them when the winner connects."""
        call = queued_call()
        ringing_all(call)
        commands = call.handle(AgentUp("c1-a2"), 13.0)
        assert Connect("c1-b", ("ch1", "c1-a2")) in commands
        assert {c.channel for c in commands if isinstance(c, Hangup)} == {"c1-a1", "c1-a3"}
        assert AgentConnected("a2") in commands
        assert not any(isinstance(c, ReleaseAgent) for c in commands)
        assert event(commands, "call.answered")["agent"] == "a2"
        assert (call.record.agent_id, call.record.legs) == ("a2", {})

    def test_two_agents_answering_at_nearly_the_same_time_only_the_first_gets_the_call(self) -> None:
        call = queued_call()
        ringing_all(call)
        first = call.handle(AgentUp("c1-a1"), 13.0)
        assert Hangup("c1-a3") in first and Hangup("c1-a2") in first  # the second leg is hung up, answered or not
        assert call.handle(AgentUp("c1-a3"), 13.01) == []
        assert call.record.agent_id == "a1"
        # The hung-up legs' hang-ups arrive later: stale, they do not end the conversation.
        assert call.handle(AgentGone(16, "c1-a3"), 13.02) == []
        assert call.record.phase == "talking"

    def test_a_leg_that_fails_releases_its_agent_while_the_others_keep_ringing(self) -> None:
        call = queued_call()
        ringing_all(call)
        commands = call.handle(AgentGone(17, "c1-a2"), 11.0)
        assert ReleaseAgent("a2", "busy") in commands
        assert emitted(commands) == ["call.agent_failed"]
        assert not any(isinstance(c, Enqueue) for c in commands)
        assert call.record.phase == "ringing" and set(call.record.legs) == {"c1-a1", "c1-a3"}
        refused = call.handle(AgentFailed("unavailable", "c1-a1"), 11.5)
        assert ReleaseAgent("a1", "unavailable") in refused and call.record.legs == {"c1-a3": "a3"}

    def test_nobody_answering_is_ring_no_answer_for_each_and_the_caller_keeps_their_place(self) -> None:
        call = queued_call()
        ringing_all(call)
        commands = call.handle(Timeout("ring"), 30.0)
        assert [c for c in commands if isinstance(c, ReleaseAgent)] == [
            ReleaseAgent("a1", "ring_no_answer"),
            ReleaseAgent("a2", "ring_no_answer"),
            ReleaseAgent("a3", "ring_no_answer"),
        ]
        assert {c.channel for c in commands if isinstance(c, Hangup)} == {"c1-a1", "c1-a2", "c1-a3"}
        assert Enqueue("support", 0, 2.0) in commands
        assert emitted(commands) == ["call.agent_failed"] * 3
        assert call.record.phase == "queued" and call.record.legs == {}

    def test_the_last_leg_failing_puts_the_call_back_in_line(self) -> None:
        call = queued_call()
        call.handle(RingAll((("a1", "PJSIP/a1"), ("a2", "PJSIP/a2"))), 10.0)
        call.handle(AgentGone(19, "c1-a1"), 25.0)
        commands = call.handle(AgentGone(19, "c1-a2"), 25.1)
        assert ReleaseAgent("a2", "ring_no_answer") in commands and Enqueue("support", 0, 2.0) in commands
        assert call.record.phase == "queued"

    def test_the_caller_hanging_up_while_ringing_hangs_up_every_leg_and_frees_every_agent(self) -> None:
        call = queued_call()
        ringing_all(call)
        commands = call.handle(CallerGone(16), 12.0)
        assert {c.channel for c in commands if isinstance(c, Hangup)} == {"c1-a1", "c1-a2", "c1-a3"}
        assert {c.agent_id for c in commands if isinstance(c, ReleaseAgent)} == {"a1", "a2", "a3"}
        assert call.record.outcome == "abandoned"

    def test_a_restart_while_ringing_all_drops_every_leg(self) -> None:
        call = queued_call()
        ringing_all(call)
        commands = call.handle(Resume(), 12.0)
        assert {c.agent_id for c in commands if isinstance(c, ReleaseAgent)} == {"a1", "a2", "a3"}
        assert call.record.phase == "queued"
