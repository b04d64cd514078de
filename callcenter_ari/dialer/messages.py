"""What the pacer hears (inputs) and what it decides (decisions). Pure data, no I/O.

Call ids are the pacer's: it names each call before asking for an agent or a dial, and every input about the call
carries that name back. An agent reserved "for a call" is held for the campaign through the ACD's atomic
reservation; a ``Dial`` naming the agent moves that reservation to the new call (an agent in progressive or preview
mode stays reserved from one lead to the next).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import msgspec


class Lead(msgspec.Struct, frozen=True):
    """A lead the campaigns package says may be dialed now: its calling hours, do-not-call list and retry rules
    allowed it when it was handed over (the executor checks do-not-call again right before the dial)."""

    lead_id: str
    number: str
    data: Mapping[str, str] = {}


class _In(msgspec.Struct, frozen=True):
    pass


# ---- inputs: the campaign's resources ------------------------------------------------------------------------


class LeadsReady(_In, frozen=True):
    """The answer to ``WantLeads``: dialable leads, fewer than asked (none) when the campaign has no more now."""

    leads: tuple[Lead, ...]


class LinesFree(_In, frozen=True):
    """The campaign's trunk has this many free lines now (its line ledger's figure, after every change)."""

    count: int


class Tick(_In, frozen=True):
    """Time passed: the runtime sends it at ``Pacer.next_deadline()``."""


class Pause(_In, frozen=True):
    """A supervisor paused the campaign: no new dials; calls in flight go on."""


class Resume(_In, frozen=True):
    pass


# ---- inputs: agents (the campaign's agents as the ACD reports them) -------------------------------------------


class AgentAvailable(_In, frozen=True):
    """The agent is free for this campaign's work (for a blended agent: the blend policy let them take it)."""

    agent_id: str


class AgentReserved(_In, frozen=True):
    """The ACD reserved the agent for ``call_id``: ours (the answer to ``ReserveAgent``) or another call (an inbound
    call took a blended agent), which takes them away from the campaign."""

    agent_id: str
    call_id: str


class ReservationRefused(_In, frozen=True):
    """Our ``ReserveAgent`` failed: the agent was no longer available."""

    agent_id: str
    call_id: str


class AgentWrapup(_In, frozen=True):
    """The conversation ended and the agent is in wrap-up."""

    agent_id: str


class AgentAway(_In, frozen=True):
    """The agent is not available to the campaign: not ready, on a break, logged out, or on inbound work."""

    agent_id: str
    reason: str = ""


class PreviewStart(_In, frozen=True):
    """The agent read the previewed lead and starts the call."""

    call_id: str


class PreviewSkip(_In, frozen=True):
    """The agent skips the previewed lead; it goes back to the campaign."""

    call_id: str


# ---- inputs: calls ------------------------------------------------------------------------------------------

NotAnsweredOutcome = Literal["no_answer", "busy", "failed", "refused"]


class CallPlaced(_In, frozen=True):
    """The originate went out: the call is ringing."""

    call_id: str


class NotAnswered(_In, frozen=True):
    """No answer, busy or failed; ``refused``: never dialed (no free line, on the do-not-call list at the moment of
    dialing, calling hours over), which says nothing about the answer rate."""

    call_id: str
    outcome: NotAnsweredOutcome


class AnsweredByPerson(_In, frozen=True):
    """A person answered (answering-machine detection said so, or the campaign does not detect machines).
    The connect deadline runs from now: the executor sends this at the end of the greeting."""

    call_id: str


class AnsweredByMachine(_In, frozen=True):
    call_id: str


class Connected(_In, frozen=True):
    """The customer is with the agent the pacer connected them to: the agent is talking."""

    call_id: str


class ConnectFailed(_In, frozen=True):
    """The customer could not be joined to the agent (the agent's line went away): the agent is gone for now."""

    call_id: str


class CustomerHungUp(_In, frozen=True):
    """The customer hung up. Before being connected, the call counts as abandoned (with no message)."""

    call_id: str


Input = (
    LeadsReady
    | LinesFree
    | Tick
    | Pause
    | Resume
    | AgentAvailable
    | AgentReserved
    | ReservationRefused
    | AgentWrapup
    | AgentAway
    | PreviewStart
    | PreviewSkip
    | CallPlaced
    | NotAnswered
    | AnsweredByPerson
    | AnsweredByMachine
    | Connected
    | ConnectFailed
    | CustomerHungUp
)


# ---- decisions ----------------------------------------------------------------------------------------------


class _Out(msgspec.Struct, frozen=True):
    pass


class WantLeads(_Out, frozen=True):
    """Claim up to ``count`` dialable leads for this campaign and answer with ``LeadsReady``."""

    count: int


class ReturnLead(_Out, frozen=True):
    """The lead was not dialed after all (skipped in preview, campaign paused): it is the campaign's again."""

    lead_id: str
    reason: str


class ReserveAgent(_Out, frozen=True):
    """Reserve the agent through the ACD for ``call_id`` and answer with ``AgentReserved`` or
    ``ReservationRefused``. The call is still to be dialed (preview, progressive) or already answered (predictive)."""

    agent_id: str
    call_id: str


class ReleaseAgent(_Out, frozen=True):
    """The reservation is no longer needed: the agent is available again (the pacer hears it as
    ``AgentAvailable``)."""

    agent_id: str
    call_id: str
    reason: str


class Preview(_Out, frozen=True):
    """Show the lead to the reserved agent (screen pop with its data and history); they start or skip it, which
    comes back as ``PreviewStart`` or ``PreviewSkip``. After a skip or a call with nobody on the line the agent
    previews the next lead under a new call id: the reservation moves to it."""

    agent_id: str
    call_id: str
    lead: Lead


class Dial(_Out, frozen=True):
    """Originate ``call_id`` to the lead's number through the campaign's trunk, ringing at most ``ring_seconds``.
    ``agent_id``: the agent reserved for this call (preview, progressive), "" when none is (predictive)."""

    call_id: str
    lead: Lead
    ring_seconds: int
    agent_id: str = ""


class Connect(_Out, frozen=True):
    """Join the answered customer to the reserved agent (a persistent agent's bridge: no ring); answer with
    ``Connected`` or ``ConnectFailed``. The agent may have been reserved for another of the campaign's calls, still
    ringing (progressive above a ratio of 1): the reservation moves to this one."""

    call_id: str
    agent_id: str


class SafeHarbour(_Out, frozen=True):
    """No agent within the connect deadline: play the campaign's message (who calls and a number to call back)
    and hang up. The call is abandoned; the ledger has it with the message played."""

    call_id: str


class EndCall(_Out, frozen=True):
    """The pacer is done with this call: a machine is hung up, left a message or routed, as the campaign says."""

    call_id: str
    reason: str


class PauseCampaign(_Out, frozen=True):
    """The abandon rate of a rule's current period is over its limit: the campaign stops dialing (an event for
    supervisors). It resumes on ``Resume``."""

    rule: str
    rate: float
    limit: float
    answered: float
    abandoned: float


class Recorded(_Out, frozen=True):
    """A ledger entry to persist (the ledger is rebuilt from these after a restart)."""

    at: float
    call_id: str
    kind: Literal["connected", "abandoned", "machine"]
    message: bool = False


Decision = (
    WantLeads
    | ReturnLead
    | ReserveAgent
    | ReleaseAgent
    | Preview
    | Dial
    | Connect
    | SafeHarbour
    | EndCall
    | PauseCampaign
    | Recorded
)
