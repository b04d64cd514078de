"""The simulated PBX's objects: channels, bridges, playbacks and recordings, with their ARI JSON snapshots.

Objects hold state only; `core.Asterisk` owns every transition and every event. Channel snapshots are cached
until the channel changes, since one call produces dozens of events that all embed the same snapshot.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from callcenter_ari.clock import Timer
from callcenter_ari.sim.wire import Json, format_timestamp


class Origin(enum.Enum):
    """How a channel reached Stasis, which decides what the app hears after StasisEnd."""

    DIALPLAN = "dialplan"  # Stasis() in the dialplan: Hangup() follows, no events after StasisEnd unless subscribed
    ORIGINATED = "originated"  # POST /channels?app=: the app stays subscribed until ChannelDestroyed
    SNOOP = "snoop"


class Channel:
    __slots__ = (
        "_snap",
        "answered_at",
        "bridge",
        "caller_name",
        "caller_number",
        "conn_name",
        "conn_number",
        "context",
        "control",
        "created",
        "dialplan_app",
        "dialplan_data",
        "driver",
        "exten",
        "hangup_cause",
        "id",
        "moh",
        "name",
        "origin",
        "priority",
        "sends_audio",
        "snooped",
        "snoops",
        "stasis_app",
        "stasis_sessions",
        "state",
        "subscribed",
        "tech",
        "timers",
        "vars",
    )

    def __init__(self, id: str, name: str, tech: str, created: float) -> None:
        self.id = id
        self.name = name
        self.tech = tech
        self.created = created
        self.state = "Down"
        self.caller_name = ""
        self.caller_number = ""
        self.conn_name = ""
        self.conn_number = ""
        self.context = "default"
        self.exten = "s"
        self.priority = 1
        self.dialplan_app = ""
        self.dialplan_data = ""
        self.vars: dict[str, str] = {}
        self.stasis_app: str | None = None
        # Apps that receive this channel's events outside Stasis (explicit subscription or originate with app=).
        self.subscribed: set[str] = set()
        self.origin = Origin.DIALPLAN
        self.stasis_sessions = 0
        self.bridge: Bridge | None = None
        self.answered_at: float | None = None
        self.control = ControlQueue()
        self.timers: list[Timer] = []
        self.snoops: list[Channel] = []
        self.snooped: Channel | None = None
        self.hangup_cause: int | None = None
        self.moh: str | None = None
        self.sends_audio = True
        self.driver: Any = None  # the scripted far end (caller script, phone behaviour, Local context)
        self._snap: Json | None = None

    def touch(self) -> None:
        self._snap = None

    def snapshot(self) -> Json:
        snap = self._snap
        if snap is None:
            snap = self._snap = {
                "id": self.id,
                "name": self.name,
                "state": self.state,
                "protocol_id": "",
                "caller": {"name": self.caller_name, "number": self.caller_number},
                "connected": {"name": self.conn_name, "number": self.conn_number},
                "accountcode": "",
                "dialplan": {
                    "context": self.context,
                    "exten": self.exten,
                    "priority": self.priority,
                    "app_name": self.dialplan_app,
                    "app_data": self.dialplan_data,
                },
                "creationtime": format_timestamp(self.created),
                "language": "en",
            }
        return snap

    def watchers(self) -> set[str]:
        if self.stasis_app is None:
            return self.subscribed
        return self.subscribed | {self.stasis_app}

    @property
    def alive(self) -> bool:
        return self.hangup_cause is None


class Playback:
    __slots__ = (
        "duration",
        "id",
        "language",
        "media",
        "remaining",
        "started_at",
        "state",
        "stopped",
        "target",
        "target_uri",
        "timer",
    )

    def __init__(self, id: str, media: list[str], target: Channel | Bridge, target_uri: str) -> None:
        self.id = id
        self.media = media
        self.target = target
        self.target_uri = target_uri
        self.language = "en"
        self.state = "queued"
        self.duration: float | None = 0.0  # None: plays until stopped (tone:)
        self.remaining: float | None = 0.0
        self.started_at = 0.0
        self.stopped = False
        self.timer: Timer | None = None

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "media_uri": self.media[0],
            "target_uri": self.target_uri,
            "language": self.language,
            "state": self.state,
        }


@dataclass(eq=False)
class Command:
    """A synchronous channel command (answer, set variable) waiting behind what the channel is doing."""

    run: Any  # () -> None, executed when the command reaches the head of the queue
    done: Any  # asyncio.Future resolved with None or an AriError


@dataclass(eq=False)
class DtmfSend:
    digits: str
    duration_ms: int
    seconds: float | None  # None: never ends (a negative duration wraps to ~49 days in Asterisk)


class ControlQueue:
    """The channel's Stasis command queue: one item runs at a time (a playback, a DTMF send, a command)."""

    __slots__ = ("current", "items")

    def __init__(self) -> None:
        self.items: deque[Playback | Command | DtmfSend] = deque()
        self.current: Playback | Command | DtmfSend | None = None


@dataclass(eq=False)
class Bridge:
    id: str
    name: str
    type: str  # "mixing" | "holding"
    created: float
    channels: list[Channel] = field(default_factory=list)
    recorders: list[str] = field(default_factory=list)  # Recorder/ARI-... participants, not listed in `channels`
    apps: set[str] = field(default_factory=set)  # apps subscribed to the bridge (BridgeDestroyed goes to them)
    moh: str | None = None
    control: ControlQueue = field(default_factory=ControlQueue)

    def technology(self) -> str:
        if self.type == "holding":
            return "holding_bridge"
        return "softmix" if len(self.channels) + len(self.recorders) > 2 else "simple_bridge"

    def snapshot(self) -> Json:
        return {
            "id": self.id,
            "technology": self.technology(),
            "bridge_type": self.type,
            "bridge_class": "stasis",
            "creator": "Stasis",
            "name": self.name,
            "channels": [c.id for c in self.channels],
            "creationtime": format_timestamp(self.created),
            "video_mode": "talker",
        }


@dataclass(eq=False)
class LiveRecording:
    name: str
    format: str
    target: Channel | Bridge
    target_uri: str
    started: float
    state: str = "queued"
    recorded: float = 0.0  # seconds recorded before the current (unpaused) stretch
    resumed_at: float | None = None
    recorder_name: str | None = None
    timer: Timer | None = None
    terminate_on: str = "none"

    def to_json(self) -> Json:
        return {"name": self.name, "format": self.format, "state": self.state, "target_uri": self.target_uri}


@dataclass(eq=False)
class StoredRecording:
    name: str
    format: str
    duration: float

    def to_json(self) -> Json:
        return {"name": self.name, "format": self.format}
