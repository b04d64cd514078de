"""The consultation sub-machine on its own (calls/consult.py): its stages, and the outcome each ending hands the
call. How the call acts on those outcomes is in test_call_transfers.py."""

from __future__ import annotations

from callcenter_ari.calls.consult import (
    Cancelled,
    Completed,
    Conferenced,
    Consultation,
    Dissolved,
    HandedOver,
    Party,
)
from callcenter_ari.calls.machine import CallSettings, QueueSettings
from callcenter_ari.calls.messages import (
    AgentGone,
    AgentReserved,
    AgentUp,
    CancelConsult,
    CompleteTransfer,
    Consult,
    Emit,
    FreeAgent,
    Hangup,
    JoinBridge,
    ReservationRefused,
    ReserveAgent,
    Resume,
    StartConference,
    Timeout,
)
from callcenter_ari.calls.records import CallRecord

SETTINGS = CallSettings(queues={"support": QueueSettings(ring_timeout=15)}, destinations={"desk": ("PJSIP/200", "")})
A2 = Party("a2", "c1-c2", "a2")
CONSULT_A2 = Consult("agent", "a2")


def under_way(request: Consult = CONSULT_A2) -> Consultation:
    """a1 talks with the caller in c1-b on leg c1-a1 and starts consulting at 20.0 (the call has held the caller)."""
    record = CallRecord(call_id="c1", channel_id="ch1", caller="+15551234567", started_at=0.0, offers=1)
    record.phase, record.queue, record.agent_id, record.agent_channel = "consulting", "support", "a1", "c1-a1"
    record.bridge_id = "c1-b"
    consultation = Consultation(record, SETTINGS)
    consultation.start(request, 20.0)
    return consultation


def answered() -> Consultation:
    consultation = under_way()
    consultation.handle(AgentReserved("a2", "PJSIP/a2"), 20.0)
    consultation.handle(AgentUp("c1-c2"), 23.0)
    return consultation


def test_an_agent_is_reserved_then_rung_then_answers() -> None:
    consultation = under_way()
    assert consultation.stage == "reserving"
    consultation.handle(AgentReserved("a2", "PJSIP/a2"), 20.0)
    assert consultation.stage == "ringing" and consultation.party == A2
    commands, outcome = consultation.handle(AgentUp("c1-c2"), 23.0)
    assert consultation.stage == "answered" and outcome is None
    assert [c.kind for c in commands if isinstance(c, Emit)] == ["call.consult_answered"]


def test_a_destination_is_dialled_at_once() -> None:
    consultation = under_way(Consult("destination", "desk"))
    assert consultation.stage == "ringing" and consultation.party == Party("", "c1-c2", "desk")


def test_the_start_asks_the_acd_for_the_agent() -> None:
    record = CallRecord(call_id="c1", channel_id="ch1", started_at=0.0, queue="support", agent_id="a1")
    commands = Consultation(record, SETTINGS).start(Consult("agent", "a2"), 20.0)
    assert commands[-1] == ReserveAgent("a2", "support")


class TestEndings:
    def test_a_refusal_is_cancelled_with_nothing_to_free(self) -> None:
        commands, outcome = under_way().handle(ReservationRefused("a2", "not_available"), 20.0)
        assert isinstance(outcome, Cancelled) and outcome.event.kind == "call.consult_failed"
        assert not any(isinstance(c, FreeAgent | Hangup) for c in commands)

    def test_no_answer_is_cancelled_and_the_agent_released_for_it(self) -> None:
        consultation = under_way()
        consultation.handle(AgentReserved("a2", "PJSIP/a2"), 20.0)
        commands, outcome = consultation.handle(Timeout("consult_ring"), 40.0)
        assert isinstance(outcome, Cancelled) and FreeAgent("a2", "ring_no_answer") in commands
        assert consultation.stage == "none" and consultation.record.consult_target == ""

    def test_cancel_puts_the_agent_back_in_the_calls_bridge(self) -> None:
        commands, outcome = answered().handle(CancelConsult(), 30.0)
        assert isinstance(outcome, Cancelled) and outcome.event.fields["by"] == "agent"
        assert JoinBridge("c1-b", ("c1-a1",)) in commands

    def test_a_restart_cancels(self) -> None:
        _, outcome = answered().handle(Resume(), 30.0)
        assert isinstance(outcome, Cancelled) and outcome.event.fields["by"] == "restart"

    def test_complete_hands_the_caller_to_the_party(self) -> None:
        consultation = answered()
        commands, outcome = consultation.handle(CompleteTransfer(), 30.0)
        assert outcome == Completed(A2) and Hangup("c1-a1") in commands
        assert consultation.record.agent_id == "a1"  # the call, not the consultation, moves the party in

    def test_the_agent_hanging_up_while_the_party_rings_hands_over(self) -> None:
        consultation = under_way()
        consultation.handle(AgentReserved("a2", "PJSIP/a2"), 20.0)
        _, outcome = consultation.handle(AgentGone(16, "c1-a1"), 22.0)
        assert outcome == HandedOver(A2)

    def test_a_conference_then_either_agent_leaving(self) -> None:
        consultation = answered()
        _, outcome = consultation.handle(StartConference(), 30.0)
        assert outcome == Conferenced()
        consultation.record.phase = "conference"  # the call's doing, on that outcome
        assert consultation.stage == "conference"
        _, left = consultation.handle(AgentGone(16, "c1-c2"), 40.0)
        assert left == Dissolved() and consultation.stage == "conference"  # until the call is talking again


class TestRefusals:
    def test_complete_and_conference_wait_for_the_answer_cancel_does_not(self) -> None:
        consultation = under_way()
        consultation.handle(AgentReserved("a2", "PJSIP/a2"), 20.0)
        assert consultation.refusal(CompleteTransfer()) == "the consulted party has not answered yet: wait, or cancel"
        assert consultation.refusal(StartConference()) == consultation.refusal(CompleteTransfer())
        assert consultation.refusal(CancelConsult()) is None
        assert answered().refusal(CompleteTransfer()) is None

    def test_what_was_refused_is_ignored(self) -> None:
        consultation = under_way()
        assert consultation.handle(CompleteTransfer(), 21.0) == ([], None)
