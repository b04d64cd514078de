"""Reserving an agent a call asks for by name (a transfer, a consultation), outside routing."""

from __future__ import annotations

import pytest
from acd_helpers import agent, make_board

from callcenter_ari.acd.decisions import Offer
from callcenter_ari.acd.errors import InvalidTransition, UnknownAgent
from callcenter_ari.acd.specs import QueueSpec


def test_any_available_agent_is_reserved_for_the_call_whose_queue_sets_the_wrapup() -> None:
    """Membership does not matter: a2 serves another queue, and takes the wrap-up time of the call's queue."""
    queues = (QueueSpec(name="q", wrapup_seconds=45.0), QueueSpec(name="other"))
    b = make_board(agent("a1"), agent("a2", "other"), queues=queues)
    b.log_in("a2", 0.0)
    assert b.reserve("a2", "c1", "q", 5.0) == Offer("c1", "a2", "PJSIP/a2", "q")
    assert (b.agents["a2"].state, b.agents["a2"].call_id) == ("reserved", "c1")
    b.connected("a2", 7.0)
    b.finished("a2", 60.0)
    assert b.agents["a2"].state == "wrapup" and b.next_deadline() == 105.0


def test_a_reserved_agent_takes_no_routed_call() -> None:
    b = make_board(agent("a1"))
    b.log_in("a1", 0.0)
    b.reserve("a1", "c1", "q", 1.0)
    assert b.enqueue("c2", "q", 0, 2.0, 2.0) == [] and b.waiting("q") == ["c2"]
    assert [o.call_id for o in b.release("a1", "consult_cancelled", 3.0)] == ["c2"]


@pytest.mark.parametrize("state", ["logged_out", "not_ready", "reserved", "talking", "wrapup"])
def test_only_an_available_agent_can_be_reserved(state: str) -> None:
    b = make_board(agent("a1"))
    if state != "logged_out":
        b.log_in("a1", 0.0)
    if state == "not_ready":
        b.not_ready("a1", "lunch", 1.0)
    if state in ("reserved", "talking", "wrapup"):
        b.enqueue("c0", "q", 0, 1.0, 1.0)
    if state in ("talking", "wrapup"):
        b.connected("a1", 2.0)
    if state == "wrapup":
        b.finished("a1", 3.0)
    before = (b.agents["a1"].state, b.agents["a1"].call_id)
    with pytest.raises(InvalidTransition, match=f"a1 is {state}"):
        b.reserve("a1", "c1", "q", 5.0)
    assert (b.agents["a1"].state, b.agents["a1"].call_id) == before


def test_unknown_and_persistent_agents_are_refused() -> None:
    b = make_board(agent("p1", persistent=True))
    b.log_in("p1", 0.0)
    with pytest.raises(UnknownAgent):
        b.reserve("a9", "c1", "q", 1.0)
    with pytest.raises(InvalidTransition, match="persistent"):
        b.reserve("p1", "c1", "q", 1.0)
    assert b.agents["p1"].state == "available"
