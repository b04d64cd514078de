"""What the board decides: offers, refusals, call endings, alerts and the routing audit, as frozen Structs.

The runtime acts on these (rings or joins an agent, plays a message, alerts a supervisor) and appends the audit
records to the event stream, so that "why didn't agent X get this call?" has a recorded answer.
"""

from __future__ import annotations

from typing import Literal

import msgspec


class Offer(msgspec.Struct, frozen=True):
    """Reserve ``agent_id`` for the call. A persistent agent is joined (no ring); others are rung."""

    call_id: str
    agent_id: str
    endpoint: str
    queue: str
    persistent: bool = False


class Joined(msgspec.Struct, frozen=True):
    call_id: str
    queue: str
    offers: tuple[Offer, ...]
    position: int | None
    ewt: float | None
    moh_class: str


JoinRefusal = Literal["full", "empty"]


class JoinRefused(msgspec.Struct, frozen=True):
    """The call may not join: the queue is at ``max_length`` ("full") or nobody could serve it ("empty")."""

    call_id: str
    queue: str
    reason: JoinRefusal


EndReason = Literal["max_wait", "leave_empty", "relaxation"]


class EndCall(msgspec.Struct, frozen=True):
    """The call left the queue (the board already removed it): play ``message`` if any, then end or route it."""

    call_id: str
    queue: str
    reason: EndReason
    waited: float
    position: int
    message: str = ""


class OfferCallback(msgspec.Struct, frozen=True):
    """A relaxation step: offer the caller a callback. The call keeps its place unless the runtime removes it."""

    call_id: str
    queue: str
    waited: float


class Announce(msgspec.Struct, frozen=True):
    """Tell the caller their position and estimated wait (``ewt`` None: not enough history to say)."""

    call_id: str
    queue: str
    position: int
    ewt: float | None


class AgentChanged(msgspec.Struct, frozen=True):
    """The board changed an agent's state on its own (wrap-up over): persist the record."""

    agent_id: str
    state: str
    reason: str = ""


AlertKind = Literal["break_limit", "break_overrun"]


class SupervisorAlert(msgspec.Struct, frozen=True):
    kind: AlertKind
    agent_id: str
    team: str
    at: float
    detail: str


class BreakDecision(msgspec.Struct, frozen=True):
    """The answer to a break request. Granted: the agent is not ready with ``reason`` and, for a policed break,
    an overrun alert is due at ``deadline``. ``alert`` is set when the team's limit was passed in alert mode."""

    agent_id: str
    reason: str
    granted: bool
    deadline: float | None = None
    team: str = ""
    alert: SupervisorAlert | None = None


ForcedState = Literal["logged_out", "available", "not_ready"]


class Forced(msgspec.Struct, frozen=True):
    """A supervisor's order. ``pending``: the agent is on a call; the state applies when the call's wrap-up ends."""

    agent_id: str
    state: ForcedState
    pending: bool
    offers: tuple[Offer, ...] = ()


# ---- routing audit ---------------------------------------------------------------------------------------


class Candidate(msgspec.Struct, frozen=True):
    """A candidate the rule ranked: an agent (for a call) or a call (for an agent). ``score`` is the ranking key,
    best first in ``RoutingAudit.candidates``."""

    id: str
    score: tuple[float | int | str, ...]


class Ineligible(msgspec.Struct, frozen=True):
    agent_id: str
    reason: str


Trigger = Literal["call_joined", "agent_available", "relaxed", "reconfigured", "explain"]


class RoutingAudit(msgspec.Struct, frozen=True, kw_only=True):
    """One routing decision, or the absence of one.

    ``considered`` counts every candidate that was eligible; ``candidates`` lists the best few with their scores;
    ``rule`` names how the winner was chosen. When no offer was made, ``not_offered`` counts the logged-in agents
    by why they were not offered (``eligible_busy``, ``eligible_not_ready``, ``not_eligible``) and, in full detail
    mode or from ``Board.explain``, ``ineligible`` says why for each one.
    """

    at: float
    call_id: str
    queue: str
    trigger: Trigger
    strategy: str
    rule: str
    requirement: str
    step: int
    considered: int
    candidates: tuple[Candidate, ...]
    winners: tuple[str, ...]
    not_offered: dict[str, int] = {}
    ineligible: tuple[Ineligible, ...] = ()


Decision = Offer | EndCall | OfferCallback | Announce | AgentChanged | SupervisorAlert
