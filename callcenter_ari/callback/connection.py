"""Bringing the agent and the customer of one callback together: which leg first, what follows each outcome.

Theory of operation
-------------------
The ACD reserved an agent for the callback (its turn came) and the entry is claimed. Then, by the queue's mode:

*agent first*: ring the agent; when they answer, they hear who is called back and why (the caller's recorded
name, the number), and the customer is dialled; when the customer answers the two are bridged. An agent who does
not answer is released (not ready, as for any ring-no-answer) and the callback goes back in line at its place:
the customer was not called, no attempt is spent.

*customer first*: dial the customer; when they answer, ring the reserved agent; when the agent answers the two
are bridged. An agent who does not answer then leaves a customer who answered: the customer is told and hung up,
and the attempt counts as failed ("agent_unavailable").

Either way a customer not reached (no answer, busy, failure) frees the agent, and the attempt is settled by the
entry's rules (retry or expire). Once bridged, the first to hang up ends the call for both and the agent goes to
wrap-up. Each method returns the commands to carry out; inputs that do not apply now are ignored (network races).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from callcenter_ari.callback.entry import Mode

Phase = Literal["start", "ringing_agent", "dialing_customer", "ringing_agent_for_customer", "talking", "over"]


class RingAgent(msgspec.Struct, frozen=True):
    agent_id: str


class DialCustomer(msgspec.Struct, frozen=True):
    pass


class AnnounceToAgent(msgspec.Struct, frozen=True):
    """The agent hears who is called back, before the customer's phone rings."""


class Bridge(msgspec.Struct, frozen=True):
    pass


class HangUpAgent(msgspec.Struct, frozen=True):
    pass


class HangUpCustomer(msgspec.Struct, frozen=True):
    apologize: bool = False  # the customer answered and nobody is there: they hear why first


class ReleaseAgent(msgspec.Struct, frozen=True):
    """The reservation ends with no conversation (``reason`` as the ACD knows it)."""

    reason: str


class AgentFinished(msgspec.Struct, frozen=True):
    """The conversation is over: the agent goes to wrap-up."""


class Connected(msgspec.Struct, frozen=True):
    pass


class BackInLine(msgspec.Struct, frozen=True):
    pass


class NotReached(msgspec.Struct, frozen=True):
    outcome: str  # "no_answer", "busy", "failed", "agent_unavailable", "customer_hung_up"


Command = (
    RingAgent
    | DialCustomer
    | AnnounceToAgent
    | Bridge
    | HangUpAgent
    | HangUpCustomer
    | ReleaseAgent
    | AgentFinished
    | Connected
    | BackInLine
    | NotReached
)


class Connection:
    def __init__(self, mode: Mode, agent_id: str) -> None:
        self.mode = mode
        self.agent_id = agent_id
        self.phase: Phase = "start"
        self.agent_up = False
        self.customer_up = False

    def start(self) -> list[Command]:
        if self.phase != "start":
            return []
        if self.mode == "agent_first":
            self.phase = "ringing_agent"
            return [RingAgent(self.agent_id)]
        self.phase = "dialing_customer"
        return [DialCustomer()]

    def agent_answered(self) -> list[Command]:
        if self.phase == "ringing_agent":
            self.agent_up = True
            self.phase = "dialing_customer"
            return [AnnounceToAgent(), DialCustomer()]
        if self.phase == "ringing_agent_for_customer":
            self.agent_up = True
            return self._talk()
        return []

    def agent_failed(self, reason: str) -> list[Command]:
        """The agent's leg did not come up (no answer, busy, failed) or ended before the bridge."""
        if self.phase == "ringing_agent":
            self.phase = "over"
            return [ReleaseAgent(reason), BackInLine()]
        if self.phase == "dialing_customer" and self.mode == "agent_first":
            # The agent hung up while the customer's phone rang: nobody to talk to.
            self.phase = "over"
            return [HangUpCustomer(), ReleaseAgent("agent_hung_up"), NotReached("agent_unavailable")]
        if self.phase == "ringing_agent_for_customer":
            self.phase = "over"
            return [HangUpCustomer(apologize=True), ReleaseAgent(reason), NotReached("agent_unavailable")]
        if self.phase == "talking":
            return self.hung_up()
        return []

    def customer_answered(self) -> list[Command]:
        if self.phase != "dialing_customer":
            return []
        self.customer_up = True
        if self.mode == "agent_first":
            return self._talk()
        self.phase = "ringing_agent_for_customer"
        return [RingAgent(self.agent_id)]

    def customer_not_reached(self, outcome: str) -> list[Command]:
        if self.phase != "dialing_customer":
            return []
        self.phase = "over"
        commands: list[Command] = [HangUpAgent()] if self.agent_up else []
        return [*commands, ReleaseAgent("callback_not_reached"), NotReached(outcome)]

    def customer_gone(self) -> list[Command]:
        """The customer's answered leg ended."""
        if self.phase == "ringing_agent_for_customer":
            self.phase = "over"
            return [HangUpAgent(), ReleaseAgent("caller_abandoned"), NotReached("customer_hung_up")]
        if self.phase == "talking":
            return self.hung_up()
        return []

    def hung_up(self) -> list[Command]:
        """Either party left the conversation: it is over for both."""
        if self.phase != "talking":
            return []
        self.phase = "over"
        return [HangUpAgent(), HangUpCustomer(), AgentFinished()]

    def _talk(self) -> list[Command]:
        self.phase = "talking"
        return [Bridge(), Connected()]
