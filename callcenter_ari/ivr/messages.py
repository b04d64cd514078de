"""What an IVR session hears (inputs), asks for (commands) and ends with (results). Pure data, no I/O."""

from __future__ import annotations

from typing import Any

import msgspec


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
    call_id: str
    caller: str = ""
    did: str = ""
    language: str = ""  # empty: the flow's language
    variables: dict[str, str] = {}
    surge: SurgeAnnouncement | None = None


# ---- inputs -----------------------------------------------------------------------------------------------------


class PromptFinished(_Msg, frozen=True):
    """A Play ended: played to the end, stopped, or failed (a missing sound must not leave the caller stuck)."""

    prompt_id: str
    failed: bool = False


class Digit(_Msg, frozen=True):
    digit: str


class TimerFired(_Msg, frozen=True):
    name: str


class LookupResult(_Msg, frozen=True, kw_only=True):
    """The CRM's answer. ``ok`` is False for a transport failure or timeout; ``data`` is the parsed JSON body."""

    request_id: str
    ok: bool
    status: int = 0
    data: Any = None
    error: str = ""


class CallerHungUp(_Msg, frozen=True):
    pass


Input = PromptFinished | Digit | TimerFired | LookupResult | CallerHungUp


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


class Play(_Msg, frozen=True):
    """Play media in order (one ARI play with several media); ``lang`` picks the sound folder."""

    prompt_id: str
    media: tuple[str, ...]
    lang: str
    interruptible: bool


class StopPrompt(_Msg, frozen=True):
    prompt_id: str


class StartTimer(_Msg, frozen=True):
    name: str
    at: float


class CancelTimer(_Msg, frozen=True):
    name: str


class Lookup(_Msg, frozen=True):
    """HTTP POST ``payload`` as JSON to ``url``; answer with a LookupResult carrying ``request_id``."""

    request_id: str
    url: str
    payload: dict[str, Any]
    timeout: float


class Record(_Msg, frozen=True, kw_only=True):
    """Record the caller (after a beep if asked) until ``terminate_on``, silence or ``max_seconds``, then hang up."""

    recording_id: str
    max_seconds: int
    beep: bool
    terminate_on: str = "#"


class Emit(_Msg, frozen=True):
    kind: str
    fields: dict[str, Any] = {}


class Finished(_Msg, frozen=True):
    result: Result


Command = Play | StopPrompt | StartTimer | CancelTimer | Lookup | Record | Emit | Finished
