"""Each queue strategy picks the agent it promises, among the available eligible agents."""

from __future__ import annotations

from collections import Counter

from acd_helpers import agent, make_board, offered_to

from callcenter_ari.acd.records import AgentRecord
from callcenter_ari.acd.skills import parse
from callcenter_ari.acd.specs import QueueSpec


def queue(strategy: str, **fields: object) -> tuple[QueueSpec, ...]:
    return (QueueSpec(name="q", strategy=strategy, **fields),)  # type: ignore[arg-type]


def test_longest_idle_takes_the_agent_available_since_the_earliest_time() -> None:
    b = make_board(agent("a1"), agent("a2"), agent("a3"), queues=queue("longest_idle"))
    b.log_in("a2", 1.0)
    b.log_in("a3", 2.0)
    b.log_in("a1", 3.0)
    assert offered_to(b.enqueue("c1", "q", 0, 10.0, 10.0)) == ["a2"]


def test_fewest_calls_takes_the_agent_with_fewest_answered_calls() -> None:
    b = make_board(agent("a1"), agent("a2"), agent("a3"), queues=queue("fewest_calls"))
    for agent_id, calls in (("a1", 4), ("a2", 1), ("a3", 2)):
        b.restore(AgentRecord(agent_id=agent_id, state="available", since=0.0, calls=calls))
    assert offered_to(b.enqueue("c1", "q", 0, 1.0, 1.0)) == ["a2"]


def test_least_talk_time_takes_the_agent_who_talked_least() -> None:
    b = make_board(agent("a1"), agent("a2"), queues=queue("least_talk_time"))
    b.restore(AgentRecord(agent_id="a1", state="available", since=0.0, talk_seconds=300.0))
    b.restore(AgentRecord(agent_id="a2", state="available", since=5.0, talk_seconds=120.0))
    assert offered_to(b.enqueue("c1", "q", 0, 9.0, 9.0)) == ["a2"]


def test_best_skill_prefers_the_most_proficient_agent_over_the_longest_idle() -> None:
    queues = (QueueSpec(name="q", strategy="best_skill", skills=parse("billing>=3")),)
    b = make_board(agent("a1", skills={"billing": 4}), agent("a2", skills={"billing": 9}), queues=queues)
    b.log_in("a1", 0.0)
    b.log_in("a2", 5.0)
    assert offered_to(b.enqueue("c1", "q", 0, 9.0, 9.0)) == ["a2"]


def test_linear_always_starts_with_the_first_member() -> None:
    b = make_board(agent("a1"), agent("a2"), agent("a3"), queues=queue("linear"))
    for agent_id in ("a3", "a2", "a1"):
        b.log_in(agent_id, 0.0)
    assert offered_to(b.enqueue("c1", "q", 0, 1.0, 1.0)) == ["a1"]
    b.release("a1", "caller_abandoned", 2.0)
    assert offered_to(b.enqueue("c2", "q", 0, 3.0, 3.0)) == ["a1"]


def test_round_robin_remembers_where_it_stopped_and_wraps_around() -> None:
    b = make_board(agent("a1"), agent("a2"), agent("a3"), queues=queue("round_robin"))
    for agent_id in ("a1", "a2", "a3"):
        b.log_in(agent_id, 0.0)
    picks = []
    for n in range(5):
        [offer] = b.enqueue(f"c{n}", "q", 0, n, n)
        picks.append(offer.agent_id)
        b.release(offer.agent_id, "caller_abandoned", n + 0.5)
    assert picks == ["a1", "a2", "a3", "a1", "a2"]


def test_round_robin_skips_busy_members() -> None:
    b = make_board(agent("a1"), agent("a2"), agent("a3"), queues=queue("round_robin"))
    for agent_id in ("a1", "a2", "a3"):
        b.log_in(agent_id, 0.0)
    assert offered_to(b.enqueue("c1", "q", 0, 1.0, 1.0)) == ["a1"]
    assert offered_to(b.enqueue("c2", "q", 0, 2.0, 2.0)) == ["a2"]
    b.release("a1", "caller_abandoned", 3.0)
    assert offered_to(b.enqueue("c3", "q", 0, 4.0, 4.0)) == ["a3"]
    assert offered_to(b.enqueue("c4", "q", 0, 5.0, 5.0)) == ["a1"]


def test_ring_all_rings_every_available_agent_and_the_first_to_answer_wins() -> None:
    b = make_board(agent("a1"), agent("a2"), agent("a3"), queues=queue("ring_all"))
    for agent_id in ("a1", "a2", "a3"):
        b.log_in(agent_id, 0.0)
    assert sorted(offered_to(b.enqueue("c1", "q", 0, 1.0, 1.0))) == ["a1", "a2", "a3"]
    b.enqueue("c2", "q", 0, 2.0, 2.0)
    offers = b.connected("a2", 3.0)
    assert b.agents["a2"].state == "talking"
    # The others are released: the first of them in member order takes the waiting call, the other is free.
    assert [(o.call_id, o.agent_id) for o in offers] == [("c2", "a1")]
    assert b.agents["a3"].state == "available"


def test_random_is_uniform_and_reproducible_with_a_seed() -> None:
    def draws(seed: int) -> list[str]:
        b = make_board(agent("a1"), agent("a2"), agent("a3"), queues=queue("random"), seed=seed)
        for agent_id in ("a1", "a2", "a3"):
            b.log_in(agent_id, 0.0)
        picks = []
        for n in range(3000):
            [offer] = b.enqueue(f"c{n}", "q", 0, n, n)
            picks.append(offer.agent_id)
            b.release(offer.agent_id, "caller_abandoned", n)
        return picks

    picks = draws(1)
    assert picks == draws(1)
    counts = Counter(picks)
    assert all(900 < counts[a] < 1100 for a in ("a1", "a2", "a3")), counts


def test_weighted_random_draws_in_proportion_to_skill_score() -> None:
    queues = (QueueSpec(name="q", strategy="weighted_random", skills=parse("sales")),)
    b = make_board(agent("a1", skills={"sales": 9}), agent("a2", skills={"sales": 1}), queues=queues)
    b.log_in("a1", 0.0)
    b.log_in("a2", 0.0)
    counts: Counter[str] = Counter()
    for n in range(4000):
        [offer] = b.enqueue(f"c{n}", "q", 0, n, n)
        counts[offer.agent_id] += 1
        b.release(offer.agent_id, "caller_abandoned", n)
    assert 0.86 < counts["a1"] / 4000 < 0.94, counts


def test_an_agent_becoming_available_takes_the_best_call_whatever_the_strategy() -> None:
    b = make_board(agent("a1"), queues=queue("fewest_calls"))
    b.enqueue("old", "q", 0, 1.0, 1.0)
    b.enqueue("vip", "q", 3, 5.0, 5.0)
    assert [o.call_id for o in b.log_in("a1", 6.0)] == ["vip"]
