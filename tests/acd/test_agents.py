"""Agent states: ring-no-answer, persistent agents, wrap-up, breaks, hold, transfer, supervisor orders, errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from acd_helpers import agent, make_board, offered_to

from callcenter_ari.acd.board import Board
from callcenter_ari.acd.decisions import AgentChanged, BreakDecision, Forced, Offer, SupervisorAlert
from callcenter_ari.acd.errors import InvalidTransition, UnknownAgent, UnknownQueue, WrapupLimitExceeded
from callcenter_ari.acd.specs import QueueSpec, TeamSpec

Q = (QueueSpec(name="q", wrapup_seconds=30.0, wrapup_max_seconds=90.0),)


def talking(b: Board, agent_id: str = "a1", call_id: str = "c1", at: float = 0.0) -> None:
    b.log_in(agent_id, at)
    assert offered_to(b.enqueue(call_id, "q", 0, at, at)) == [agent_id]
    b.connected(agent_id, at + 1)


class TestRingNoAnswer:
    def test_ring_no_answer_makes_the_agent_not_ready_and_the_call_keeps_its_place(self) -> None:
        b = make_board(agent("a1"), agent("a2"))
        b.log_in("a1", 0.0)
        b.enqueue("c1", "q", 0, 1.0, 1.0)
        b.enqueue("c2", "q", 0, 2.0, 2.0)
        assert b.release("a1", "ring_no_answer", 16.0) == []
        assert (b.agents["a1"].state, b.agents["a1"].reason) == ("not_ready", "ring_no_answer")
        b.enqueue("c1", "q", 0, 1.0, 16.0)  # the call machine puts it back with its enqueue time
        assert b.waiting("q") == ["c1", "c2"]
        assert [o.call_id for o in b.log_in("a2", 17.0)] == ["c1"]

    def test_a_caller_hanging_up_while_ringing_leaves_the_agent_available(self) -> None:
        b = make_board(agent("a1"))
        b.log_in("a1", 0.0)
        b.enqueue("c1", "q", 0, 1.0, 1.0)
        assert b.release("a1", "caller_abandoned", 3.0) == []
        assert b.agents["a1"].state == "available"


class TestPersistentAgents:
    def test_offers_to_persistent_agents_say_join_not_ring(self) -> None:
        b = make_board(agent("p1", persistent=True), agent("a1"))
        b.log_in("p1", 0.0)
        assert b.enqueue("c1", "q", 0, 1.0, 1.0) == [Offer("c1", "p1", "PJSIP/p1", "q", persistent=True)]

    def test_ring_no_answer_does_not_apply_to_a_persistent_agent(self) -> None:
        b = make_board(agent("p1", persistent=True))
        b.log_in("p1", 0.0)
        b.enqueue("c1", "q", 0, 1.0, 1.0)
        with pytest.raises(InvalidTransition, match="persistent"):
            b.release("p1", "ring_no_answer", 2.0)
        assert b.agents["p1"].state == "reserved"
        b.connected("p1", 1.0)
        assert b.agents["p1"].state == "talking"


class TestWrapup:
    def test_wrapup_ends_by_itself_at_the_queue_s_wrapup_time(self) -> None:
        b = make_board(agent("a1"), queues=Q)
        talking(b)
        b.enqueue("c2", "q", 0, 5.0, 5.0)
        b.finished("a1", 61.0)
        assert b.agents["a1"].state == "wrapup" and b.next_deadline() == 91.0
        assert b.advance(90.9) == []
        assert b.advance(91.0) == [AgentChanged("a1", "reserved"), Offer("c2", "a1", "PJSIP/a1", "q")]

    def test_the_agent_can_end_wrapup_early(self) -> None:
        b = make_board(agent("a1"), queues=Q)
        talking(b)
        b.finished("a1", 61.0)
        assert b.end_wrapup("a1", 65.0) == []
        assert b.agents["a1"].state == "available"
        assert b.advance(1000.0) == []

    def test_the_agent_can_extend_wrapup_within_the_limit(self) -> None:
        b = make_board(agent("a1"), queues=Q)
        talking(b)
        b.finished("a1", 61.0)
        assert b.extend_wrapup("a1", 30.0, 70.0) == 121.0
        assert b.extend_wrapup("a1", 30.0, 80.0) == 151.0  # 90 s in all: the limit
        assert b.advance(150.0) == []
        assert b.advance(151.0) == [AgentChanged("a1", "available")]

    def test_an_extension_beyond_the_limit_is_refused_and_changes_nothing(self) -> None:
        b = make_board(agent("a1"), queues=Q)
        talking(b)
        b.finished("a1", 61.0)
        b.extend_wrapup("a1", 50.0, 70.0)
        with pytest.raises(WrapupLimitExceeded):
            b.extend_wrapup("a1", 11.0, 71.0)
        assert b.next_deadline() == 141.0

    def test_handle_time_feeds_the_wait_estimate(self) -> None:
        b = make_board(agent("a1"), queues=Q)
        talking(b)  # connected at 1
        b.finished("a1", 61.0)
        b.end_wrapup("a1", 81.0)  # handle time: 80 s from connection to the end of wrap-up
        assert offered_to(b.enqueue("w1", "q", 0, 85.0, 85.0)) == ["a1"]
        b.enqueue("w2", "q", 0, 86.0, 86.0)
        assert b.position("w2") == 1
        assert b.estimated_wait("w2") == 80.0


class TestBreaks:
    TEAM = TeamSpec(name="t", max_on_break=2, break_minutes=10.0)

    def board(self, team: TeamSpec = TEAM) -> Board:
        b = make_board(*(agent(f"a{n}", teams=("t",)) for n in range(4)), teams=(team,))
        for n in range(4):
            b.log_in(f"a{n}", 0.0)
        return b

    def test_up_to_the_team_limit_breaks_are_granted_with_an_overrun_deadline(self) -> None:
        b = self.board()
        assert b.request_break("a0", "break", 10.0) == BreakDecision("a0", "break", True, 610.0, "t")
        assert b.request_break("a1", "break", 20.0).granted
        assert b.agents["a1"].state == "not_ready" and b.agents["a1"].reason == "break"

    def test_beyond_the_limit_the_request_is_refused_and_nothing_changes(self) -> None:
        b = self.board()
        b.request_break("a0", "break", 10.0)
        b.request_break("a1", "break", 20.0)
        assert b.request_break("a2", "break", 30.0) == BreakDecision("a2", "break", False, team="t")
        assert b.agents["a2"].state == "available"

    def test_in_alert_mode_the_break_is_granted_with_a_supervisor_alert(self) -> None:
        b = self.board(TeamSpec(name="t", max_on_break=1, over_limit="alert"))
        b.request_break("a0", "break", 10.0)
        decision = b.request_break("a1", "break", 20.0)
        assert decision.granted and decision.alert is not None
        assert decision.alert.kind == "break_limit" and decision.alert.agent_id == "a1"

    def test_other_reasons_are_not_policed(self) -> None:
        b = self.board(TeamSpec(name="t", max_on_break=0))
        assert b.request_break("a0", "lunch", 10.0) == BreakDecision("a0", "lunch", True)
        assert b.next_deadline() is None

    def test_a_break_longer_than_allowed_raises_an_alert_at_the_deadline(self) -> None:
        b = self.board()
        b.request_break("a0", "break", 10.0)
        assert b.advance(609.0) == []
        [alert] = b.advance(610.0)
        assert isinstance(alert, SupervisorAlert)
        assert (alert.kind, alert.agent_id, alert.team, alert.at) == ("break_overrun", "a0", "t", 610.0)

    def test_no_alert_for_an_agent_back_in_time(self) -> None:
        b = self.board()
        b.request_break("a0", "break", 10.0)
        b.ready("a0", 300.0)
        assert b.advance(1000.0) == []


class TestCalls:
    def test_hold_is_a_sub_state_of_talking(self) -> None:
        b = make_board(agent("a1"))
        talking(b)
        b.hold("a1", 10.0)
        assert b.state("a1") == "on_hold" and b.agents["a1"].state == "talking"
        with pytest.raises(InvalidTransition):
            b.hold("a1", 11.0)
        b.unhold("a1", 20.0)
        assert b.state("a1") == "talking"

    def test_a_transfer_moves_the_agent_to_another_call(self) -> None:
        b = make_board(agent("a1"))
        talking(b)
        b.transfer("a1", "c9", 30.0)
        assert (b.agents["a1"].state, b.agents["a1"].call_id) == ("talking", "c9")
        b.finished("a1", 40.0)
        assert b.agents["a1"].calls == 1 and b.agents["a1"].talk_seconds == 39.0


class TestSupervisor:
    def test_forcing_an_idle_agent_applies_at_once(self) -> None:
        b = make_board(agent("a1"))
        b.enqueue("c1", "q", 0, 1.0, 1.0)
        assert b.force("a1", "not_ready", 2.0, reason="meeting") == Forced("a1", "not_ready", pending=False)
        assert b.agents["a1"].reason == "meeting"
        forced = b.force("a1", "available", 3.0)
        assert offered_to(list(forced.offers)) == ["a1"]

    def test_forcing_an_agent_on_a_call_waits_for_the_end_of_wrapup(self) -> None:
        b = make_board(agent("a1"), queues=Q)
        talking(b)
        assert b.force("a1", "logged_out", 10.0).pending
        assert b.agents["a1"].state == "talking"
        b.finished("a1", 20.0)
        b.enqueue("c2", "q", 0, 21.0, 21.0)
        assert b.advance(50.0) == [AgentChanged("a1", "logged_out")]
        assert b.waiting("q") == ["c2"]

    def test_force_log_out_of_an_available_agent(self) -> None:
        b = make_board(agent("a1"))
        b.log_in("a1", 0.0)
        b.force("a1", "logged_out", 1.0)
        assert b.agents["a1"].state == "logged_out"
        assert b.enqueue("c1", "q", 0, 2.0, 2.0) == []


def _snapshot(b: Board) -> tuple[object, ...]:
    return tuple((a.state, a.call_id, a.reason, a.since) for a in b.agents.values()), tuple(b.waiting("q"))


@pytest.mark.parametrize(
    ("name", "prepare", "action", "error"),
    [
        ("logged-out agent to wrap-up", lambda b: None, lambda b: b.finished("a1", 1.0), InvalidTransition),
        ("logged-out agent ends wrap-up", lambda b: None, lambda b: b.end_wrapup("a1", 1.0), InvalidTransition),
        ("answer with no offer", lambda b: b.log_in("a1", 0.0), lambda b: b.connected("a1", 1.0), InvalidTransition),
        ("log in twice", lambda b: b.log_in("a1", 0.0), lambda b: b.log_in("a1", 1.0), InvalidTransition),
        ("hold while idle", lambda b: b.log_in("a1", 0.0), lambda b: b.hold("a1", 1.0), InvalidTransition),
        ("break while talking", talking, lambda b: b.request_break("a1", "break", 2.0), InvalidTransition),
        ("log out while talking", talking, lambda b: b.log_out("a1", 2.0), InvalidTransition),
        ("unknown agent", lambda b: None, lambda b: b.ready("nobody", 1.0), UnknownAgent),
        ("unknown queue", lambda b: None, lambda b: b.enqueue("c1", "nowhere", 0, 1.0, 1.0), UnknownQueue),
        ("unknown queue on join", lambda b: None, lambda b: b.join("c1", "nowhere", 0, 1.0), UnknownQueue),
    ],
)
def test_illegal_requests_raise_a_clear_error_and_change_nothing(
    name: str, prepare: Callable[[Board], object], action: Callable[[Board], object], error: type[Exception]
) -> None:
    b = make_board(agent("a1"), agent("a2"))
    prepare(b)
    before = _snapshot(b)
    with pytest.raises(error):
        action(b)
    assert _snapshot(b) == before, name


def test_an_agent_in_an_unknown_queue_is_refused_when_queues_are_declared() -> None:
    with pytest.raises(UnknownQueue):
        make_board(agent("a1", "nowhere"))
