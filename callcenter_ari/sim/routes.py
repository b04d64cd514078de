"""ARI's REST operations: one table drives dispatch (HTTP and REST-over-WebSocket) and the Swagger description.

Each handler decodes its parameters, calls the core and returns `(status, body)`; a handler may return an awaitable
when the channel's command queue makes the operation wait (answer or set variable behind a playback).
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from callcenter_ari.sim.core import Asterisk
from callcenter_ari.sim.faults import Faults
from callcenter_ari.sim.local import originate_local
from callcenter_ari.sim.model import Channel
from callcenter_ari.sim.phones import PhoneBook, originate_phone
from callcenter_ari.sim.wire import ASTERISK_ID, ASTERISK_VERSION, HANGUP_REASONS, AriError, Json, format_timestamp

Result = tuple[int, Any]


@dataclass(frozen=True)
class Param:
    name: str
    kind: str = "query"  # query | path | body
    type: str = "string"
    required: bool = False
    multiple: bool = False


@dataclass(frozen=True)
class Operation:
    resource: str
    method: str
    path: str
    nickname: str
    response: str
    params: tuple[Param, ...]
    handler: Callable[..., Any]
    upgrade: str | None = None
    regex: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        object.__setattr__(self, "regex", re.compile(pattern + "$"))


OPERATIONS: list[Operation] = []


def op(
    resource: str, method: str, path: str, nickname: str, response: str, *params: Param, upgrade: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    path_params = tuple(Param(n, "path", required=True) for n in re.findall(r"\{(\w+)\}", path))

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        OPERATIONS.append(Operation(resource, method, path, nickname, response, path_params + params, fn, upgrade))
        return fn

    return register


def q(name: str, type_: str = "string", *, required: bool = False, multiple: bool = False) -> Param:
    return Param(name, "query", type_, required, multiple)


VARIABLES = Param("variables", "body", "containers")


@dataclass
class Req:
    path: dict[str, str]
    params: dict[str, str]
    body: Any = None

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    def int(self, name: str, default: int) -> int:
        try:
            return int(self.params[name])
        except (KeyError, ValueError):
            return default

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        return default if value is None else value.lower() in ("true", "1", "yes")

    def list(self, name: str) -> list[str]:
        value = self.params.get(name)
        return [v for v in value.split(",") if v] if value else []


class AriApi:
    """The state a handler needs: the core, the phone book, and the registered apps' WebSocket state."""

    def __init__(self, core: Asterisk, phones: PhoneBook) -> None:
        self.core = core
        self.phones = phones
        # Every originate that passed validation, in order (endpoint, channel id, appArgs): what tests assert on
        # when they need to know whether a phone was called, not only whether a channel is up now.
        self.originates: list[Json] = []
        self.faults = Faults()

    async def dispatch(self, method: str, path: str, params: dict[str, str], body: Any) -> Result:
        path = "/" + path.strip("/")
        allowed = False
        for operation in OPERATIONS:
            match = operation.regex.fullmatch(path)
            if match is None:
                # A path above an existing resource (/playbacks) exists for Asterisk, without methods.
                allowed = allowed or operation.path.startswith(path + "/")
                continue
            allowed = True
            if operation.method != method or operation.upgrade:
                continue
            if isinstance(body, dict):
                for key, value in body.items():
                    if key != "variables" and key not in params and not isinstance(value, (dict, list)):
                        params[key] = "true" if value is True else "false" if value is False else str(value)
            fault = self.faults.draw(operation.nickname) if self.faults.rules else None
            if fault is not None and fault.kind == "fail":
                return 500, {"message": "Internal Server Error"}
            if fault is not None:
                await asyncio.sleep(fault.delay)
            try:
                result = operation.handler(self, Req(match.groupdict(), params, body))
                if inspect.isawaitable(result):
                    result = await result
            except AriError as exc:
                return exc.status, exc.body
            reply: tuple[int, Any] = result
            return reply
        if allowed:
            return 405, {"message": "Invalid method"}
        return 404, {"message": "Resource not found"}


NO_CONTENT: Result = (204, None)


async def _wait(pending: Any) -> Result:
    if pending is not None:
        await pending
    return NO_CONTENT


def _parse_caller_id(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    match = re.match(r'\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$', value)
    if match:
        return match.group(1).strip(), match.group(2).strip()
    return "", value.strip()


# ---------------------------------------------------------------------- channels
@op("channels", "GET", "/channels", "list", "List[Channel]")
def channels_list(api: AriApi, r: Req) -> Result:
    return 200, [c.snapshot() for c in api.core.channels.values()]


ORIGINATE_PARAMS = (
    q("extension"),
    q("context"),
    q("priority", "long"),
    q("label"),
    q("app"),
    q("appArgs"),
    q("callerId"),
    q("timeout", "int"),
    VARIABLES,
    q("otherChannelId"),
    q("originator"),
    q("formats"),
)


@op(
    "channels",
    "POST",
    "/channels",
    "originate",
    "Channel",
    q("endpoint", required=True),
    *ORIGINATE_PARAMS,
    q("channelId"),
)
def channels_originate(api: AriApi, r: Req) -> Result:
    return 200, _originate(api, r, r.get("channelId"))


@op(
    "channels",
    "POST",
    "/channels/{channelId}",
    "originateWithId",
    "Channel",
    q("endpoint", required=True),
    *ORIGINATE_PARAMS,
)
def channels_originate_with_id(api: AriApi, r: Req) -> Result:
    return 200, _originate(api, r, r.path["channelId"])


def _originate(api: AriApi, r: Req, channel_id: str | None) -> Any:
    core = api.core
    endpoint = r.get("endpoint")
    if not endpoint:
        raise AriError(400, "Endpoint must be specified")
    app = r.get("app")
    if not app and not r.get("extension"):
        raise AriError(400, "Application or extension must be specified")
    originator = r.get("originator")
    if originator and r.get("formats"):
        raise AriError(400, "Originator and formats can't both be specified")
    tech, sep, resource = endpoint.partition("/")
    if not sep or not resource:
        raise AriError(400, "Invalid endpoint specified")
    if originator and originator not in core.channels:
        raise AriError(400, "Provided originator channel was not found")
    other_id = r.get("otherChannelId")
    if (channel_id and channel_id in core.channels) or (other_id and other_id in core.channels):
        raise AriError(409, "Channel with given unique ID already exists")
    timeout = r.int("timeout", 30)
    timeout = 30 if timeout <= 0 else timeout
    caller = _parse_caller_id(r.get("callerId"))
    app_args = (r.get("appArgs") or "").split(",") if r.get("appArgs") else []
    api.originates.append(
        {"endpoint": endpoint, "channel_id": channel_id or "", "app_args": app_args, "originator": originator or ""}
    )
    if tech.lower() == "local":
        return originate_local(
            core,
            resource,
            app=app,
            app_args=app_args,
            context=r.get("context"),
            extension=r.get("extension"),
            caller=caller,
            timeout=timeout,
            channel_id=channel_id,
            other_id=other_id,
        )
    if tech.upper() in ("PJSIP", "DAHDI"):
        body = r.body if isinstance(r.body, dict) else {}
        given = body.get("variables")
        variables: dict[Any, Any] = given if isinstance(given, dict) else {}
        return originate_phone(
            core,
            tech,
            resource,
            api.phones.lookup(tech, resource),
            app=app,
            app_args=app_args,
            caller=caller,
            timeout=timeout,
            channel_id=channel_id,
            variables={str(k): str(v) for k, v in variables.items()},
        )
    raise AriError(500, "Allocation failed", key="error")


@op("channels", "GET", "/channels/{channelId}", "get", "Channel")
def channels_get(api: AriApi, r: Req) -> Result:
    return 200, api.core.get_channel(r.path["channelId"]).snapshot()


@op("channels", "DELETE", "/channels/{channelId}", "hangup", "void", q("reason_code"), q("reason"))
def channels_hangup(api: AriApi, r: Req) -> Result:
    ch = api.core.get_channel(r.path["channelId"])
    cause = 16
    if r.get("reason_code"):
        cause = r.int("reason_code", 16)
    elif r.get("reason"):
        if r.get("reason") not in HANGUP_REASONS:
            raise AriError(400, "Invalid reason for hangup provided")
        cause = HANGUP_REASONS[r.get("reason") or "normal"]
    api.core.hangup(ch, cause, by_app=True)
    return NO_CONTENT


@op(
    "channels",
    "POST",
    "/channels/{channelId}/continue",
    "continueInDialplan",
    "void",
    q("context"),
    q("extension"),
    q("priority", "int"),
    q("label"),
)
def channels_continue(api: AriApi, r: Req) -> Result:
    core = api.core
    ch = core.control(r.path["channelId"])
    context = r.get("context") or ch.context
    exten = r.get("extension") or ch.exten
    if r.get("context") or r.get("extension") or r.get("priority"):
        priority = r.int("priority", 1)
    else:
        priority = ch.priority + 1  # nothing given: the priority after Stasis(), as Asterisk's resource_channels.c
    core.leave_stasis(ch)
    ch.driver.continue_in_dialplan(core, ch, context, exten, priority)
    return NO_CONTENT


@op("channels", "POST", "/channels/{channelId}/move", "move", "void", q("app", required=True), q("appArgs"))
def channels_move(api: AriApi, r: Req) -> Result:
    core = api.core
    ch = core.control(r.path["channelId"])
    app = r.get("app") or ""
    args = r.list("appArgs")
    if not core.sink.is_connected(app):
        core.channel_event(ch, "ApplicationMoveFailed", destination=app, args=args)
        return NO_CONTENT
    core.leave_stasis(ch)
    core.enter_stasis(ch, app, args)
    return NO_CONTENT


@op("channels", "POST", "/channels/{channelId}/redirect", "redirect", "void", q("endpoint", required=True))
def channels_redirect(api: AriApi, r: Req) -> Result:
    ch = api.core.control(r.path["channelId"])
    endpoint = r.get("endpoint")
    if not endpoint:
        raise AriError(400, "Required parameter 'endpoint' not provided")
    tech = endpoint.partition("/")[0]
    if tech.lower() != ch.tech.lower():
        raise AriError(422, f"Endpoint technology '{tech}' does not match channel technology '{ch.tech}'")
    return NO_CONTENT  # a Local channel ignores it; a SIP 302 is not modelled


@op("channels", "POST", "/channels/{channelId}/answer", "answer", "void")
def channels_answer(api: AriApi, r: Req) -> Any:
    core = api.core
    ch = core.control(r.path["channelId"])

    def answer() -> None:
        if ch.alive and ch.state != "Up":
            core.set_state(ch, "Up")
            ch.driver.answered(ch)

    return _wait(core.run_command(ch, answer))


def _flag(attr: str, value: Any) -> Callable[[AriApi, Req], Result]:
    def handler(api: AriApi, r: Req) -> Result:
        ch = api.core.control(r.path["channelId"])
        if attr == "moh":
            ch.moh = r.get("mohClass") or "default" if value else None
        return NO_CONTENT

    return handler


for _path, _verb, _nick, _attr, _value, _params in (
    ("ring", "POST", "ring", "ring", True, ()),
    ("ring", "DELETE", "ringStop", "ring", False, ()),
    ("progress", "POST", "progress", "progress", True, ()),
    ("hold", "POST", "hold", "hold", True, ()),
    ("hold", "DELETE", "unhold", "hold", False, ()),
    ("moh", "POST", "startMoh", "moh", True, (q("mohClass"),)),
    ("moh", "DELETE", "stopMoh", "moh", False, ()),
    ("silence", "POST", "startSilence", "silence", True, ()),
    ("silence", "DELETE", "stopSilence", "silence", False, ()),
):
    op("channels", _verb, f"/channels/{{channelId}}/{_path}", _nick, "void", *_params)(_flag(_attr, _value))


def _mute(api: AriApi, r: Req) -> Result:
    api.core.control(r.path["channelId"])
    if r.get("direction", "both") not in ("both", "in", "out"):
        raise AriError(400, "Invalid direction specified")
    return NO_CONTENT


op("channels", "POST", "/channels/{channelId}/mute", "mute", "void", q("direction"))(_mute)
op("channels", "DELETE", "/channels/{channelId}/mute", "unmute", "void", q("direction"))(_mute)


@op(
    "channels",
    "POST",
    "/channels/{channelId}/dtmf",
    "sendDTMF",
    "void",
    q("dtmf"),
    q("before", "int"),
    q("between", "int"),
    q("duration", "int"),
    q("after", "int"),
)
def channels_dtmf(api: AriApi, r: Req) -> Result:
    ch = api.core.control(r.path["channelId"])
    digits = r.get("dtmf")
    if not digits:
        raise AriError(400, "DTMF is required")
    api.core.send_dtmf(ch, digits, r.int("before", 0), r.int("between", 100), r.int("duration", 100), r.int("after", 0))
    return NO_CONTENT


PLAY_PARAMS = (q("media", required=True, multiple=True), q("lang"), q("offsetms", "int"), q("skipms", "int"))


@op("channels", "POST", "/channels/{channelId}/play", "play", "Playback", *PLAY_PARAMS, q("playbackId"))
def channels_play(api: AriApi, r: Req) -> Result:
    ch = api.core.control(r.path["channelId"])
    return 201, api.core.play(ch, r.list("media"), r.get("playbackId"), r.get("lang"))


@op("channels", "POST", "/channels/{channelId}/play/{playbackId}", "playWithId", "Playback", *PLAY_PARAMS)
def channels_play_with_id(api: AriApi, r: Req) -> Result:
    ch = api.core.control(r.path["channelId"])
    return 201, api.core.play(ch, r.list("media"), r.path["playbackId"], r.get("lang"))


RECORD_PARAMS = (
    q("name", required=True),
    q("format", required=True),
    q("maxDurationSeconds", "int"),
    q("maxSilenceSeconds", "int"),
    q("ifExists"),
    q("beep", "boolean"),
    q("terminateOn"),
)


def _record(api: AriApi, r: Req, target: Any) -> Result:
    return 201, api.core.record(
        target,
        r.get("name"),
        r.get("format"),
        r.get("ifExists"),
        r.int("maxDurationSeconds", 0),
        r.get("terminateOn") or "none",
    )


@op("channels", "POST", "/channels/{channelId}/record", "record", "LiveRecording", *RECORD_PARAMS)
def channels_record(api: AriApi, r: Req) -> Result:
    return _record(api, r, api.core.control(r.path["channelId"]))


@op("channels", "GET", "/channels/{channelId}/variable", "getChannelVar", "Variable", q("variable", required=True))
def channels_get_var(api: AriApi, r: Req) -> Result:
    name = r.get("variable")
    if not name:
        raise AriError(400, "Variable name is required")
    ch = api.core.get_channel(r.path["channelId"], "Provided channel was not found")
    value = _read_var(ch, name)
    if value is None:
        raise AriError(404, "Provided variable was not found")
    return 200, {"value": value}


def _read_var(ch: Channel, name: str) -> str | None:
    functions = {
        "CALLERID(num)": ch.caller_number,
        "CALLERID(name)": ch.caller_name,
        "CALLERID(all)": f'"{ch.caller_name}" <{ch.caller_number}>',
        "CONNECTEDLINE(num)": ch.conn_number,
        "CONNECTEDLINE(name)": ch.conn_name,
        "CHANNEL(name)": ch.name,
        "CHANNEL(state)": ch.state,
        "UNIQUEID": ch.id,
        "CHANNEL(uniqueid)": ch.id,
    }
    if name in functions:
        return functions[name]
    return ch.vars.get(name)


@op(
    "channels",
    "POST",
    "/channels/{channelId}/variable",
    "setChannelVar",
    "void",
    q("variable", required=True),
    q("value"),
)
def channels_set_var(api: AriApi, r: Req) -> Any:
    core = api.core
    ch = core.control(r.path["channelId"])
    name = r.get("variable")
    if not name:
        raise AriError(400, "Variable name is required")
    value = r.get("value") or ""

    def set_var() -> None:
        if name == "CALLERID(name)":
            core.set_caller(ch, name=value)
        elif name == "CALLERID(num)":
            core.set_caller(ch, number=value)
        else:
            core.set_var(ch, name, value)

    return _wait(core.run_command(ch, set_var))


SNOOP_PARAMS = (q("spy"), q("whisper"), q("app", required=True), q("appArgs"))


def _snoop(api: AriApi, r: Req, snoop_id: str | None) -> Result:
    spy = r.get("spy") or "none"
    whisper = r.get("whisper") or "none"
    if spy not in ("none", "both", "in", "out"):
        raise AriError(400, "Invalid direction specified for spy")
    if whisper not in ("none", "both", "in", "out"):
        raise AriError(400, "Invalid direction specified for whisper")
    if spy == "none" and whisper == "none":
        raise AriError(400, "Direction must be specified for at least spy or whisper")
    app = r.get("app")
    if not app:
        raise AriError(400, "Application name is required")
    ch = api.core.get_channel(r.path["channelId"], "Provided channel was not found")
    return 200, api.core.snoop(ch, spy, whisper, app, r.list("appArgs"), snoop_id)


@op("channels", "POST", "/channels/{channelId}/snoop", "snoopChannel", "Channel", *SNOOP_PARAMS, q("snoopId"))
def channels_snoop(api: AriApi, r: Req) -> Result:
    return _snoop(api, r, r.get("snoopId"))


@op("channels", "POST", "/channels/{channelId}/snoop/{snoopId}", "snoopChannelWithId", "Channel", *SNOOP_PARAMS)
def channels_snoop_with_id(api: AriApi, r: Req) -> Result:
    return _snoop(api, r, r.path["snoopId"])


# ---------------------------------------------------------------------- bridges
@op("bridges", "GET", "/bridges", "list", "List[Bridge]")
def bridges_list(api: AriApi, r: Req) -> Result:
    return 200, [b.snapshot() for b in api.core.bridges.values()]


@op("bridges", "POST", "/bridges", "create", "Bridge", q("type"), q("bridgeId"), q("name"))
def bridges_create(api: AriApi, r: Req) -> Result:
    return 200, api.core.create_bridge(r.get("type"), r.get("bridgeId"), r.get("name")).snapshot()


@op("bridges", "POST", "/bridges/{bridgeId}", "createWithId", "Bridge", q("type"), q("name"))
def bridges_create_with_id(api: AriApi, r: Req) -> Result:
    bridge = api.core.bridges.get(r.path["bridgeId"])
    if bridge is not None:
        return 200, bridge.snapshot()
    return 200, api.core.create_bridge(r.get("type"), r.path["bridgeId"], r.get("name")).snapshot()


@op("bridges", "GET", "/bridges/{bridgeId}", "get", "Bridge")
def bridges_get(api: AriApi, r: Req) -> Result:
    return 200, api.core.get_bridge(r.path["bridgeId"]).snapshot()


@op("bridges", "DELETE", "/bridges/{bridgeId}", "destroy", "void")
def bridges_destroy(api: AriApi, r: Req) -> Result:
    api.core.destroy_bridge(api.core.get_bridge(r.path["bridgeId"]))
    return NO_CONTENT


def _bridge_channels(api: AriApi, r: Req, *, need_stasis: bool) -> list[Channel]:
    ids = r.list("channel")
    if not ids:
        raise AriError(400, "Channel not found")
    channels = []
    for channel_id in ids:
        ch = api.core.channels.get(channel_id)
        if ch is None:
            raise AriError(400, "Channel not found")
        channels.append(ch)
    if need_stasis and any(c.stasis_app is None for c in channels):
        raise AriError(422, "Channel not in Stasis application")
    return channels


@op(
    "bridges",
    "POST",
    "/bridges/{bridgeId}/addChannel",
    "addChannel",
    "void",
    q("channel", required=True, multiple=True),
    q("role"),
    q("absorbDTMF", "boolean"),
    q("mute", "boolean"),
    q("inhibitConnectedLineUpdates", "boolean"),
)
def bridges_add(api: AriApi, r: Req) -> Result:
    bridge = api.core.get_bridge(r.path["bridgeId"])
    api.core.add_to_bridge(bridge, _bridge_channels(api, r, need_stasis=True))
    return NO_CONTENT


@op(
    "bridges",
    "POST",
    "/bridges/{bridgeId}/removeChannel",
    "removeChannel",
    "void",
    q("channel", required=True, multiple=True),
)
def bridges_remove(api: AriApi, r: Req) -> Result:
    bridge = api.core.get_bridge(r.path["bridgeId"])
    api.core.remove_from_bridge(bridge, _bridge_channels(api, r, need_stasis=False))
    return NO_CONTENT


@op("bridges", "POST", "/bridges/{bridgeId}/moh", "startMoh", "void", q("mohClass"))
def bridges_moh_start(api: AriApi, r: Req) -> Result:
    api.core.get_bridge(r.path["bridgeId"]).moh = r.get("mohClass") or "default"
    return NO_CONTENT


@op("bridges", "DELETE", "/bridges/{bridgeId}/moh", "stopMoh", "void")
def bridges_moh_stop(api: AriApi, r: Req) -> Result:
    bridge = api.core.get_bridge(r.path["bridgeId"])
    if bridge.moh is None:
        raise AriError(409, "Bridge isn't playing music")
    bridge.moh = None
    return NO_CONTENT


@op(
    "bridges",
    "POST",
    "/bridges/{bridgeId}/play",
    "play",
    "Playback",
    *PLAY_PARAMS,
    q("playbackId"),
    q("announcer_format"),
)
def bridges_play(api: AriApi, r: Req) -> Result:
    bridge = api.core.get_bridge(r.path["bridgeId"])
    return 201, api.core.play(bridge, r.list("media"), r.get("playbackId"), r.get("lang"))


@op(
    "bridges",
    "POST",
    "/bridges/{bridgeId}/play/{playbackId}",
    "playWithId",
    "Playback",
    *PLAY_PARAMS,
    q("announcer_format"),
)
def bridges_play_with_id(api: AriApi, r: Req) -> Result:
    bridge = api.core.get_bridge(r.path["bridgeId"])
    return 201, api.core.play(bridge, r.list("media"), r.path["playbackId"], r.get("lang"))


@op("bridges", "POST", "/bridges/{bridgeId}/record", "record", "LiveRecording", *RECORD_PARAMS)
def bridges_record(api: AriApi, r: Req) -> Result:
    return _record(api, r, api.core.get_bridge(r.path["bridgeId"]))


# ---------------------------------------------------------------------- playbacks
@op("playbacks", "GET", "/playbacks/{playbackId}", "get", "Playback")
def playbacks_get(api: AriApi, r: Req) -> Result:
    return 200, api.core.get_playback(r.path["playbackId"]).to_json()


@op("playbacks", "DELETE", "/playbacks/{playbackId}", "stop", "void")
def playbacks_stop(api: AriApi, r: Req) -> Result:
    api.core.stop_playback(api.core.get_playback(r.path["playbackId"]))
    return NO_CONTENT


@op("playbacks", "POST", "/playbacks/{playbackId}/control", "control", "void", q("operation", required=True))
def playbacks_control(api: AriApi, r: Req) -> Result:
    api.core.control_playback(api.core.get_playback(r.path["playbackId"]), r.get("operation"))
    return NO_CONTENT


# ---------------------------------------------------------------------- recordings
@op("recordings", "GET", "/recordings/stored", "listStored", "List[StoredRecording]")
def recordings_list(api: AriApi, r: Req) -> Result:
    return 200, [rec.to_json() for rec in api.core.stored_recordings.values()]


@op("recordings", "GET", "/recordings/stored/{recordingName}", "getStored", "StoredRecording")
def recordings_get_stored(api: AriApi, r: Req) -> Result:
    return 200, api.core.get_stored(r.path["recordingName"]).to_json()


@op("recordings", "DELETE", "/recordings/stored/{recordingName}", "deleteStored", "void")
def recordings_delete_stored(api: AriApi, r: Req) -> Result:
    api.core.get_stored(r.path["recordingName"])
    del api.core.stored_recordings[r.path["recordingName"]]
    return NO_CONTENT


@op("recordings", "GET", "/recordings/stored/{recordingName}/file", "getStoredFile", "binary")
def recordings_file(api: AriApi, r: Req) -> Result:
    return 200, api.core.get_stored(r.path["recordingName"])  # the server renders it as a WAV file


@op(
    "recordings",
    "POST",
    "/recordings/stored/{recordingName}/copy",
    "copyStored",
    "StoredRecording",
    q("destinationRecordingName", required=True),
)
def recordings_copy(api: AriApi, r: Req) -> Result:
    source = api.core.get_stored(r.path["recordingName"])
    dest = r.get("destinationRecordingName")
    if not dest:
        raise AriError(400, "Destination recording name is required")
    if dest in api.core.stored_recordings:
        raise AriError(409, "A recording with the same name already exists on the system")
    copy = type(source)(dest, source.format, source.duration)
    api.core.stored_recordings[dest] = copy
    return 200, copy.to_json()


@op("recordings", "GET", "/recordings/live/{recordingName}", "getLive", "LiveRecording")
def recordings_get_live(api: AriApi, r: Req) -> Result:
    return 200, api.core.get_live(r.path["recordingName"]).to_json()


@op("recordings", "DELETE", "/recordings/live/{recordingName}", "cancel", "void")
def recordings_cancel(api: AriApi, r: Req) -> Result:
    api.core.finish_recording(api.core.get_live(r.path["recordingName"]), keep=False)
    return NO_CONTENT


@op("recordings", "POST", "/recordings/live/{recordingName}/stop", "stop", "void")
def recordings_stop(api: AriApi, r: Req) -> Result:
    api.core.finish_recording(api.core.get_live(r.path["recordingName"]))
    return NO_CONTENT


def _live_toggle(action: str, on: bool) -> Callable[[AriApi, Req], Result]:
    def handler(api: AriApi, r: Req) -> Result:
        rec = api.core.get_live(r.path["recordingName"])
        if action == "pause":
            api.core.pause_recording(rec, on)
        return NO_CONTENT

    return handler


for _verb, _nick, _action, _on in (
    ("POST", "pause", "pause", True),
    ("DELETE", "unpause", "pause", False),
    ("POST", "mute", "mute", True),
    ("DELETE", "unmute", "mute", False),
):
    op("recordings", _verb, f"/recordings/live/{{recordingName}}/{_action}", _nick, "void")(_live_toggle(_action, _on))


# ---------------------------------------------------------------------- asterisk, applications, the rest
@op("asterisk", "GET", "/asterisk/info", "getInfo", "AsteriskInfo", q("only", multiple=True))
def asterisk_info(api: AriApi, r: Req) -> Result:
    started = format_timestamp(api.core.startup)
    info = {
        "build": {
            "os": "Linux",
            "kernel": "6.1.0-sim",
            "machine": "x86_64",
            "options": "OPTIONAL_API",
            "date": "2026-11-22 05:21:42 UTC",
            "user": "root",
        },
        "system": {"version": ASTERISK_VERSION, "entity_id": ASTERISK_ID},
        "config": {"name": "", "default_language": "en", "setid": {"user": "", "group": ""}},
        "status": {"startup_time": started, "last_reload_time": started},
    }
    only = r.list("only")
    return 200, {k: v for k, v in info.items() if not only or k in only}


@op("asterisk", "GET", "/asterisk/ping", "ping", "AsteriskPing")
def asterisk_ping(api: AriApi, r: Req) -> Result:
    return 200, {"ping": "pong", "timestamp": format_timestamp(api.core.now()), "asterisk_id": ASTERISK_ID}


@op("asterisk", "GET", "/asterisk/variable", "getGlobalVar", "Variable", q("variable", required=True))
def asterisk_get_var(api: AriApi, r: Req) -> Result:
    name = r.get("variable")
    if not name:
        raise AriError(400, "Variable name is required")
    return 200, {"value": api.core.global_vars.get(name, "")}


@op("asterisk", "POST", "/asterisk/variable", "setGlobalVar", "void", q("variable", required=True), q("value"))
def asterisk_set_var(api: AriApi, r: Req) -> Result:
    name = r.get("variable")
    if not name:
        raise AriError(400, "Variable name is required")
    api.core.global_vars[name] = r.get("value") or ""
    return NO_CONTENT


@op("applications", "GET", "/applications", "list", "List[Application]")
def applications_list(api: AriApi, r: Req) -> Result:
    return 200, [api.core.application_json(app) for app in sorted(api.core.apps)]


def _app(api: AriApi, r: Req) -> str:
    name = r.path["applicationName"]
    if name not in api.core.apps:
        raise AriError(404, "Application not found")
    return name


@op("applications", "GET", "/applications/{applicationName}", "get", "Application")
def applications_get(api: AriApi, r: Req) -> Result:
    return 200, api.core.application_json(_app(api, r))


def _subscription(subscribe: bool) -> Callable[[AriApi, Req], Result]:
    def handler(api: AriApi, r: Req) -> Result:
        app = _app(api, r)
        sources = r.list("eventSource")
        if not sources:
            raise AriError(400, "Missing parameter eventSource")
        api.core.subscribe(app, sources, subscribe)
        return 200, api.core.application_json(app)

    return handler


op(
    "applications",
    "POST",
    "/applications/{applicationName}/subscription",
    "subscribe",
    "Application",
    q("eventSource", required=True, multiple=True),
)(_subscription(True))
op(
    "applications",
    "DELETE",
    "/applications/{applicationName}/subscription",
    "unsubscribe",
    "Application",
    q("eventSource", required=True, multiple=True),
)(_subscription(False))


@op(
    "applications",
    "PUT",
    "/applications/{applicationName}/eventFilter",
    "filter",
    "Application",
    Param("filter", "body", "object"),
)
def applications_filter(api: AriApi, r: Req) -> Result:
    app = _app(api, r)
    api.core.set_event_filter(app, r.body)
    return 200, api.core.application_json(app)


@op("endpoints", "GET", "/endpoints", "list", "List[Endpoint]")
def endpoints_list(api: AriApi, r: Req) -> Result:
    return 200, []


@op("endpoints", "GET", "/endpoints/{tech}", "listByTech", "List[Endpoint]")
def endpoints_by_tech(api: AriApi, r: Req) -> Result:
    raise AriError(404, f"No Endpoints found - invalid tech {r.path['tech']}")


@op("endpoints", "GET", "/endpoints/{tech}/{resource}", "get", "Endpoint")
def endpoints_get(api: AriApi, r: Req) -> Result:
    raise AriError(404, "Endpoint not found")


@op("deviceStates", "GET", "/deviceStates", "list", "List[DeviceState]")
def device_states_list(api: AriApi, r: Req) -> Result:
    return 200, []


@op("sounds", "GET", "/sounds", "list", "List[Sound]", q("lang"), q("format"))
def sounds_list(api: AriApi, r: Req) -> Result:
    return 200, [_sound(name) for name in sorted(api.core.sounds)]


def _sound(name: str) -> dict[str, Any]:
    return {"id": name, "formats": [{"language": "en", "format": "gsm"}, {"language": "en", "format": "slin"}]}


@op("sounds", "GET", "/sounds/{soundId}", "get", "Sound")
def sounds_get(api: AriApi, r: Req) -> Result:
    if r.path["soundId"] not in api.core.sounds:
        raise AriError(404, "Sound not found")
    return 200, _sound(r.path["soundId"])


@op(
    "events",
    "GET",
    "/events",
    "eventWebsocket",
    "Message",
    q("app", required=True, multiple=True),
    q("subscribeAll", "boolean"),
    upgrade="websocket",
)
def events_websocket(api: AriApi, r: Req) -> Result:  # served by the WebSocket endpoint, never dispatched
    raise AriError(400, "WebSocket upgrade required")
