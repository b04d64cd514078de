"""The ACD board: matching calls and agents, agent states, fairness."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_ari.acd.board import AgentSpec, Board, InvalidTransition, Offer


def board(*agents: tuple[str, tuple[str, ...]]) -> Board:
    b = Board(AgentSpec(agent_id, f"PJSIP/{agent_id}", queues) for agent_id, queues in agents)
    return b


def test_call_goes_to_the_agent_idle_longest() -> None:
    b = board(("a1", ("q",)), ("a2", ("q",)))
    b.log_in("a2", 1.0)
    b.log_in("a1", 2.0)
    assert b.enqueue("c1", "q", 0, 10.0, 10.0) == [Offer("c1", "a2", "PJSIP/a2", "q")]
    assert b.agents["a2"].state == "reserved" and b.agents["a2"].call_id == "c1"


def test_agent_takes_the_oldest_call_of_the_highest_priority() -> None:
    b = board(("a1", ("q", "r")))
    b.enqueue("old", "q", 0, 1.0, 1.0)
    b.enqueue("vip", "r", 5, 3.0, 3.0)
    b.enqueue("new", "q", 0, 2.0, 2.0)
    assert b.log_in("a1", 4.0) == [Offer("vip", "a1", "PJSIP/a1", "r")]
    assert b.waiting("q") == ["old", "new"]


def test_ring_no_answer_makes_the_agent_not_ready() -> None:
    b = board(("a1", ("q",)))
    b.log_in("a1", 0.0)
    b.enqueue("c1", "q", 0, 1.0, 1.0)
    assert b.release("a1", "ring_no_answer", 16.0) == []
    assert b.agents["a1"].state == "not_ready" and b.agents["a1"].reason == "ring_no_answer"


def test_wrapup_then_ready_takes_the_next_call() -> None:
    b = board(("a1", ("q",)))
    b.log_in("a1", 0.0)
    b.enqueue("c1", "q", 0, 1.0, 1.0)
    b.connected("a1", 3.0)
    b.enqueue("c2", "q", 0, 4.0, 4.0)
    b.finished("a1", 63.0)
    assert b.agents["a1"].state == "wrapup" and b.agents["a1"].calls == 1
    assert b.agents["a1"].talk_seconds == 60.0
    assert b.ready("a1", 73.0) == [Offer("c2", "a1", "PJSIP/a1", "q")]


def test_removed_call_is_not_offered() -> None:
    b = board(("a1", ("q",)))
    b.enqueue("c1", "q", 0, 1.0, 1.0)
    b.remove("c1")
    assert b.log_in("a1", 2.0) == []
    assert b.agents["a1"].state == "available"


@pytest.mark.parametrize(
    ("prepare", "action"),
    [
        (lambda b: None, lambda b: b.finished("a1", 1.0)),
        (lambda b: None, lambda b: b.connected("a1", 1.0)),
        (lambda b: b.log_in("a1", 0.0), lambda b: b.log_in("a1", 1.0)),
        (lambda b: None, lambda b: b.ready("nobody", 1.0)),
    ],
)
def test_illegal_transitions_raise_and_change_nothing(prepare, action) -> None:
    b = board(("a1", ("q",)))
    prepare(b)
    before = b.agents["a1"].state
    with pytest.raises(InvalidTransition):
        action(b)
    assert b.agents["a1"].state == before


operations = st.lists(
    st.tuples(
        st.sampled_from(["enqueue", "remove", "login", "answer", "finish", "ready", "rna"]),
        st.integers(0, 5),
        st.integers(0, 2),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_no_agent_holds_two_calls_and_fifo_holds(ops: list[tuple[str, int, int]]) -> None:
    """Whatever happens, an agent has at most one call, a call at most one agent, and within a queue of equal
    priority nobody is served before someone who waited longer."""
    agents = [("a0", ("q",)), ("a1", ("q",)), ("a2", ("q", "r"))]
    b = board(*agents)
    now = 0.0
    holder: dict[str, str] = {}
    served: list[tuple[str, float]] = []
    enqueued: dict[str, float] = {}
    for op, n, a in ops:
        now += 1.0
        agent_id = f"a{a}"
        state = b.agents[agent_id].state
        offers: list[Offer] = []
        try:
            if op == "enqueue" and f"c{n}" not in enqueued:
                enqueued[f"c{n}"] = now
                offers = b.enqueue(f"c{n}", "q", 0, now, now)
            elif op == "remove":
                b.remove(f"c{n}")
            elif op == "login" and state == "logged_out":
                offers = b.log_in(agent_id, now)
            elif op == "answer" and state == "reserved":
                b.connected(agent_id, now)
            elif op == "finish" and state == "talking":
                b.finished(agent_id, now)
                holder.pop(agent_id)
            elif op in ("ready",) and state in ("wrapup", "not_ready"):
                offers = b.ready(agent_id, now)
            elif op == "rna" and state == "reserved":
                holder.pop(agent_id)
                b.release(agent_id, "ring_no_answer", now)
        except InvalidTransition:
            continue
        for offer in offers:
            assert offer.agent_id not in holder, "agent offered a second call"
            assert offer.call_id not in holder.values(), "call offered to two agents"
            holder[offer.agent_id] = offer.call_id
            served.append((offer.call_id, enqueued[offer.call_id]))
        # The board's invariant: no waiting call while an agent of its queue is available.
        if b.waiting("q"):
            assert not any(b.agents[x].state == "available" for x, _ in agents)
    first_served = {}
    for call_id, at in served:
        first_served.setdefault(call_id, at)
    times = list(first_served.values())
    assert times == sorted(times), "a later caller was served before an earlier one"
