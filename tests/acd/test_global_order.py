"""The global order across processes, as one board decides it: an agent is held back for an earlier caller of
another process only if that caller could take them, and never for longer than ``DEFER``."""

from __future__ import annotations

import msgspec

from callcenter_ari.acd.decisions import Offer
from callcenter_ari.acd.global_order import DEFER, Waiter
from callcenter_ari.acd.skills import parse
from callcenter_ari.acd.specs import QueueSpec
from tests.acd.acd_helpers import agent, make_board


def waiter(call_id: str, enqueued_at: float, *, priority: int = 0, queue: str = "q", **fields: object) -> Waiter:
    return Waiter(call_id, queue, priority, enqueued_at, instance="other", **fields)  # type: ignore[arg-type]


def test_an_agent_freed_here_is_held_for_an_earlier_caller_of_another_process() -> None:
    board = make_board(agent("a1"))
    board.enqueue("here", "q", 0, 5.0, 5.0)
    assert board.set_foreign([waiter("there", 3.0)], 6.0) == []
    assert board.log_in("a1", 6.0) == []
    assert board.agents["a1"].state == "available"  # written available: the other process takes them
    assert board.held == {"a1": frozenset({"there"})}
    assert board.waiting("q") == ["here"]


def test_a_later_or_lower_priority_caller_elsewhere_holds_nobody() -> None:
    board = make_board(agent("a1"), agent("a2"))
    board.enqueue("here", "q", 0, 5.0, 5.0)
    board.enqueue("vip", "q", 3, 9.0, 9.0)
    board.set_foreign([waiter("later", 7.0), waiter("low", 1.0, priority=-1)], 10.0)
    assert board.log_in("a1", 10.0) == [Offer("vip", "a1", "PJSIP/a1", "q")]
    assert board.log_in("a2", 10.0) == [Offer("here", "a2", "PJSIP/a2", "q")]
    assert board.held == {}


def test_a_higher_priority_caller_elsewhere_is_ahead_of_an_older_one_here() -> None:
    board = make_board(agent("a1"))
    board.enqueue("here", "q", 0, 1.0, 1.0)
    board.set_foreign([waiter("vip", 8.0, priority=2)], 9.0)
    assert board.log_in("a1", 9.0) == []
    assert board.held == {"a1": frozenset({"vip"})}


def test_a_caller_elsewhere_the_agent_could_not_take_holds_nobody() -> None:
    sales = QueueSpec(name="sales")
    board = make_board(
        agent("a1", skills={"english": 5}),
        queues=(QueueSpec(name="q"), sales),
    )
    board.enqueue("here", "q", 0, 5.0, 5.0)
    board.set_foreign(
        [
            waiter("other_queue", 1.0, queue="sales"),
            waiter("french", 2.0, needs=parse("french")),
            waiter("spanish_speaker", 3.0, language="es"),
        ],
        6.0,
    )
    board.upsert_agent(agent("a1", skills={"english": 5}, languages=("en",)), 6.0)
    assert board.log_in("a1", 6.0) == [Offer("here", "a1", "PJSIP/a1", "q")]


def test_the_hold_ends_when_the_caller_ahead_is_gone() -> None:
    board = make_board(agent("a1"))
    board.enqueue("here", "q", 0, 5.0, 5.0)
    board.set_foreign([waiter("there", 3.0)], 6.0)
    board.log_in("a1", 6.0)
    assert board.set_foreign([], 6.5) == [Offer("here", "a1", "PJSIP/a1", "q")]
    assert board.held == {}


def test_the_hold_ends_when_another_process_takes_the_agent() -> None:
    board = make_board(agent("a1"))
    board.enqueue("here", "q", 0, 5.0, 5.0)
    board.set_foreign([waiter("there", 3.0)], 6.0)
    board.log_in("a1", 6.0)
    record = board.agents["a1"]
    taken = msgspec.structs.replace(record, state="reserved", call_id="there", version=record.version + 1)
    assert board.adopt(taken, 6.1) == []
    assert board.held == {}
    assert board.advance(6.0 + DEFER) == []  # no hold left to run out
    assert board.waiting("q") == ["here"]


def test_a_hold_runs_out_after_defer_and_the_caller_is_passed_over_for_good() -> None:
    board = make_board(agent("a1"), agent("a2"))
    board.enqueue("here", "q", 0, 5.0, 5.0)
    board.enqueue("here2", "q", 0, 5.5, 5.5)
    board.set_foreign([waiter("stuck", 3.0)], 6.0)
    board.log_in("a1", 6.0)
    assert board.next_deadline() == 6.0 + DEFER
    assert board.advance(6.0 + DEFER - 0.01) == []
    assert board.advance(6.0 + DEFER) == [Offer("here", "a1", "PJSIP/a1", "q")]
    # The same caller, still in Redis, holds nobody again.
    board.set_foreign([waiter("stuck", 3.0)], 9.0)
    assert board.log_in("a2", 9.0) == [Offer("here2", "a2", "PJSIP/a2", "q")]


def test_a_held_agent_is_not_offered_a_call_that_joins_here() -> None:
    board = make_board(agent("a1"))
    board.enqueue("here", "q", 0, 5.0, 5.0)
    board.set_foreign([waiter("there", 3.0)], 6.0)
    board.log_in("a1", 6.0)
    assert board.enqueue("newer", "q", 0, 7.0, 7.0) == []
    assert board.waiting("q") == ["here", "newer"]


def test_with_no_other_process_nothing_is_held() -> None:
    board = make_board(agent("a1"))
    board.enqueue("here", "q", 0, 5.0, 5.0)
    assert board.log_in("a1", 6.0) == [Offer("here", "a1", "PJSIP/a1", "q")]
