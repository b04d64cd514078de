"""Transfers of a connected call to a named agent, consultations (attended transfers) and conferences: the call
machine's side, with plain asserts. Every refusal leaves the call as it was."""

from __future__ import annotations

import copy

import pytest

from callcenter_ari.calls.machine import CallSettings, InboundCall, QueueSettings
from callcenter_ari.calls.messages import (
    AgentConnected,
    AgentFailed,
    AgentFinished,
    AgentGone,
    AgentOnHold,
    AgentReserved,
    AgentUp,
    CallerGone,
    CancelConsult,
    CompleteTransfer,
    Connect,
    Consult,
    DestroyBridge,
    Emit,
    Enqueue,
    FreeAgent,
    Hangup,
    Hold,
    Input,
    JoinBridge,
    MohStart,
    MohStop,
    Mute,
    Offered,
    Originate,
    PlaybackDone,
    ReleaseAgent,
    ReleaseLine,
    ReservationRefused,
    ReserveAgent,
    Resume,
    SetTimer,
    Start,
    StartConference,
    Timeout,
    TransferTo,
    TransferToAgent,
    Unhold,
    Unmute,
)
from callcenter_ari.calls.records import CallRecord

SETTINGS = CallSettings(
    greeting="sound:hello",
    queue="support",
    queues={"support": QueueSettings(moh_class="default", ring_timeout=15, max_wait=600, hold_alert=30)},
    destinations={"head_office": ("PJSIP/200", ""), "lawyer": ("PJSIP/+15557654321@provider", "provider")},
)


def talking_call() -> InboundCall:
    """c1 on channel ch1, answered by a1 on leg c1-a1 in bridge c1-b at 8.0 (queued at 2.0)."""
    record = CallRecord(call_id="c1", channel_id="ch1", caller="+15551234567", did="5552000", started_at=0.0)
    call = InboundCall(record, SETTINGS)
    call.handle(Start(), 0.0)
    call.handle(PlaybackDone("c1-greeting"), 2.0)
    call.handle(Offered("a1", "PJSIP/a1"), 5.0)
    call.handle(AgentUp("c1-a1"), 8.0)
    return call


def emitted(commands: list) -> list[str]:  # type: ignore[type-arg]
    return [c.kind for c in commands if isinstance(c, Emit)]


def event(commands: list, kind: str) -> dict:  # type: ignore[type-arg]
    return next(c.fields for c in commands if isinstance(c, Emit) and c.kind == kind)


def refused(call: InboundCall, message: Input, now: float) -> None:
    """The input is refused: no command, and the record exactly as it was."""
    before = copy.deepcopy(call.record)
    assert call.handle(message, now) == []
    assert call.record == before


def consulting(target: str = "a2", *, answered: bool = True) -> InboundCall:
    """a1 consults agent ``target`` at 20.0 (leg c1-c2), who answers at 23.0 unless ``answered`` is False."""
    call = talking_call()
    call.handle(Consult("agent", target), 20.0)
    call.handle(AgentReserved(target, f"PJSIP/{target}"), 20.0)
    if answered:
        call.handle(AgentUp("c1-c2"), 23.0)
    return call


def conference() -> InboundCall:
    call = consulting()
    call.handle(StartConference(), 30.0)
    return call


class TestBlindTransferToAgent:
    def test_the_target_is_reserved_before_anything_else_happens(self) -> None:
        call = talking_call()
        assert call.handle(TransferToAgent("a2"), 60.0) == [ReserveAgent("a2", "support")]
        assert call.record.phase == "talking" and call.record.agent_id == "a1"

    def test_once_reserved_the_target_rings_and_the_first_agent_wraps_up(self) -> None:
        call = talking_call()
        call.handle(TransferToAgent("a2"), 60.0)
        commands = call.handle(AgentReserved("a2", "PJSIP/a2"), 60.0)
        assert Hangup("c1-a1") in commands and DestroyBridge("c1-b") in commands
        assert AgentFinished("a1") in commands and MohStart("ch1", "default") in commands
        originate = next(c for c in commands if isinstance(c, Originate))
        assert (originate.endpoint, originate.channel_id, originate.app_args) == (
            "PJSIP/a2",
            "c1-a2",
            ("agent", "a2", "c1"),
        )
        assert SetTimer("ring", 80.0) in commands
        assert (
            event(commands, "call.transfer_requested").items() >= {"agent": "a1", "to": "agent", "target": "a2"}.items()
        )
        assert (call.record.phase, call.record.agent_id) == ("handover", "a2")

    def test_the_target_answers_and_talks_with_the_caller(self) -> None:
        call = talking_call()
        call.handle(TransferToAgent("a2"), 60.0)
        call.handle(AgentReserved("a2", "PJSIP/a2"), 60.0)
        commands = call.handle(AgentUp("c1-a2"), 63.0)
        assert MohStop("ch1") in commands and Connect("c1-b", ("ch1", "c1-a2")) in commands
        assert AgentConnected("a2") in commands
        assert emitted(commands) == ["call.transferred"]  # not a second call.answered: the queue's figures stand
        assert (call.record.phase, call.record.agent_id, call.record.connected_at) == ("talking", "a2", 8.0)
        assert call.handle(AgentGone(16, "c1-a1"), 63.5) == []  # the first agent's leg going away

    def test_a_target_who_does_not_answer_sends_the_caller_back_to_their_place(self) -> None:
        """The target is handled like a ring-no-answer; the caller waits in the queue with their first enqueue time."""
        call = talking_call()
        call.handle(TransferToAgent("a2"), 60.0)
        call.handle(AgentReserved("a2", "PJSIP/a2"), 60.0)
        commands = call.handle(AgentGone(19, "c1-a2"), 75.0)
        assert ReleaseAgent("a2", "ring_no_answer") in commands and Hangup("c1-a2") in commands
        assert Enqueue("support", 0, 2.0) in commands
        assert (call.record.phase, call.record.agent_id) == ("queued", "")
        assert call.handle(Offered("a3", "PJSIP/a3"), 76.0)  # and can be offered to the next agent

    def test_a_refused_reservation_leaves_the_call_with_its_agent(self) -> None:
        call = talking_call()
        call.handle(TransferToAgent("a2"), 60.0)
        before = copy.deepcopy(call.record)
        commands = call.handle(ReservationRefused("a2", "reserved_elsewhere"), 60.0)
        assert emitted(commands) == ["call.transfer_failed"] and len(commands) == 1
        assert event(commands, "call.transfer_failed")["reason"] == "reserved_elsewhere"
        assert call.record == before

    def test_the_caller_hanging_up_while_the_target_rings_frees_the_target(self) -> None:
        call = talking_call()
        call.handle(TransferToAgent("a2"), 60.0)
        call.handle(AgentReserved("a2", "PJSIP/a2"), 60.0)
        commands = call.handle(CallerGone(16), 62.0)
        assert Hangup("c1-a2") in commands and ReleaseAgent("a2", "caller_abandoned") in commands
        assert call.ended

    def test_a_held_caller_is_unmuted_and_keeps_the_music(self) -> None:
        call = talking_call()
        call.handle(Hold(), 50.0)
        call.handle(TransferToAgent("a2"), 60.0)
        commands = call.handle(AgentReserved("a2", "PJSIP/a2"), 60.0)
        assert Unmute("ch1") in commands and not any(isinstance(c, MohStart) for c in commands)
        assert call.record.hold_seconds == 10.0 and call.record.held_since is None

    def test_a_restart_while_the_target_rings_puts_the_caller_back_in_line(self) -> None:
        call = talking_call()
        call.handle(TransferToAgent("a2"), 60.0)
        call.handle(AgentReserved("a2", "PJSIP/a2"), 60.0)
        resumed = InboundCall(call.record, SETTINGS)
        commands = resumed.handle(Resume(), 61.0)
        assert ReleaseAgent("a2", "restart") in commands and Enqueue("support", 0, 2.0) in commands

    @pytest.mark.parametrize("target", ["a1"])
    def test_the_calls_own_agent_is_refused(self, target: str) -> None:
        refused(talking_call(), TransferToAgent(target), 60.0)

    def test_a_call_without_an_agent_is_refused(self) -> None:
        call = talking_call()
        call.handle(TransferTo("destination", "head_office"), 60.0)
        call.handle(AgentUp(call.record.agent_channel), 62.0)
        assert call.record.phase == "talking" and call.record.agent_id == ""
        refused(call, TransferToAgent("a2"), 63.0)
        refused(call, Consult("agent", "a2"), 63.0)


class TestConsultation:
    def test_the_caller_is_held_and_the_target_reserved(self) -> None:
        call = talking_call()
        commands = call.handle(Consult("agent", "a2"), 20.0)
        assert MohStart("ch1", "default") in commands and Mute("ch1") in commands
        assert commands[-1] == ReserveAgent("a2", "support")
        assert emitted(commands) == ["call.held", "call.consult_started"]
        assert (call.record.phase, call.record.consult_agent, call.record.consult_target) == ("consulting", "a2", "a2")

    def test_the_reserved_target_is_dialled_on_a_consult_leg(self) -> None:
        call = talking_call()
        call.handle(Consult("agent", "a2"), 20.0)
        commands = call.handle(AgentReserved("a2", "PJSIP/a2"), 20.0)
        assert commands == [
            Originate("PJSIP/a2", "c1-c2", ("agent", "a2", "c1"), 15, caller_id="+15551234567"),
            SetTimer("consult_ring", 40.0),
        ]
        assert call.record.agent_channel == "c1-a1"  # the agent's own leg is untouched

    def test_a_destination_is_dialled_at_once_on_its_trunk(self) -> None:
        call = talking_call()
        commands = call.handle(Consult("destination", "lawyer"), 20.0)
        originate = next(c for c in commands if isinstance(c, Originate))
        assert (originate.endpoint, originate.trunk, originate.app_args) == (
            "PJSIP/+15557654321@provider",
            "provider",
            ("transfer", "c1"),
        )
        assert not any(isinstance(c, ReserveAgent) for c in commands)
        assert call.record.consult_agent == "" and call.record.consult_target == "lawyer"

    def test_the_answer_bridges_agent_and_target_apart_from_the_caller(self) -> None:
        call = consulting(answered=False)
        commands = call.handle(AgentUp("c1-c2"), 23.0)
        assert Connect("c1-c2-b", ("c1-a1", "c1-c2")) in commands and AgentConnected("a2") in commands
        assert emitted(commands) == ["call.consult_answered"]
        assert call.record.consult_answered_at == 23.0

    def test_cancel_hangs_up_the_target_and_brings_the_caller_back(self) -> None:
        call = consulting()
        commands = call.handle(CancelConsult(), 40.0)
        assert Hangup("c1-c2") in commands and DestroyBridge("c1-c2-b") in commands
        assert JoinBridge("c1-b", ("c1-a1",)) in commands and FreeAgent("a2", "consult_cancelled") in commands
        assert MohStop("ch1") in commands and Unmute("ch1") in commands
        assert event(commands, "call.consult_cancelled")["by"] == "agent"
        record = call.record
        assert (record.phase, record.agent_id, record.agent_channel) == ("talking", "a1", "c1-a1")
        assert (record.consult_agent, record.consult_target, record.consult_channel) == ("", "", "")
        assert record.held_since is None and record.hold_seconds == 20.0

    def test_complete_puts_the_caller_with_the_target_and_the_agent_in_wrapup(self) -> None:
        call = consulting()
        commands = call.handle(CompleteTransfer(), 40.0)
        assert Hangup("c1-a1") in commands and JoinBridge("c1-b", ("c1-c2",)) in commands
        assert DestroyBridge("c1-c2-b") in commands and AgentFinished("a1") in commands
        assert MohStop("ch1") in commands and Unmute("ch1") in commands
        transferred = event(commands, "call.transferred")
        assert transferred.items() >= {"agent": "a2", "from_agent": "a1", "attended": True}.items()
        record = call.record
        assert (record.phase, record.agent_id, record.agent_channel) == ("talking", "a2", "c1-c2")
        assert call.handle(AgentGone(16, "c1-a1"), 40.5) == []  # the first agent's leg going away
        ended = call.handle(CallerGone(16), 90.0)
        assert Hangup("c1-c2") in ended and AgentFinished("a2") in ended and call.ended

    def test_a_target_who_does_not_answer_is_released_and_the_agent_is_back(self) -> None:
        call = consulting(answered=False)
        commands = call.handle(Timeout("consult_ring"), 40.0)
        assert FreeAgent("a2", "ring_no_answer") in commands and Hangup("c1-c2") in commands
        assert not any(isinstance(c, (JoinBridge, DestroyBridge)) for c in commands)  # the agent never left
        assert MohStop("ch1") in commands and event(commands, "call.consult_failed")["reason"] == "ring_no_answer"
        assert (call.record.phase, call.record.consult_channel) == ("talking", "")

    @pytest.mark.parametrize(("cause", "reason"), [(17, "busy"), (19, "ring_no_answer"), (None, "failed")])
    def test_a_failed_consult_leg_frees_the_target_for_its_reason(self, cause: int | None, reason: str) -> None:
        call = consulting(answered=False)
        assert FreeAgent("a2", reason) in call.handle(AgentGone(cause, "c1-c2"), 22.0)
        assert call.record.phase == "talking"

    def test_a_consult_leg_refused_as_busy_by_its_dial_status_frees_the_target_as_busy(self) -> None:
        call = consulting(answered=False)
        assert FreeAgent("a2", "busy") in call.handle(AgentGone(0, "c1-c2", "BUSY"), 22.0)

    def test_an_originate_refused_for_a_destination_releases_its_line(self) -> None:
        call = talking_call()
        call.handle(Consult("destination", "lawyer"), 20.0)
        commands = call.handle(AgentFailed("no_free_line"), 20.0)
        assert ReleaseLine("c1-c2") in commands and call.record.phase == "talking"

    def test_a_refused_reservation_ends_the_consultation(self) -> None:
        call = talking_call()
        call.handle(Consult("agent", "a2"), 20.0)
        commands = call.handle(ReservationRefused("a2", "not_available"), 20.0)
        assert not any(isinstance(c, (FreeAgent, Hangup)) for c in commands)
        assert Unmute("ch1") in commands and event(commands, "call.consult_failed")["reason"] == "not_available"
        assert call.record.phase == "talking" and call.record.consult_target == ""

    def test_the_target_hanging_up_brings_the_agent_back_to_the_caller(self) -> None:
        call = consulting()
        commands = call.handle(AgentGone(16, "c1-c2"), 35.0)
        assert FreeAgent("a2", "finished") in commands and JoinBridge("c1-b", ("c1-a1",)) in commands
        assert event(commands, "call.consult_cancelled")["by"] == "target"
        assert call.record.phase == "talking"

    def test_the_caller_hanging_up_ends_the_call_and_everything_with_it(self) -> None:
        call = consulting()
        commands = call.handle(CallerGone(16), 35.0)
        for expected in (Hangup("c1-a1"), Hangup("c1-c2"), ReleaseLine("c1-c2"), DestroyBridge("c1-b")):
            assert expected in commands
        assert DestroyBridge("c1-c2-b") in commands and FreeAgent("a2", "caller_abandoned") in commands
        assert AgentFinished("a1") in commands
        assert call.ended and call.record.outcome == "completed"
        assert event(commands, "call.ended")["released_by"] == "caller"

    def test_the_agent_hanging_up_after_the_answer_completes_the_transfer(self) -> None:
        call = consulting()
        commands = call.handle(AgentGone(16, "c1-a1"), 35.0)
        assert JoinBridge("c1-b", ("c1-c2",)) in commands and AgentFinished("a1") in commands
        assert (call.record.phase, call.record.agent_id) == ("talking", "a2")

    def test_the_agent_hanging_up_while_the_target_rings_hands_the_caller_over(self) -> None:
        call = consulting(answered=False)
        commands = call.handle(AgentGone(16, "c1-a1"), 22.0)
        assert AgentFinished("a1") in commands and DestroyBridge("c1-b") in commands and Unmute("ch1") in commands
        assert (call.record.phase, call.record.agent_id, call.record.agent_channel) == ("handover", "a2", "c1-c2")
        answered = call.handle(AgentUp("c1-c2"), 24.0)
        assert Connect("c1-b", ("ch1", "c1-c2")) in answered and call.record.phase == "talking"

    def test_the_hold_alert_still_fires_during_a_long_consultation(self) -> None:
        call = consulting()
        assert emitted(call.handle(Timeout("hold_alert"), 50.0)) == ["call.hold_alert"]

    def test_a_restart_cancels_the_consultation(self) -> None:
        call = consulting()
        resumed = InboundCall(call.record, SETTINGS)
        commands = resumed.handle(Resume(), 40.0)
        assert Hangup("c1-c2") in commands and FreeAgent("a2", "restart") in commands
        assert JoinBridge("c1-b", ("c1-a1",)) in commands and resumed.record.phase == "talking"
        assert MohStop("ch1") in commands and not any(isinstance(c, AgentOnHold) for c in commands)

    def test_a_late_hangup_of_a_cancelled_consult_leg_changes_nothing(self) -> None:
        call = consulting()
        call.handle(CancelConsult(), 40.0)
        refused(call, AgentGone(16, "c1-c2"), 40.5)


class TestRefusals:
    """What does not apply is refused and changes nothing."""

    def test_a_second_consultation_while_one_is_active(self) -> None:
        refused(consulting(answered=False), Consult("agent", "a3"), 21.0)

    def test_complete_cancel_or_conference_without_a_consultation(self) -> None:
        for message in (CompleteTransfer(), CancelConsult(), StartConference()):
            refused(talking_call(), message, 30.0)

    def test_complete_or_conference_before_the_target_answered(self) -> None:
        for message in (CompleteTransfer(), StartConference()):
            refused(consulting(answered=False), message, 21.0)

    @pytest.mark.parametrize(
        "message",
        [Consult("destination", "nowhere"), Consult("agent", "a1"), TransferTo("queue", "nowhere")],
        ids=["unknown destination", "own agent", "unknown queue"],
    )
    def test_unknown_or_impossible_targets(self, message: Input) -> None:
        refused(talking_call(), message, 30.0)

    def test_hold_transfer_and_another_target_during_a_consultation(self) -> None:
        for message in (Hold(), Unhold(), TransferTo("queue", "support"), TransferToAgent("a3")):
            refused(consulting(), message, 30.0)

    def test_a_reservation_nobody_asked_for_is_given_back(self) -> None:
        call = consulting()
        assert call.handle(AgentReserved("a3", "PJSIP/a3"), 30.0) == [FreeAgent("a3", "not_needed")]


class TestConference:
    def test_the_three_are_mixed_in_the_calls_bridge(self) -> None:
        call = consulting()
        commands = call.handle(StartConference(), 30.0)
        assert JoinBridge("c1-b", ("c1-a1", "c1-c2")) in commands and DestroyBridge("c1-c2-b") in commands
        assert MohStop("ch1") in commands and Unmute("ch1") in commands
        assert emitted(commands) == ["call.unheld", "call.conference_started"]
        assert call.record.phase == "conference"

    def test_the_agent_leaving_leaves_caller_and_target_talking(self) -> None:
        call = conference()
        commands = call.handle(AgentGone(16, "c1-a1"), 60.0)
        assert AgentFinished("a1") in commands and not any(isinstance(c, Hangup) for c in commands)
        assert event(commands, "call.party_left").items() >= {"party": "agent", "agent": "a1"}.items()
        record = call.record
        assert (record.phase, record.agent_id, record.agent_channel, record.consult_channel) == (
            "talking",
            "a2",
            "c1-c2",
            "",
        )
        ended = call.handle(CallerGone(16), 90.0)
        assert Hangup("c1-c2") in ended and AgentFinished("a2") in ended and call.record.outcome == "completed"

    def test_the_target_leaving_leaves_caller_and_agent_talking(self) -> None:
        call = conference()
        commands = call.handle(AgentGone(16, "c1-c2"), 60.0)
        assert AgentFinished("a2") in commands and not any(isinstance(c, Hangup) for c in commands)
        assert (call.record.phase, call.record.agent_id, call.record.agent_channel) == ("talking", "a1", "c1-a1")

    def test_the_caller_leaving_leaves_the_agents_talking_until_one_of_them_leaves(self) -> None:
        call = conference()
        commands = call.handle(CallerGone(16), 60.0)
        assert emitted(commands) == ["call.party_left"] and call.record.phase == "conference"
        refused(call, CallerGone(None), 60.5)  # the caller's second hang-up event
        ended = call.handle(AgentGone(16, "c1-c2"), 80.0)
        assert Hangup("c1-a1") in ended and DestroyBridge("c1-b") in ended
        assert AgentFinished("a1") in ended and AgentFinished("a2") in ended
        assert call.ended and event(ended, "call.ended")["talk"] == 52.0  # the caller's time: 8.0 to 60.0

    def test_a_restart_during_a_conference_waits_for_the_parties(self) -> None:
        resumed = InboundCall(conference().record, SETTINGS)
        assert emitted(resumed.handle(Resume(), 40.0)) == ["call.resumed"] and resumed.record.phase == "conference"
