"""The routing audit: for every offer the candidates, their scores and the rule; for no offer, why not."""

from __future__ import annotations

from acd_helpers import agent, make_board

from callcenter_ari.acd.decisions import Candidate, Ineligible
from callcenter_ari.acd.skills import parse
from callcenter_ari.acd.specs import QueueSpec

QUEUES = (QueueSpec(name="q", strategy="best_skill", skills=parse("billing>=3")), QueueSpec(name="other"))


def test_an_offer_records_candidates_scores_and_the_rule() -> None:
    b = make_board(
        agent("a1", skills={"billing": 4}),
        agent("a2", skills={"billing": 8}),
        agent("a3", skills={"billing": 6}),
        queues=QUEUES,
    )
    for n, agent_id in enumerate(("a1", "a2", "a3")):
        b.log_in(agent_id, float(n))
    b.drain_audit()
    b.enqueue("c1", "q", 0, 5.0, 5.0)
    [audit] = b.drain_audit()
    assert (audit.call_id, audit.trigger, audit.strategy, audit.winners) == ("c1", "call_joined", "best_skill", ("a2",))
    assert audit.rule.startswith("best_skill")
    assert audit.requirement == "billing>=3" and audit.considered == 3
    assert audit.candidates == (Candidate("a2", (-8, 1.0)), Candidate("a3", (-6, 2.0)), Candidate("a1", (-4, 0.0)))


def test_an_agent_becoming_available_records_the_calls_it_chose_between() -> None:
    b = make_board(agent("a1", skills={"billing": 4}), queues=QUEUES)
    b.enqueue("c1", "q", 0, 1.0, 1.0)
    b.enqueue("c2", "q", 2, 2.0, 2.0)
    b.drain_audit()
    b.log_in("a1", 3.0)
    [audit] = b.drain_audit()
    assert audit.trigger == "agent_available" and audit.call_id == "c2" and audit.winners == ("a1",)
    assert audit.candidates == (Candidate("c2", (-2, 2.0)),)  # one bucket: its front call


def test_a_call_not_offered_counts_why_in_summary_mode() -> None:
    b = make_board(
        agent("busy", skills={"billing": 5}),
        agent("lunch", skills={"billing": 5}),
        agent("novice", skills={"billing": 1}),
        agent("elsewhere", "other"),
        agent("home", skills={"billing": 9}),
        queues=QUEUES,
    )
    for agent_id in ("busy", "lunch", "novice", "elsewhere"):
        b.log_in(agent_id, 0.0)
    b.enqueue("c0", "q", 0, 0.5, 0.5)  # takes "busy"
    b.not_ready("lunch", "lunch", 1.0)
    b.drain_audit()
    b.enqueue("c1", "q", 0, 2.0, 2.0)
    [audit] = b.drain_audit()
    assert audit.winners == () and audit.rule == "no available eligible agent"
    assert audit.not_offered == {"eligible_busy": 1, "eligible_not_ready": 1, "not_eligible": 2}
    assert audit.ineligible == ()


def test_explain_says_why_each_logged_in_agent_did_not_get_the_call() -> None:
    b = make_board(
        agent("busy", skills={"billing": 5}),
        agent("lunch", skills={"billing": 5}),
        agent("novice", skills={"billing": 1}),
        agent("elsewhere", "other"),
        agent("home", skills={"billing": 9}),
        queues=QUEUES,
    )
    for agent_id in ("busy", "lunch", "novice", "elsewhere"):
        b.log_in(agent_id, 0.0)
    b.enqueue("c0", "q", 0, 0.5, 0.5)
    b.connected("busy", 0.7)
    b.not_ready("lunch", "lunch", 1.0)
    b.enqueue("c1", "q", 0, 2.0, 2.0)
    audit = b.explain("c1", 3.0)
    assert audit.ineligible == (
        Ineligible("busy", "talking"),
        Ineligible("lunch", "not_ready (lunch)"),
        Ineligible("novice", "billing level 1 < 3"),
        Ineligible("elsewhere", "not a member of q"),
    )


def test_full_mode_records_the_reasons_with_every_decision_that_makes_no_offer() -> None:
    b = make_board(agent("novice", skills={"billing": 1}), queues=QUEUES, audit="full")
    b.log_in("novice", 0.0)
    b.enqueue("c1", "q", 0, 1.0, 1.0)
    [audit] = b.drain_audit()
    assert audit.ineligible == (Ineligible("novice", "billing level 1 < 3"),)


def test_the_audit_log_is_bounded_when_nobody_drains_it() -> None:
    b = make_board(agent("a1"), audit_log_size=3)
    for n in range(10):
        b.enqueue(f"c{n}", "q", 0, n, n)
    assert [a.call_id for a in b.drain_audit()] == ["c7", "c8", "c9"]
