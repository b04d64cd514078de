"""The Swagger 1.1 description of the operations the simulator implements, generated from `routes.OPERATIONS`.

asyncari builds its client from this: operations by nickname, and event types by looking them up in the `events`
declaration's models (so every event the simulator emits is described there).
"""

from __future__ import annotations

from typing import Any

from callcenter_ari.sim.routes import OPERATIONS

RESOURCES = {
    "asterisk": "Asterisk resources",
    "endpoints": "Endpoint resources",
    "channels": "Channel resources",
    "bridges": "Bridge resources",
    "recordings": "Recording resources",
    "sounds": "Sound resources",
    "playbacks": "Playback control resources",
    "deviceStates": "Device state resources",
    "events": "WebSocket resource",
    "applications": "Stasis application resources",
}

_S, _L, _I = "string", "long", "int"

_CHANNEL_MODELS: dict[str, dict[str, str]] = {
    "CallerID": {"name": _S, "number": _S},
    "DialplanCEP": {"context": _S, "exten": _S, "priority": _L, "app_name": _S, "app_data": _S},
    "Channel": {
        "id": _S,
        "name": _S,
        "state": _S,
        "protocol_id": _S,
        "caller": "CallerID",
        "connected": "CallerID",
        "accountcode": _S,
        "dialplan": "DialplanCEP",
        "creationtime": "Date",
        "language": _S,
    },
    "Variable": {"value": _S},
}
_SHARED_MODELS: dict[str, dict[str, dict[str, str]]] = {
    "channels": _CHANNEL_MODELS,
    "bridges": {
        "Bridge": {
            "id": _S,
            "technology": _S,
            "bridge_type": _S,
            "bridge_class": _S,
            "creator": _S,
            "name": _S,
            "channels": "List[string]",
            "creationtime": "Date",
            "video_mode": _S,
        }
    },
    "playbacks": {"Playback": {"id": _S, "media_uri": _S, "target_uri": _S, "language": _S, "state": _S}},
    "recordings": {
        "LiveRecording": {"name": _S, "format": _S, "state": _S, "target_uri": _S, "duration": _I},
        "StoredRecording": {"name": _S, "format": _S},
    },
    "asterisk": {
        "AsteriskInfo": {"build": "object", "system": "object", "config": "object", "status": "object"},
        "AsteriskPing": {"ping": _S, "timestamp": _S, "asterisk_id": _S},
        "Variable": {"value": _S},
    },
    "applications": {
        "Application": {
            "name": _S,
            "channel_ids": "List[string]",
            "bridge_ids": "List[string]",
            "endpoint_ids": "List[string]",
            "device_names": "List[string]",
            "events_allowed": "List[object]",
            "events_disallowed": "List[object]",
        }
    },
    "endpoints": {"Endpoint": {"technology": _S, "resource": _S, "state": _S, "channel_ids": "List[string]"}},
    "deviceStates": {"DeviceState": {"name": _S, "state": _S}},
    "sounds": {
        "Sound": {"id": _S, "text": _S, "formats": "List[FormatLangPair]"},
        "FormatLangPair": {"language": _S, "format": _S},
    },
}

_EVENT = {"type": _S, "asterisk_id": _S, "application": _S, "timestamp": "Date"}
_EVENTS: dict[str, dict[str, str]] = {
    "Message": {"type": _S, "asterisk_id": _S},
    "Event": _EVENT,
    "StasisStart": {"args": "List[string]", "channel": "Channel", "replace_channel": "Channel"},
    "StasisEnd": {"channel": "Channel"},
    "ChannelStateChange": {"channel": "Channel"},
    "ChannelHangupRequest": {"cause": _I, "soft": "boolean", "channel": "Channel"},
    "ChannelDestroyed": {"cause": _I, "cause_txt": _S, "channel": "Channel"},
    "ChannelDtmfReceived": {"digit": _S, "duration_ms": _I, "channel": "Channel"},
    "ChannelDialplan": {"channel": "Channel", "dialplan_app": _S, "dialplan_app_data": _S},
    "ChannelCallerId": {"caller_presentation": _I, "caller_presentation_txt": _S, "channel": "Channel"},
    "ChannelConnectedLine": {"channel": "Channel"},
    "ChannelVarset": {"variable": _S, "value": _S, "channel": "Channel"},
    "ChannelEnteredBridge": {"bridge": "Bridge", "channel": "Channel"},
    "ChannelLeftBridge": {"bridge": "Bridge", "channel": "Channel"},
    "ChannelHold": {"channel": "Channel", "musicclass": _S},
    "ChannelUnhold": {"channel": "Channel"},
    "BridgeDestroyed": {"bridge": "Bridge"},
    "Dial": {"caller": "Channel", "peer": "Channel", "forward": _S, "dialstring": _S, "dialstatus": _S},
    "PlaybackStarted": {"playback": "Playback"},
    "PlaybackFinished": {"playback": "Playback"},
    "RecordingStarted": {"recording": "LiveRecording"},
    "RecordingFinished": {"recording": "LiveRecording"},
    "ApplicationMoveFailed": {"channel": "Channel", "destination": _S, "args": "List[string]"},
    "ApplicationReplaced": {},
    "RESTResponse": {
        "transaction_id": _S,
        "request_id": _S,
        "status_code": _I,
        "reason_phrase": _S,
        "uri": _S,
        "content_type": _S,
        "message_body": _S,
    },
}


def _model(name: str, props: dict[str, str]) -> dict[str, Any]:
    return {"id": name, "properties": {k: {"type": t, "required": False} for k, t in props.items()}}


def _models(resource: str) -> dict[str, Any]:
    models = {name: _model(name, props) for name, props in _SHARED_MODELS.get(resource, {}).items()}
    if resource == "events":
        for name, props in _EVENTS.items():
            full = props if name in ("Message", "Event") else {**_EVENT, **props}
            models[name] = _model(name, full)
            if name not in ("Message", "Event"):
                models[name]["extends"] = "Event"
    return models


def resource_listing(base_path: str) -> dict[str, Any]:
    return {
        "apiVersion": "10.0.0",
        "swaggerVersion": "1.1",
        "basePath": base_path,
        "apis": [{"path": f"/api-docs/{name}.{{format}}", "description": desc} for name, desc in RESOURCES.items()],
    }


def api_declaration(resource: str, base_path: str) -> dict[str, Any] | None:
    if resource not in RESOURCES:
        return None
    apis: dict[str, list[dict[str, Any]]] = {}
    for operation in OPERATIONS:
        if operation.resource != resource:
            continue
        entry: dict[str, Any] = {
            "httpMethod": operation.method,
            "nickname": operation.nickname,
            "responseClass": operation.response,
            "parameters": [
                {
                    "name": p.name,
                    "paramType": p.kind,
                    "dataType": p.type,
                    "required": p.required,
                    "allowMultiple": p.multiple,
                }
                for p in operation.params
            ],
            "errorResponses": [],
        }
        if operation.upgrade:
            entry["upgrade"] = operation.upgrade
            entry["websocketProtocol"] = "ari"
        apis.setdefault(operation.path, []).append(entry)
    return {
        "apiVersion": "10.0.0",
        "swaggerVersion": "1.1",
        "basePath": base_path,
        "resourcePath": f"/api-docs/{resource}.{{format}}",
        "apis": [{"path": path, "description": RESOURCES[resource], "operations": ops} for path, ops in apis.items()],
        "models": _models(resource),
    }
