"""What an IVR session hears (inputs), asks for (commands) and ends with (results). Pure data, no I/O.

Inputs and commands are the vocabulary it shares with the call (callcenter_ari/messages.py); its own are what it
starts with (the context), its results, and ``Finished``, which carries the result to the call.
"""

from __future__ import annotations

import msgspec

from callcenter_ari.messages import (
    CallerGone,
    CancelTimer,
    Digit,
    Emit,
    Lookup,
    LookupResult,
    Play,
    PlaybackDone,
    RecordMessage,
    SetTimer,
    StopPlayback,
    Timeout,
)


class _Msg(msgspec.Struct, frozen=True):
    pass


# ---- what the runtime passes at the start -----------------------------------------------------------------------


class SurgeAnnouncement(_Msg, frozen=True, kw_only=True):
    """The tenant's surge message as it stands when the call arrives (switching it off affects the next caller)."""

    active: bool = False
    prompt: tuple[str, ...] = ()
    area_variable: str = "area"
    areas: tuple[str, ...] = ()  # empty: every caller; else only callers whose area variable is one of these
    offer_self_service: bool = False
    offer_callback: bool = False


class IvrContext(_Msg, frozen=True, kw_only=True):
    call_id: str  # also the prefix of the session's prompt, timer and recording ids, so their events route back
    channel: str = ""  # the caller's: where prompts play and messages are recorded
    caller: str = ""
    did: str = ""
    language: str = ""  # empty: the flow's language
    variables: dict[str, str] = {}
    surge: SurgeAnnouncement | None = None


# ---- inputs -----------------------------------------------------------------------------------------------------

Input = PlaybackDone | Digit | Timeout | LookupResult | CallerGone


# ---- results ----------------------------------------------------------------------------------------------------


class Queue(_Msg, frozen=True, kw_only=True):
    queue: str
    skills: tuple[str, ...]
    priority: int
    language: str
    variables: dict[str, str]


class OfferCallback(_Msg, frozen=True, kw_only=True):
    queue: str
    language: str
    variables: dict[str, str]


class Transfer(_Msg, frozen=True, kw_only=True):
    target_name: str  # a key of [ivr.destinations], never digits from the caller
    variables: dict[str, str]


class Voicemail(_Msg, frozen=True, kw_only=True):
    mailbox: str
    recording_id: str
    variables: dict[str, str]


class Hangup(_Msg, frozen=True, kw_only=True):
    """Hang the caller up; the goodbye prompt has already been played by the session."""

    reason: str
    variables: dict[str, str]


class SurveyResult(_Msg, frozen=True, kw_only=True):
    survey: str
    answers: dict[str, str]
    complete: bool


class Abandoned(_Msg, frozen=True, kw_only=True):
    """The caller hung up in the IVR (or a flow looped without waiting for anything)."""

    node: str
    reason: str
    variables: dict[str, str]


class FlowError(_Msg, frozen=True, kw_only=True):
    """The flow could not go on (a node or schedule it names is missing, or it loops without waiting).

    validate() rejects every such flow; this is the fail-safe for one that was not validated. The runtime should
    treat the caller as it treats a call with no IVR (the DID's default queue), never drop the call.
    """

    node: str
    detail: str
    variables: dict[str, str]


Result = Queue | OfferCallback | Transfer | Voicemail | Hangup | SurveyResult | Abandoned | FlowError


# ---- commands ---------------------------------------------------------------------------------------------------


class Finished(_Msg, frozen=True):
    """The session is over with ``result``: for the call to act on, never for the runtime to carry out."""

    result: Result


Command = Play | StopPlayback | SetTimer | CancelTimer | Lookup | RecordMessage | Emit | Finished
