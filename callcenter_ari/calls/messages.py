"""What the call machine hears (inputs) and what it asks for (commands). Pure data, no I/O.

Prompts, keys, timers, CRM lookups and events are the vocabulary the call shares with its IVR sessions
(callcenter_ari/messages.py, re-exported here so that the call's whole vocabulary is importable from one place);
what is below is the call's own: its legs, bridges, queue and agents, and what people ask of it (``Request``).
"""

from __future__ import annotations

from typing import Literal, get_args

import msgspec

from callcenter_ari.ivr import SurgeAnnouncement

# Re-exported: the call hears and says these too, and its users import its vocabulary from here.
from callcenter_ari.messages import CallerGone as CallerGone
from callcenter_ari.messages import CancelTimer as CancelTimer
from callcenter_ari.messages import Digit as Digit
from callcenter_ari.messages import Emit as Emit
from callcenter_ari.messages import Lookup as Lookup
from callcenter_ari.messages import LookupResult as LookupResult
from callcenter_ari.messages import Play as Play
from callcenter_ari.messages import PlaybackDone as PlaybackDone
from callcenter_ari.messages import RecordMessage as RecordMessage
from callcenter_ari.messages import SetTimer as SetTimer
from callcenter_ari.messages import StopPlayback as StopPlayback
from callcenter_ari.messages import Timeout as Timeout
from callcenter_ari.recording.recorder import Action as RecordingAction
from callcenter_ari.recording.recorder import ControlRecording, StartRecording


class _Msg(msgspec.Struct, frozen=True):
    pass


# ---- inputs ------------------------------------------------------------------------------------------------


class Start(_Msg, frozen=True):
    """The caller's channel entered the application; ``surge`` is the tenant's announcement as it stands now.
    ``refused``: the call cannot be taken (``trunk_full``: the trunk it came in on has no line left for it)."""

    surge: SurgeAnnouncement | None = None
    refused: str = ""


class Resume(_Msg, frozen=True):
    """The process restarted while this call was up; pick it up where its record says it was. ``channels``: the
    channels Asterisk listed at the restart (an agent leg still ringing among them keeps ringing)."""

    channels: frozenset[str] = frozenset()


class RecordingDone(_Msg, frozen=True):
    name: str


class Offered(_Msg, frozen=True):
    """The ACD reserved this agent for the call. A persistent agent sits in ``bridge`` on their standing ``line``
    (a channel): the caller is joined to them there, with no ring; otherwise ``endpoint`` is rung."""

    agent_id: str
    endpoint: str
    line: str = ""
    bridge: str = ""


class RingAll(_Msg, frozen=True):
    """The ACD reserved several agents for the call (the ring_all strategy): ``(agent id, endpoint)`` each. All are
    rung at once; the first to answer takes the call."""

    agents: tuple[tuple[str, str], ...]


class AgentJoined(_Msg, frozen=True):
    """The caller is in the persistent agent's bridge: they are connected."""


class AgentUp(_Msg, frozen=True):
    """The agent's leg answered and entered the application."""

    channel_id: str


class AgentFailed(_Msg, frozen=True):
    """The agent's leg did not come up: busy, no answer, unreachable. ``channel_id``: which leg, when known."""

    reason: str
    channel_id: str = ""


class AgentGone(_Msg, frozen=True):
    """A leg the call dialled (an agent's, a transfer's) hung up or never came up.

    ``channel_id`` says which: an earlier leg's late hang-up (after a ring-no-answer, after a transfer) must not
    be taken for the current one's. Empty when unknown. ``dialstatus`` is the outcome Asterisk's ``Dial`` event
    gave for the leg (``BUSY``, ``CONGESTION``, ``NOANSWER``, ``CHANUNAVAIL``), when it gave one: a Local channel
    that was busy ends with cause 0, and only the dial status says why.
    """

    cause: int | None = None
    channel_id: str = ""
    dialstatus: str = ""


# Q.850 causes of an agent leg that never came up, as the reason the ACD records for the agent.
_FAILURE_BY_CAUSE = {
    1: "unavailable",
    3: "unavailable",
    17: "busy",
    18: "ring_no_answer",
    19: "ring_no_answer",
    20: "unavailable",
    21: "rejected",
    34: "unavailable",
    38: "unavailable",
}


def failure_reason(cause: int | None, dialstatus: str = "") -> str:
    """Why a leg that hung up before answering failed: the dial status when Asterisk gave one (a Local channel ends
    with cause 0 whatever happened), else the hang-up cause of its ``AgentGone``."""
    return _FAILURE_BY_DIALSTATUS.get(dialstatus) or _FAILURE_BY_CAUSE.get(cause or 0, "failed")


_FAILURE_BY_DIALSTATUS = {
    "BUSY": "busy",
    "CONGESTION": "unavailable",
    "CHANUNAVAIL": "unavailable",
    "NOANSWER": "ring_no_answer",
}


class QueueRefused(_Msg, frozen=True):
    """The queue would not take the call (full, or nobody who could serve it is logged in)."""

    reason: str


class QueueEnded(_Msg, frozen=True):
    """The ACD took the call out of the queue (a relaxation step's end, or the last agent left); say ``message``."""

    reason: str
    message: str = ""


class CallbackOffer(_Msg, frozen=True):
    """Time to offer the waiting caller a callback (a relaxation step of the queue, or its callback policy)."""


class CallbackAnswer(_Msg, frozen=True):
    """What became of the caller's ``RequestCallback``: accepted (``callback_id``), or refused with ``reason``
    ("pending": the number has one pending already for the queue; "unavailable": it could not be saved)."""

    accepted: bool
    callback_id: str = ""
    reason: str = ""


class Announce(_Msg, frozen=True):
    """Time to tell the caller their place in line and the estimated wait."""

    position: int
    ewt: float | None = None


class Hold(_Msg, frozen=True):
    """The agent (or a supervisor) puts the caller on hold."""


class Unhold(_Msg, frozen=True):
    pass


class SupervisorHangup(_Msg, frozen=True):
    """A supervisor is hanging the caller up (the API asks Asterisk next): the caller's leaving that follows is
    theirs, not an abandon. ``by`` empty: the hang-up failed, the mark is withdrawn."""

    by: str


class TransferTo(_Msg, frozen=True):
    """Blind transfer of a connected call: to a queue (the caller waits again), or to a configured destination."""

    kind: Literal["queue", "destination"]
    target: str


class RecordingControl(_Msg, frozen=True):
    """A person starts, stops, pauses or resumes the call's recording."""

    action: RecordingAction


class TransferToAgent(_Msg, frozen=True):
    """Blind transfer of a connected call to a named agent, who is reserved for it and rung."""

    agent_id: str


class Consult(_Msg, frozen=True):
    """The agent puts the caller on hold and dials a named agent or a configured destination to talk first."""

    kind: Literal["agent", "destination"]
    target: str


class CompleteTransfer(_Msg, frozen=True):
    """End of a consultation: the caller joins the consulted party and the agent leaves."""


class CancelConsult(_Msg, frozen=True):
    """End of a consultation: the consulted party is hung up and the agent is back with the caller."""


class StartConference(_Msg, frozen=True):
    """End of a consultation: caller, agent and consulted party talk together."""


class AgentReserved(_Msg, frozen=True):
    """The named agent the call asked for (``ReserveAgent``) is reserved for it; ``endpoint`` is theirs."""

    agent_id: str
    endpoint: str


class ReservationRefused(_Msg, frozen=True):
    """The named agent could not be reserved: ``unknown_agent``, ``not_available`` or ``reserved_elsewhere``."""

    agent_id: str
    reason: str


class Failed(_Msg, frozen=True):
    """Something unexpected broke the call's step: end it safe (the caller back to the dialplan), in any phase."""


class EndedWhileAway(_Msg, frozen=True):
    """The caller's channel was gone when the process started again: close the call. ``channels`` are the ones
    Asterisk still has, among which the legs the call left behind."""

    channels: frozenset[str]


# What people ask of a live call through the API; the machine says why it would refuse one (``refusal``).
Request = (
    SupervisorHangup
    | Hold
    | Unhold
    | TransferTo
    | TransferToAgent
    | Consult
    | CompleteTransfer
    | CancelConsult
    | StartConference
    | RecordingControl
)
REQUESTS: tuple[type[Request], ...] = get_args(Request)

Input = (
    Start
    | Resume
    | PlaybackDone
    | Digit
    | LookupResult
    | RecordingDone
    | CallerGone
    | Offered
    | RingAll
    | AgentJoined
    | AgentUp
    | AgentFailed
    | AgentGone
    | Timeout
    | QueueRefused
    | QueueEnded
    | Announce
    | CallbackOffer
    | CallbackAnswer
    | Hold
    | Unhold
    | SupervisorHangup
    | TransferTo
    | RecordingControl
    | TransferToAgent
    | Consult
    | CompleteTransfer
    | CancelConsult
    | StartConference
    | AgentReserved
    | ReservationRefused
    | Failed
    | EndedWhileAway
)


# ---- commands ----------------------------------------------------------------------------------------------


class Answer(_Msg, frozen=True):
    channel: str


class Mute(_Msg, frozen=True):
    """The channel's audio no longer reaches the bridge (a caller on hold is not overheard)."""

    channel: str


class Unmute(_Msg, frozen=True):
    channel: str


class AgentOnHold(_Msg, frozen=True):
    agent_id: str
    held: bool


class Hangup(_Msg, frozen=True):
    channel: str
    cause: int = 16


class ContinueInDialplan(_Msg, frozen=True):
    """Give the channel back to the dialplan, whose next step decides (hang up, voicemail, overflow); if Asterisk
    will not, hang it up."""

    channel: str


class MohStart(_Msg, frozen=True):
    channel: str
    moh_class: str = ""


class MohStop(_Msg, frozen=True):
    channel: str


class Originate(_Msg, frozen=True):
    """Call out to an agent's phone or a transfer destination; ``endpoint`` is a validated dial string."""

    endpoint: str
    channel_id: str
    app_args: tuple[str, ...]
    timeout: int
    caller_id: str = ""
    trunk: str = ""  # the trunk whose line this call takes (none for phones on the PBX)


class Connect(_Msg, frozen=True):
    """Create a mixing bridge with this id and put these channels in it."""

    bridge_id: str
    channels: tuple[str, ...]


class DestroyBridge(_Msg, frozen=True):
    bridge_id: str


class JoinBridge(_Msg, frozen=True):
    """Put these channels into an existing bridge (a channel in another bridge moves out of it)."""

    bridge_id: str
    channels: tuple[str, ...]


class JoinAgent(_Msg, frozen=True):
    """Put the caller's channel into a persistent agent's bridge (``line`` is the agent's standing channel)."""

    bridge_id: str
    channel: str
    line: str


class LeaveBridge(_Msg, frozen=True):
    """Take the channel out of the bridge (a persistent agent's: the agent stays, the caller moves on)."""

    bridge_id: str
    channel: str


class Enqueue(_Msg, frozen=True):
    """Put the call in line; ``first`` for its arrival (the queue may refuse it), not for a return to its place."""

    queue: str
    priority: int
    enqueued_at: float
    first: bool = False
    language: str = ""
    skills: tuple[str, ...] = ()


class RequestCallback(_Msg, frozen=True, kw_only=True):
    """Save the caller's callback: ``number`` (E.164, checked against the number plan) for ``queue``, in line at
    ``place`` (the caller's arrival); answered with ``CallbackAnswer``."""

    queue: str
    number: str
    place: float
    priority: int = 0
    name_recording: str = ""


class Dequeue(_Msg, frozen=True):
    queue: str


class ReleaseAgent(_Msg, frozen=True):
    """The reservation ended without a conversation; ``reason`` says why (ring_no_answer puts them not ready)."""

    agent_id: str
    reason: str


class ReserveAgent(_Msg, frozen=True):
    """Reserve this named agent for the call through the ACD (the atomic reservation routing uses); the answer
    comes back at once as ``AgentReserved`` or ``ReservationRefused``."""

    agent_id: str
    queue: str  # whose wrap-up time applies afterwards


class FreeAgent(_Msg, frozen=True):
    """Done with an agent this call reserved: released (``reason``) if still reserved for it, to wrap-up if talking
    on it, untouched if neither (a race freed them already)."""

    agent_id: str
    reason: str


class ReleaseCall(_Msg, frozen=True):
    """The call failed: the ACD takes it out of ``queue`` and frees every agent still tied to it (reserved or
    talking), whether or not the record still names them."""

    queue: str


class ReleaseLine(_Msg, frozen=True):
    """The trunk line a leg took (if it took one) is free again."""

    channel: str


class AgentConnected(_Msg, frozen=True):
    agent_id: str


class AgentFinished(_Msg, frozen=True):
    """The conversation ended: the agent goes to wrap-up."""

    agent_id: str


Command = (
    Answer
    | Play
    | StopPlayback
    | Mute
    | Unmute
    | AgentOnHold
    | Lookup
    | RecordMessage
    | Hangup
    | ContinueInDialplan
    | MohStart
    | MohStop
    | Originate
    | Connect
    | DestroyBridge
    | JoinBridge
    | JoinAgent
    | LeaveBridge
    | Enqueue
    | Dequeue
    | RequestCallback
    | ReleaseAgent
    | ReserveAgent
    | FreeAgent
    | ReleaseCall
    | ReleaseLine
    | AgentConnected
    | AgentFinished
    | SetTimer
    | CancelTimer
    | Emit
    | StartRecording
    | ControlRecording
)
