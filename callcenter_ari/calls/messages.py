"""What the call machine hears (inputs) and what it asks for (commands). Pure data, no I/O."""

from __future__ import annotations

from typing import Any

import msgspec


class _Msg(msgspec.Struct, frozen=True):
    pass


# ---- inputs ------------------------------------------------------------------------------------------------


class Start(_Msg):
    """The caller's channel entered the application."""


class Resume(_Msg):
    """The process restarted while this call was up; pick it up where its record says it was."""


class PlaybackDone(_Msg):
    playback_id: str
    failed: bool = False


class CallerGone(_Msg):
    """The caller's channel hung up or vanished (a 404 on it counts too)."""

    cause: int | None = None


class Offered(_Msg):
    """The ACD reserved this agent for the call."""

    agent_id: str
    endpoint: str


class AgentUp(_Msg):
    """The agent's leg answered and entered the application."""

    channel_id: str


class AgentFailed(_Msg):
    """The agent's leg did not come up: busy, no answer, unreachable."""

    reason: str


class AgentGone(_Msg):
    """The agent's leg hung up after it was up."""

    cause: int | None = None


class Timeout(_Msg):
    name: str


Input = Start | Resume | PlaybackDone | CallerGone | Offered | AgentUp | AgentFailed | AgentGone | Timeout


# ---- commands ----------------------------------------------------------------------------------------------


class Answer(_Msg):
    channel: str


class Play(_Msg):
    channel: str
    media: str
    playback_id: str


class Hangup(_Msg):
    channel: str
    cause: int = 16


class MohStart(_Msg):
    channel: str
    moh_class: str = ""


class MohStop(_Msg):
    channel: str


class Originate(_Msg):
    endpoint: str
    channel_id: str
    app_args: tuple[str, ...]
    timeout: int
    caller_id: str = ""


class Connect(_Msg):
    """Create a mixing bridge with this id and put these channels in it."""

    bridge_id: str
    channels: tuple[str, ...]


class DestroyBridge(_Msg):
    bridge_id: str


class Enqueue(_Msg):
    queue: str
    priority: int
    enqueued_at: float


class Dequeue(_Msg):
    queue: str


class ReleaseAgent(_Msg):
    """The reservation ended without a conversation; ``reason`` says why (ring_no_answer puts them not ready)."""

    agent_id: str
    reason: str


class AgentConnected(_Msg):
    agent_id: str


class AgentFinished(_Msg):
    """The conversation ended: the agent goes to wrap-up."""

    agent_id: str


class SetTimer(_Msg):
    name: str
    at: float


class CancelTimer(_Msg):
    name: str


class Emit(_Msg):
    """Append to the event stream."""

    kind: str
    fields: dict[str, Any] = {}


Command = (
    Answer
    | Play
    | Hangup
    | MohStart
    | MohStop
    | Originate
    | Connect
    | DestroyBridge
    | Enqueue
    | Dequeue
    | ReleaseAgent
    | AgentConnected
    | AgentFinished
    | SetTimer
    | CancelTimer
    | Emit
)
