"""Relaxation steps, driven by a controlled clock: next_deadline() says when, advance(now) does it."""

from __future__ import annotations

from acd_helpers import agent, make_board, offered_to

from callcenter_ari.acd.board import Board
from callcenter_ari.acd.decisions import EndCall, Offer, OfferCallback
from callcenter_ari.acd.skills import parse
from callcenter_ari.acd.specs import QueueSpec, Step

STEPS = (
    Step(after=30, action="lower_level", by=2),
    Step(after=60, action="widen", skills=parse("supervisor")),
    Step(after=90, action="overflow", queue="backup"),
    Step(after=120, action="callback"),
    Step(after=180, action="end", message="sound:sorry-closed"),
)
QUEUES = (QueueSpec(name="q", skills=parse("billing>=5"), steps=STEPS), QueueSpec(name="backup"))


def board_with(*agents_: str) -> Board:
    specs = {
        "junior": agent("junior", "q", skills={"billing": 3}),
        "boss": agent("boss", "q", skills={"supervisor": 1}),
        "spare": agent("spare", "backup", skills={"billing": 9}),
    }
    b = make_board(*(specs[a] for a in agents_), queues=QUEUES)
    for agent_id in agents_:
        b.log_in(agent_id, 0.0)
    return b


def test_nothing_happens_before_the_first_step() -> None:
    b = board_with("junior")
    assert b.enqueue("c1", "q", 0, 100.0, 100.0) == []
    assert b.next_deadline() == 130.0
    assert b.advance(129.9) == []
    assert b.waiting("q") == ["c1"]


def test_lowering_the_minimum_level_reaches_a_junior_agent() -> None:
    b = board_with("junior")
    b.enqueue("c1", "q", 0, 100.0, 100.0)
    assert b.advance(130.0) == [Offer("c1", "junior", "PJSIP/junior", "q")]
    assert b.next_deadline() is None


def test_widening_the_skills_reaches_an_agent_with_the_alternative_skill() -> None:
    b = board_with("boss")
    b.enqueue("c1", "q", 0, 0.0, 0.0)
    assert b.advance(59.0) == []
    assert offered_to(b.advance(60.0)) == ["boss"]


def test_overflow_reaches_members_of_the_overflow_queue() -> None:
    b = board_with("spare")
    b.enqueue("c1", "q", 0, 0.0, 0.0)
    assert b.advance(89.0) == []
    assert offered_to(b.advance(90.0)) == ["spare"]


def test_callback_is_offered_and_the_call_keeps_its_place() -> None:
    b = board_with()
    b.enqueue("c1", "q", 0, 0.0, 0.0)
    b.enqueue("c2", "q", 0, 1.0, 1.0)
    assert b.advance(120.0) == [OfferCallback("c1", "q", 120.0)]
    assert b.waiting("q") == ["c1", "c2"]


def test_the_last_step_ends_the_call_with_a_message() -> None:
    b = board_with()
    b.enqueue("c1", "q", 0, 0.0, 0.0)
    decisions = b.advance(1000.0)
    assert decisions == [
        OfferCallback("c1", "q", 120.0),
        EndCall("c1", "q", "relaxation", 180.0, 1, "sound:sorry-closed"),
    ]
    assert b.waiting("q") == [] and b.next_deadline() is None


def test_a_call_returning_after_ring_no_answer_keeps_its_relaxation_and_gets_pending_actions_once() -> None:
    b = board_with("junior")
    b.enqueue("c1", "q", 0, 0.0, 0.0)
    assert offered_to(b.advance(30.0)) == ["junior"]
    b.release("junior", "ring_no_answer", 125.0)
    # Back in line at its original place: already relaxed, and the callback step it missed comes once.
    assert b.enqueue("c1", "q", 0, 0.0, 125.0) == []
    assert b.advance(125.0) == [OfferCallback("c1", "q", 125.0)]
    assert b.advance(179.0) == []
    assert [type(d) for d in b.advance(180.0)] == [EndCall]


def test_relaxation_does_not_reorder_equal_callers() -> None:
    """The older caller relaxes first, so an agent reached by relaxation reaches the older caller first."""
    b = make_board(agent("junior", "q", skills={"billing": 3}), queues=QUEUES)
    b.enqueue("old", "q", 0, 0.0, 0.0)
    b.enqueue("new", "q", 0, 10.0, 10.0)
    assert b.advance(35.0) == []  # "old" relaxed at 30, "new" relaxes at 40
    assert [o.call_id for o in b.log_in("junior", 35.0)] == ["old"]
    assert b.release("junior", "caller_abandoned", 36.0) == []
    assert b.agents["junior"].state == "available"
    assert [o.call_id for o in b.advance(40.0)] == ["new"]
