"""Agent first and customer first: the legs in order, and what each outcome leads to."""

from __future__ import annotations

from callcenter_ari.callback.connection import (
    AgentFinished,
    AnnounceToAgent,
    BackInLine,
    Bridge,
    Connected,
    Connection,
    DialCustomer,
    HangUpAgent,
    HangUpCustomer,
    NotReached,
    ReleaseAgent,
    RingAgent,
)


class TestAgentFirst:
    def test_agent_hears_who_then_the_customer_is_dialled_and_bridged(self) -> None:
        c = Connection("agent_first", "a1")
        assert c.start() == [RingAgent("a1")]
        assert c.customer_answered() == [], "no customer leg yet"
        assert c.agent_answered() == [AnnounceToAgent(), DialCustomer()]
        assert c.customer_answered() == [Bridge(), Connected()]
        assert c.hung_up() == [HangUpAgent(), HangUpCustomer(), AgentFinished()]
        assert c.hung_up() == [], "over once"

    def test_agent_not_answering_sends_it_back_in_line_without_calling_the_customer(self) -> None:
        c = Connection("agent_first", "a1")
        c.start()
        assert c.agent_failed("ring_no_answer") == [ReleaseAgent("ring_no_answer"), BackInLine()]
        assert c.customer_answered() == []

    def test_customer_not_reached_frees_the_agent(self) -> None:
        c = Connection("agent_first", "a1")
        c.start()
        c.agent_answered()
        assert c.customer_not_reached("busy") == [
            HangUpAgent(),
            ReleaseAgent("callback_not_reached"),
            NotReached("busy"),
        ]

    def test_agent_hanging_up_while_the_customer_rings(self) -> None:
        c = Connection("agent_first", "a1")
        c.start()
        c.agent_answered()
        assert c.agent_failed("agent_hung_up") == [
            HangUpCustomer(),
            ReleaseAgent("agent_hung_up"),
            NotReached("agent_unavailable"),
        ]


class TestCustomerFirst:
    def test_customer_answers_then_the_reserved_agent_is_rung_and_joined(self) -> None:
        c = Connection("customer_first", "a1")
        assert c.start() == [DialCustomer()]
        assert c.agent_answered() == [], "the agent is not rung before the customer answers"
        assert c.customer_answered() == [RingAgent("a1")]
        assert c.agent_answered() == [Bridge(), Connected()]
        assert c.customer_gone() == [HangUpAgent(), HangUpCustomer(), AgentFinished()]

    def test_customer_not_reached_releases_the_agent_who_was_never_rung(self) -> None:
        c = Connection("customer_first", "a1")
        c.start()
        assert c.customer_not_reached("no_answer") == [ReleaseAgent("callback_not_reached"), NotReached("no_answer")]

    def test_agent_not_answering_leaves_the_customer_told_and_the_attempt_failed(self) -> None:
        c = Connection("customer_first", "a1")
        c.start()
        c.customer_answered()
        assert c.agent_failed("ring_no_answer") == [
            HangUpCustomer(apologize=True),
            ReleaseAgent("ring_no_answer"),
            NotReached("agent_unavailable"),
        ]

    def test_customer_hanging_up_while_the_agent_rings(self) -> None:
        c = Connection("customer_first", "a1")
        c.start()
        c.customer_answered()
        assert c.customer_gone() == [HangUpAgent(), ReleaseAgent("caller_abandoned"), NotReached("customer_hung_up")]
