"""ARI's resource objects (channels, bridges, playbacks, recordings) as frozen msgspec Structs.

Fields follow Asterisk 22's JSON exactly; unknown fields are ignored so that a newer Asterisk does not break
decoding, and every field has a default so that a partial snapshot still decodes.
"""

from __future__ import annotations

import msgspec


class _Model(msgspec.Struct, frozen=True, kw_only=True):
    pass


class CallerId(_Model, frozen=True):
    name: str = ""
    number: str = ""


class DialplanLocation(_Model, frozen=True):
    context: str = ""
    exten: str = ""
    priority: int = 0
    app_name: str = ""
    app_data: str = ""


class Channel(_Model, frozen=True):
    id: str
    name: str = ""
    state: str = ""
    protocol_id: str = ""
    caller: CallerId = CallerId()
    connected: CallerId = CallerId()
    accountcode: str = ""
    dialplan: DialplanLocation = DialplanLocation()
    creationtime: str = ""
    language: str = "en"


class Bridge(_Model, frozen=True):
    id: str
    technology: str = ""
    bridge_type: str = ""
    bridge_class: str = ""
    creator: str = ""
    name: str = ""
    channels: tuple[str, ...] = ()
    creationtime: str = ""
    video_mode: str = ""


class Playback(_Model, frozen=True):
    id: str
    media_uri: str = ""
    target_uri: str = ""
    language: str = ""
    state: str = ""


class LiveRecording(_Model, frozen=True):
    name: str
    format: str = ""
    target_uri: str = ""
    state: str = ""
    duration: int | None = None
    talking_duration: int | None = None
    silence_duration: int | None = None
    cause: str = ""


class StoredRecording(_Model, frozen=True):
    name: str
    format: str = ""


class Variable(_Model, frozen=True):
    value: str = ""


class Application(_Model, frozen=True):
    name: str
    channel_ids: tuple[str, ...] = ()
    bridge_ids: tuple[str, ...] = ()
    endpoint_ids: tuple[str, ...] = ()
    device_names: tuple[str, ...] = ()


class AsteriskSystem(_Model, frozen=True):
    version: str = ""
    entity_id: str = ""


class AsteriskInfo(_Model, frozen=True):
    system: AsteriskSystem = AsteriskSystem()
