"""Joining and leaving a queue: max length, join/leave when empty, max wait, announcements and EWT."""

from __future__ import annotations

from acd_helpers import agent, make_board

from callcenter_ari.acd.decisions import Announce, EndCall, Joined, JoinRefused
from callcenter_ari.acd.estimate import HandleTimes, estimate_wait
from callcenter_ari.acd.skills import parse
from callcenter_ari.acd.specs import QueueSpec


def test_a_full_queue_refuses_to_join() -> None:
    b = make_board(agent("a1"), queues=(QueueSpec(name="q", max_length=2),))
    assert isinstance(b.join("c1", "q", 0, 1.0), Joined)
    assert isinstance(b.join("c2", "q", 0, 2.0), Joined)
    assert b.join("c3", "q", 0, 3.0) == JoinRefused("c3", "q", "full")
    assert b.waiting("q") == ["c1", "c2"]


def test_a_returning_call_is_never_refused() -> None:
    b = make_board(agent("a1"), queues=(QueueSpec(name="q", max_length=1),))
    b.join("c1", "q", 0, 1.0)
    assert b.enqueue("c2", "q", 0, 0.5, 2.0) == []
    assert b.waiting("q") == ["c2", "c1"]


def test_join_reports_position_wait_estimate_and_music_class() -> None:
    b = make_board(agent("a1"), queues=(QueueSpec(name="q", moh_class="jazz"),))
    b.log_in("a1", 0.0)
    b.record_handle_time("q", 120.0)
    joined = b.join("c1", "q", 0, 1.0)
    assert isinstance(joined, Joined) and joined.position is None and len(joined.offers) == 1
    joined = b.join("c2", "q", 0, 2.0)
    assert joined == Joined("c2", "q", (), 1, 120.0, "jazz")


class TestEmptyQueues:
    def test_join_when_empty_refused_when_nobody_who_could_serve_is_logged_in(self) -> None:
        queues = (QueueSpec(name="q", join_empty=False, skills=parse("billing")),)
        b = make_board(agent("a1"), agent("biller", skills={"billing": 1}), queues=queues)
        b.log_in("a1", 0.0)  # logged in, but cannot serve
        assert b.join("c1", "q", 0, 1.0) == JoinRefused("c1", "q", "empty")
        b.log_in("biller", 2.0)
        b.not_ready("biller", "lunch", 3.0)
        assert isinstance(b.join("c1", "q", 0, 4.0), Joined)

    def test_none_ready_also_counts_not_ready_agents_as_absent(self) -> None:
        queues = (QueueSpec(name="q", join_empty=False, empty_means="none_ready"),)
        b = make_board(agent("a1"), queues=queues)
        b.log_in("a1", 0.0)
        b.not_ready("a1", "lunch", 1.0)
        assert b.join("c1", "q", 0, 2.0) == JoinRefused("c1", "q", "empty")

    def test_an_agent_reachable_only_after_relaxation_counts(self) -> None:
        from callcenter_ari.acd.specs import Step

        queues = (
            QueueSpec(
                name="q",
                join_empty=False,
                skills=parse("billing>=5"),
                steps=(Step(after=60, action="lower_level", by=4),),
            ),
        )
        b = make_board(agent("junior", skills={"billing": 1}), queues=queues)
        b.log_in("junior", 0.0)
        assert isinstance(b.join("c1", "q", 0, 1.0), Joined)

    def test_leave_when_empty_ends_waiting_calls_when_the_last_agent_logs_out(self) -> None:
        queues = (QueueSpec(name="q", leave_empty=True), QueueSpec(name="r"))
        b = make_board(agent("a1", "q"), agent("a2", "q", "r"), queues=queues)
        for agent_id in ("a1", "a2"):
            b.log_in(agent_id, 0.0)
            b.not_ready(agent_id, "meeting", 0.0)
        b.enqueue("c1", "q", 0, 10.0, 10.0)
        b.enqueue("c2", "q", 0, 20.0, 20.0)
        b.log_out("a1", 30.0)
        assert b.advance(30.0) == []
        b.log_out("a2", 40.0)
        assert b.advance(40.0) == [
            EndCall("c1", "q", "leave_empty", 30.0, 1),
            EndCall("c2", "q", "leave_empty", 20.0, 1),
        ]
        assert b.waiting("q") == []


def test_the_queue_max_wait_ends_the_call() -> None:
    b = make_board(agent("a1"), queues=(QueueSpec(name="q", max_wait_seconds=300.0),))
    b.enqueue("c1", "q", 0, 10.0, 10.0)
    assert b.next_deadline() == 310.0
    assert b.advance(310.0) == [EndCall("c1", "q", "max_wait", 300.0, 1)]


def test_a_call_that_is_answered_has_no_more_deadlines() -> None:
    b = make_board(agent("a1"), queues=(QueueSpec(name="q", max_wait_seconds=300.0, announce_every=30.0),))
    b.enqueue("c1", "q", 0, 10.0, 10.0)
    b.log_in("a1", 20.0)
    b.connected("a1", 25.0)
    assert b.advance(1000.0) == []


def test_announcements_repeat_with_position_and_estimated_wait() -> None:
    b = make_board(agent("a1"), agent("a2"), queues=(QueueSpec(name="q", announce_every=60.0, handle_window=2),))
    b.record_handle_time("q", 100.0)
    b.record_handle_time("q", 200.0)
    b.record_handle_time("q", 300.0)  # the window keeps the last two: average 250
    for agent_id in ("a1", "a2"):
        b.log_in(agent_id, 0.0)
        b.enqueue(f"busy-{agent_id}", "q", 0, 0.0, 0.0)
    b.enqueue("c1", "q", 0, 10.0, 10.0)
    b.enqueue("c2", "q", 0, 20.0, 20.0)
    assert b.advance(70.0) == [Announce("c1", "q", 1, 125.0)]
    assert b.advance(80.0) == [Announce("c2", "q", 2, 250.0)]
    assert b.advance(130.0) == [Announce("c1", "q", 1, 125.0)]


class TestEstimator:
    def test_ewt_is_position_times_aht_over_agents(self) -> None:
        assert estimate_wait(6, 120.0, 3) == 240.0
        assert estimate_wait(1, 120.0, 4) == 30.0

    def test_no_estimate_without_history_or_agents(self) -> None:
        assert estimate_wait(3, None, 2) is None
        assert estimate_wait(3, 60.0, 0) is None

    def test_handle_times_keep_the_last_k_calls(self) -> None:
        times = HandleTimes(3)
        assert times.average() is None
        for seconds in (10.0, 20.0, 30.0, 40.0):
            times.add(seconds)
        assert times.average() == 30.0 and len(times) == 3
