"""ARI events decoded once, at the boundary, into a msgspec tagged union.

``decode_event`` turns one WebSocket text frame into a typed event. An event type this module does not know, or
a known type with a malformed body, becomes ``UnknownEvent`` so that the caller can log it and go on: an
unexpected message never stops the event loop.
"""

from __future__ import annotations

from typing import Any

import msgspec

from callcenter_ari.ari.models import Bridge, Channel, LiveRecording, Playback


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    timestamp: str = ""
    application: str = ""
    asterisk_id: str = ""


class StasisStart(_Event, frozen=True, tag="StasisStart"):
    channel: Channel
    args: tuple[str, ...] = ()
    replace_channel: Channel | None = None


class StasisEnd(_Event, frozen=True, tag="StasisEnd"):
    channel: Channel


class ChannelCreated(_Event, frozen=True, tag="ChannelCreated"):
    channel: Channel


class ChannelStateChange(_Event, frozen=True, tag="ChannelStateChange"):
    channel: Channel


class ChannelDtmfReceived(_Event, frozen=True, tag="ChannelDtmfReceived"):
    channel: Channel
    digit: str
    duration_ms: int = 0


class ChannelHangupRequest(_Event, frozen=True, tag="ChannelHangupRequest"):
    channel: Channel
    cause: int | None = None
    soft: bool | None = None


class ChannelDestroyed(_Event, frozen=True, tag="ChannelDestroyed"):
    channel: Channel
    cause: int = 0
    cause_txt: str = ""


class ChannelVarset(_Event, frozen=True, tag="ChannelVarset"):
    variable: str
    value: str = ""
    channel: Channel | None = None


class ChannelDialplan(_Event, frozen=True, tag="ChannelDialplan"):
    channel: Channel
    dialplan_app: str = ""
    dialplan_app_data: str = ""


class ChannelCallerId(_Event, frozen=True, tag="ChannelCallerId"):
    channel: Channel
    caller_presentation: int = 0
    caller_presentation_txt: str = ""


class ChannelConnectedLine(_Event, frozen=True, tag="ChannelConnectedLine"):
    channel: Channel


class ChannelHold(_Event, frozen=True, tag="ChannelHold"):
    channel: Channel
    musicclass: str = ""


class ChannelUnhold(_Event, frozen=True, tag="ChannelUnhold"):
    channel: Channel


class ChannelTalkingStarted(_Event, frozen=True, tag="ChannelTalkingStarted"):
    channel: Channel


class ChannelTalkingFinished(_Event, frozen=True, tag="ChannelTalkingFinished"):
    channel: Channel
    duration: int = 0


class ChannelEnteredBridge(_Event, frozen=True, tag="ChannelEnteredBridge"):
    bridge: Bridge
    channel: Channel | None = None


class ChannelLeftBridge(_Event, frozen=True, tag="ChannelLeftBridge"):
    bridge: Bridge
    channel: Channel


class BridgeCreated(_Event, frozen=True, tag="BridgeCreated"):
    bridge: Bridge


class BridgeDestroyed(_Event, frozen=True, tag="BridgeDestroyed"):
    bridge: Bridge


class PlaybackStarted(_Event, frozen=True, tag="PlaybackStarted"):
    playback: Playback


class PlaybackContinuing(_Event, frozen=True, tag="PlaybackContinuing"):
    playback: Playback


class PlaybackFinished(_Event, frozen=True, tag="PlaybackFinished"):
    playback: Playback


class RecordingStarted(_Event, frozen=True, tag="RecordingStarted"):
    recording: LiveRecording


class RecordingFinished(_Event, frozen=True, tag="RecordingFinished"):
    recording: LiveRecording


class RecordingFailed(_Event, frozen=True, tag="RecordingFailed"):
    recording: LiveRecording


class Dial(_Event, frozen=True, tag="Dial"):
    peer: Channel
    caller: Channel | None = None
    dialstatus: str = ""
    dialstring: str = ""
    forward: str = ""


class ApplicationReplaced(_Event, frozen=True, tag="ApplicationReplaced"):
    pass


class ApplicationMoveFailed(_Event, frozen=True, tag="ApplicationMoveFailed"):
    channel: Channel
    destination: str = ""
    args: tuple[str, ...] = ()


Event = (
    StasisStart
    | StasisEnd
    | ChannelCreated
    | ChannelStateChange
    | ChannelDtmfReceived
    | ChannelHangupRequest
    | ChannelDestroyed
    | ChannelVarset
    | ChannelDialplan
    | ChannelCallerId
    | ChannelConnectedLine
    | ChannelHold
    | ChannelUnhold
    | ChannelTalkingStarted
    | ChannelTalkingFinished
    | ChannelEnteredBridge
    | ChannelLeftBridge
    | BridgeCreated
    | BridgeDestroyed
    | PlaybackStarted
    | PlaybackContinuing
    | PlaybackFinished
    | RecordingStarted
    | RecordingFinished
    | RecordingFailed
    | Dial
    | ApplicationReplaced
    | ApplicationMoveFailed
)


class UnknownEvent(msgspec.Struct, frozen=True):
    """A message we could not decode into a known event; kept for the log line."""

    type: str
    reason: str


class RestResponse(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="RESTResponse"):
    """The reply to a RESTRequest sent over the event WebSocket."""

    request_id: str
    status_code: int
    transaction_id: str = ""
    reason_phrase: str = ""
    uri: str = ""
    content_type: str = ""
    message_body: str = ""


class _TypeOnly(msgspec.Struct):
    type: str = "?"


_event_decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(Event)
_wire_decoder: msgspec.json.Decoder[Event | RestResponse] = msgspec.json.Decoder(Event | RestResponse)
_type_decoder = msgspec.json.Decoder(_TypeOnly)


# msgspec raises RecursionError (cleanly, at Python's recursion limit) for JSON nested deeper than that; no event
# nests more than a few levels, so such a frame is unknown like any other malformed one.
_TOO_DEEP = "nested too deeply to be an event"


def decode_event(data: bytes | str) -> Event | UnknownEvent:
    """Decode one event frame; never raises."""
    try:
        return _event_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return _unknown(data, str(exc))
    except RecursionError:
        return _unknown(data, _TOO_DEEP)


def decode_wire(data: bytes | str) -> Event | RestResponse | UnknownEvent:
    """Decode one frame of a WebSocket that also carries RESTResponse messages; never raises."""
    try:
        return _wire_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return _unknown(data, str(exc))
    except RecursionError:
        return _unknown(data, _TOO_DEEP)


def event_from_builtins(message: dict[str, Any]) -> Event | UnknownEvent:
    """Convert an already parsed JSON object (what asyncari hands over) into a typed event; never raises."""
    try:
        event: Event = msgspec.convert(message, Event)
        return event
    except msgspec.ValidationError as exc:
        reason = str(exc)
    except RecursionError:
        reason = _TOO_DEEP
    kind = message.get("type", "?") if isinstance(message, dict) else "?"
    return UnknownEvent(type=str(kind)[:100], reason=reason)


def _unknown(data: bytes | str, reason: str) -> UnknownEvent:
    try:
        kind = _type_decoder.decode(data).type
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        kind = "?"
    return UnknownEvent(type=kind[:100], reason=reason)


def channel_of(event: Event) -> Channel | None:
    """The channel an event is about, if any (for routing it to the call that owns that channel)."""
    return getattr(event, "channel", None)
