"""Agents and queues changed at run time: the board keeps states, calls and places, and its indexes end up as a
board built fresh from the final specs would have them."""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_ari.acd.board import Board
from callcenter_ari.acd.buckets import OrderedPool
from callcenter_ari.acd.errors import InUse, InvalidTransition, UnknownQueue
from callcenter_ari.acd.skills import parse
from callcenter_ari.acd.specs import AgentSpec, QueueSpec, Step
from tests.acd.acd_helpers import agent, make_board, offered_to


def two_queues(**q: object) -> tuple[QueueSpec, ...]:
    return (QueueSpec(name="q", **q), QueueSpec(name="r"))  # type: ignore[arg-type]


class TestAgents:
    def test_a_new_agent_is_logged_out_and_can_log_in_to_take_a_waiting_call(self) -> None:
        """An agent added at run time is logged out; logged in, they take the call waiting in their queue."""
        board = make_board(agent("a1"))
        board.enqueue("c1", "q", 0, 1.0, 1.0)
        assert board.upsert_agent(agent("a9"), 2.0) == []
        assert board.agents["a9"].state == "logged_out"
        assert offered_to(board.log_in("a9", 3.0)) == ["a9"]

    def test_an_available_agent_given_a_queue_takes_its_waiting_call(self) -> None:
        """Made a member of a queue with a caller waiting, an available agent is offered the call at once."""
        board = make_board(agent("a1", "r"), queues=two_queues())
        board.log_in("a1", 1.0)
        board.enqueue("c1", "q", 0, 2.0, 2.0)
        offers = board.upsert_agent(agent("a1", "r", "q"), 3.0)
        assert offered_to(offers) == ["a1"] and offers[0].call_id == "c1"
        assert board.waiting("q") == []

    def test_new_skills_make_an_agent_eligible(self) -> None:
        """Skills added to an available agent open the buckets that require them."""
        board = make_board(agent("a1"), queues=(QueueSpec(name="q", skills=parse("billing>=5")),))
        board.log_in("a1", 1.0)
        board.enqueue("c1", "q", 0, 2.0, 2.0)
        assert board.upsert_agent(agent("a1", skills={"billing": 4}), 3.0) == []
        offers = board.upsert_agent(agent("a1", skills={"billing": 6}), 4.0)
        assert offered_to(offers) == ["a1"]

    def test_an_agent_talking_keeps_their_call_when_their_queues_change(self) -> None:
        """Taking an agent out of the queue of their call does not take the call from them."""
        board = make_board(agent("a1", "q"), queues=two_queues())
        board.log_in("a1", 1.0)
        board.enqueue("c1", "q", 0, 2.0, 2.0)
        board.connected("a1", 3.0)
        board.upsert_agent(AgentSpec("a1", "PJSIP/new", ("r",)), 4.0)
        assert board.agents["a1"].state == "talking" and board.agents["a1"].call_id == "c1"
        board.finished("a1", 5.0)
        assert board.agents["a1"].state == "wrapup"
        board.enqueue("c2", "q", 0, 6.0, 6.0)
        board.advance(20.0)  # wrap-up over: available, but no longer a member of q
        assert board.agents["a1"].state == "available" and board.waiting("q") == ["c2"]

    def test_an_available_agent_keeps_their_place_among_the_idle(self) -> None:
        """Renaming an agent does not reset their idle time: longest idle still picks them first."""
        board = make_board(agent("a1"), agent("a2"))
        board.log_in("a1", 1.0)
        board.log_in("a2", 2.0)
        board.upsert_agent(agent("a1", name="Ann"), 3.0)
        assert offered_to(board.enqueue("c1", "q", 0, 4.0, 4.0)) == ["a1"]

    def test_the_endpoint_of_the_next_offer_is_the_new_one(self) -> None:
        board = make_board(agent("a1"))
        board.upsert_agent(AgentSpec("a1", "PJSIP/desk7", ("q",)), 1.0)
        board.log_in("a1", 2.0)
        assert board.enqueue("c1", "q", 0, 3.0, 3.0)[0].endpoint == "PJSIP/desk7"

    def test_an_agent_in_an_unknown_queue_is_refused_and_nothing_changes(self) -> None:
        board = make_board(agent("a1"))
        with pytest.raises(UnknownQueue):
            board.upsert_agent(agent("a1", "nowhere"), 1.0)
        assert board.specs["a1"].queues == ("q",)

    def test_only_a_logged_out_agent_can_be_removed(self) -> None:
        board = make_board(agent("a1"), agent("a2"))
        board.log_in("a1", 1.0)
        with pytest.raises(InvalidTransition, match="available"):
            board.remove_agent("a1", 2.0)
        board.remove_agent("a2", 2.0)
        assert "a2" not in board.agents and "a2" not in board.specs
        assert offered_to(board.enqueue("c1", "q", 0, 3.0, 3.0)) == ["a1"]

    def test_losing_the_last_agent_empties_a_leave_empty_queue(self) -> None:
        """With leave_empty, a caller leaves when the last agent who could serve is taken out of the queue."""
        board = make_board(agent("a1", "q"), queues=two_queues(leave_empty=True))
        board.log_in("a1", 1.0)
        board.not_ready("a1", "lunch", 1.5)
        board.enqueue("c1", "q", 0, 2.0, 2.0)
        board.upsert_agent(agent("a1", "r"), 3.0)
        decisions = board.advance(3.0)
        assert [type(d).__name__ for d in decisions] == ["EndCall"] and board.waiting("q") == []


class TestQueues:
    def test_waiting_calls_keep_their_order_when_the_rules_change(self) -> None:
        """A new strategy and requirement: the callers stay in line in the same order."""
        board = make_board(agent("a1"))
        for n, at in enumerate((1.0, 2.0, 3.0)):
            board.enqueue(f"c{n}", "q", 0, at, at)
        board.enqueue("vip", "q", 5, 4.0, 4.0)
        board.upsert_queue(QueueSpec(name="q", strategy="fewest_calls", skills=parse("billing>=3")), 5.0)
        assert board.waiting("q") == ["vip", "c0", "c1", "c2"]
        assert [board.position(c) for c in ("vip", "c0", "c2")] == [1, 2, 4]

    def test_a_lower_requirement_routes_a_waiting_call_to_an_available_agent(self) -> None:
        board = make_board(
            agent("a1", skills={"billing": 3}), queues=(QueueSpec(name="q", skills=parse("billing>=5")),)
        )
        board.log_in("a1", 1.0)
        board.enqueue("c1", "q", 0, 2.0, 2.0)
        offers = board.upsert_queue(QueueSpec(name="q", skills=parse("billing>=3")), 3.0)
        assert offered_to(offers) == ["a1"] and offers[0].call_id == "c1"

    def test_a_stricter_requirement_sends_calls_to_the_agents_who_meet_it(self) -> None:
        """The next call goes only to agents with the new requirement, and by the new strategy."""
        board = make_board(agent("a1", skills={"billing": 2}), agent("a2", skills={"billing": 8}))
        board.log_in("a1", 1.0)
        board.log_in("a2", 2.0)
        board.upsert_queue(QueueSpec(name="q", strategy="best_skill", skills=parse("billing>=5")), 3.0)
        assert offered_to(board.enqueue("c1", "q", 0, 4.0, 4.0)) == ["a2"]
        assert board.enqueue("c2", "q", 0, 5.0, 5.0) == []

    def test_steps_already_passed_apply_at_once_without_their_actions(self) -> None:
        """A call that waited past a new lowering step is relaxed at once; a passed callback step is not offered."""
        board = make_board(
            agent("a1", skills={"billing": 3}), queues=(QueueSpec(name="q", skills=parse("billing>=5")),)
        )
        board.log_in("a1", 1.0)
        board.not_ready("a1", "lunch", 1.0)
        board.enqueue("c1", "q", 0, 0.0, 0.0)
        steps = (Step(after=10, action="callback"), Step(after=20, action="lower_level", by=2))
        board.upsert_queue(QueueSpec(name="q", skills=parse("billing>=5"), steps=steps), 30.0)
        assert board.advance(30.0) == []
        assert offered_to(board.ready("a1", 31.0)) == ["a1"]

    def test_deadlines_follow_the_new_times(self) -> None:
        """A shorter max wait ends a call by the new limit; a step not yet reached is scheduled by the new time."""
        board = make_board(agent("a1"))
        board.enqueue("c1", "q", 0, 0.0, 0.0)
        board.upsert_queue(QueueSpec(name="q", max_wait_seconds=60.0), 10.0)
        assert board.next_deadline() == 60.0
        (end,) = board.advance(60.0)
        assert type(end).__name__ == "EndCall" and end.reason == "max_wait"  # type: ignore[attr-defined]

    def test_a_new_queue_takes_calls_for_the_agents_who_join_it(self) -> None:
        board = make_board(agent("a1"))
        board.log_in("a1", 1.0)
        board.upsert_queue(QueueSpec(name="new", skills=parse("billing>=1")), 2.0)
        assert board.enqueue("c1", "new", 0, 3.0, 3.0) == []
        offers = board.upsert_agent(agent("a1", "q", "new", skills={"billing": 1}), 4.0)
        assert offered_to(offers) == ["a1"]

    def test_a_queue_in_use_is_not_removed(self) -> None:
        """Members, overflow steps and waiting calls hold a queue; each is named."""
        queues = (QueueSpec(name="q"), QueueSpec(name="r", steps=(Step(after=5, action="overflow", queue="q"),)))
        board = make_board(agent("a1"), queues=queues)
        board.enqueue("c1", "q", 0, 1.0, 1.0)
        with pytest.raises(InUse) as refused:
            board.remove_queue("q", 2.0)
        assert refused.value.by == ("agents.a1", "queues.r.steps[0]", "1 calls waiting")
        assert "q" in board.queues

    def test_a_queue_nobody_uses_is_removed(self) -> None:
        board = make_board(agent("a1"), queues=two_queues())
        board.remove_queue("r", 1.0)
        assert "r" not in board.queues
        with pytest.raises(UnknownQueue):
            board.enqueue("c1", "r", 0, 2.0, 2.0)


# ---- the indexes after any sequence of changes equal those of a board built from the final specs --------------

QUEUE_NAMES = ("q", "r", "s")
AGENT_IDS = ("a0", "a1", "a2")

agent_specs = st.builds(
    lambda agent_id, queues, skills, languages, persistent: AgentSpec(
        agent_id, f"PJSIP/{agent_id}", tuple(queues), skills=skills, languages=tuple(languages), persistent=persistent
    ),
    st.sampled_from(AGENT_IDS),
    st.lists(st.sampled_from(QUEUE_NAMES), unique=True, max_size=3),
    st.dictionaries(st.sampled_from(("billing", "french")), st.integers(1, 10), max_size=2),
    st.lists(st.sampled_from(("en", "fr")), unique=True, max_size=2),
    st.booleans(),
)
requirements = st.sampled_from((None, "billing>=3", "billing>=6 | french>=2", "french>=1"))
queue_specs = st.builds(
    lambda name, strategy, skills, steps: QueueSpec(
        name=name, strategy=strategy, skills=parse(skills) if skills else None, steps=tuple(steps)
    ),
    st.sampled_from(QUEUE_NAMES),
    st.sampled_from(("longest_idle", "fewest_calls", "best_skill", "round_robin", "random", "ring_all")),
    requirements,
    st.lists(
        st.one_of(
            st.builds(lambda after: Step(after=after, action="lower_level", by=2), st.integers(1, 40)),
            st.builds(
                lambda after, q: Step(after=after, action="overflow", queue=q),
                st.integers(1, 40),
                st.sampled_from(QUEUE_NAMES),
            ),
        ),
        max_size=2,
    ),
)
changes = st.lists(
    st.one_of(
        st.tuples(st.just("agent"), agent_specs),
        st.tuples(st.just("queue"), queue_specs),
        st.tuples(
            st.just("state"),
            st.sampled_from(AGENT_IDS),
            st.sampled_from(("log_in", "log_in", "not_ready", "ready", "log_out")),
        ),
        st.tuples(st.just("call"), st.integers(0, 9), st.sampled_from(QUEUE_NAMES), st.sampled_from(("", "en", "fr"))),
        st.tuples(st.just("remove_agent"), st.sampled_from(AGENT_IDS)),
    ),
    min_size=5,
    max_size=60,
)


def snapshot(board: Board, keys: set[object]) -> dict[str, object]:
    """The spec-derived indexes, restricted to the buckets ``keys`` (those a fresh board has built)."""
    buckets = {}
    for key in keys:
        bucket = board._buckets[key]  # type: ignore[index]
        pool = bucket.pool.all() if isinstance(bucket.pool, OrderedPool) else sorted(bucket.pool.all())
        buckets[repr(key)] = (dict(bucket.eligible), bucket.logged_in, bucket.present, pool, bucket.strategy)
    return {
        "buckets": buckets,
        "members": {q: sorted(m) for q, m in board._members.items() if m},
        "agent_buckets": {
            a: sorted(repr(b.key) for b in agent.buckets if b.key in keys) for a, agent in board._a.items()
        },
        "specs": dict(board.specs),
        "queues": dict(board.queues),
    }


@settings(max_examples=150, deadline=None)
@given(changes)
def test_indexes_after_changes_equal_a_fresh_board(ops: list[tuple]) -> None:  # type: ignore[type-arg]
    """Whatever agents and queues were added or changed, with agents in any state and calls waiting, the board
    never leaves a call waiting beside an available agent who could take it, and its indexes are those of a board
    built from the final specs with the same agent records."""
    queues = tuple(QueueSpec(name=n) for n in QUEUE_NAMES)
    board = Board((), queues=queues, rng=random.Random(1))
    now = 0.0
    for op in ops:
        now += 1.0
        try:
            match op:
                case ("agent", spec):
                    board.upsert_agent(spec, now)
                case ("queue", spec):
                    board.upsert_queue(spec, now)
                case ("state", agent_id, request):
                    if agent_id in board.agents:
                        getattr(board, request)(agent_id, *(("lunch",) if request == "not_ready" else ()), now)
                case ("call", n, queue, language):
                    board.enqueue(f"c{n}", queue, 0, now, now, language=language)
                case ("remove_agent", agent_id):
                    if agent_id in board.agents:
                        board.remove_agent(agent_id, now)
        except InvalidTransition:
            pass
        for bucket in board._buckets.values():
            assert not (len(bucket.calls) and len(bucket.pool)), "a call waits beside an available agent"
    ordered = sorted(board.specs.values(), key=lambda s: board._a[s.agent_id].order)
    fresh = Board(ordered, queues=tuple(board.queues.values()), rng=random.Random(1))
    for record in board.agents.values():
        fresh.restore(msgspec.structs.replace(record))
    keys = set(fresh._buckets)
    assert keys <= set(board._buckets)
    assert snapshot(board, keys) == snapshot(fresh, keys)  # type: ignore[arg-type]
