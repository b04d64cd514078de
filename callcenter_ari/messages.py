"""What the machines that talk with a caller (the call, and the IVR sessions it embeds) ask for and hear back.

One vocabulary for both: prompts and recorded messages on the caller's channel, keys, timers, CRM lookups and
events. The IVR session emits these very commands and the call machine passes them on to the runtime unchanged;
each package adds only what is its own (calls/messages.py, ivr/messages.py) and re-exports these. Pure data.
"""

from __future__ import annotations

from typing import Any

import msgspec


class _Msg(msgspec.Struct, frozen=True):
    pass


# ---- inputs ------------------------------------------------------------------------------------------------


class PlaybackDone(_Msg, frozen=True):
    """A Play ended: played to the end, stopped, or failed (a missing sound must not leave the caller stuck)."""

    playback_id: str
    failed: bool = False


class Digit(_Msg, frozen=True):
    """A DTMF key from the caller."""

    digit: str


class Timeout(_Msg, frozen=True):
    """A timer set with ``SetTimer`` fired."""

    name: str


class LookupResult(_Msg, frozen=True, kw_only=True):
    """The CRM's answer to a ``Lookup``. ``ok`` is False for a transport failure or timeout; ``data`` is the parsed
    JSON body."""

    request_id: str
    ok: bool
    status: int = 0
    data: Any = None
    error: str = ""


class CallerGone(_Msg, frozen=True):
    """The caller's channel hung up or vanished (a 404 on it counts too)."""

    cause: int | None = None


# ---- commands ----------------------------------------------------------------------------------------------


class Play(_Msg, frozen=True):
    """Play media in order on the channel (one ARI play with several media); ``lang`` picks the sound folder. Its
    end comes back as ``PlaybackDone(playback_id)``. ``interruptible``: a key may cut it short (the machine that
    asked stops it itself; it is said here for whoever reads the commands)."""

    channel: str
    media: tuple[str, ...]
    playback_id: str
    lang: str = ""
    interruptible: bool = False


class StopPlayback(_Msg, frozen=True):
    playback_id: str


class RecordMessage(_Msg, frozen=True):
    """Record the caller's message (voicemail-style) under ``name``, after a beep if asked, until ``terminate_on``,
    silence or ``max_seconds``."""

    channel: str
    name: str
    max_seconds: int
    beep: bool
    terminate_on: str = "#"


class SetTimer(_Msg, frozen=True):
    """Answer with ``Timeout(name)`` at ``at``; setting a name again replaces its timer."""

    name: str
    at: float


class CancelTimer(_Msg, frozen=True):
    name: str


class Lookup(_Msg, frozen=True):
    """POST ``payload`` as JSON to the CRM at ``url``; the answer comes back as a ``LookupResult`` carrying
    ``request_id``, without holding up the call's other events."""

    request_id: str
    url: str
    payload: dict[str, Any]
    timeout: float


class Emit(_Msg, frozen=True):
    """Append to the event stream."""

    kind: str
    fields: dict[str, Any] = {}
