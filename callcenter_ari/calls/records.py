"""What is kept in Redis about a call, as a msgspec Struct: the call machine's own state (calls/machine.py).

New fields must get defaults, so that a record written by an older version still decodes after an upgrade.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from callcenter_ari.recording.recorder import RecorderState

CallPhase = Literal[
    "new",
    "greeting",
    "ivr",
    "queued",
    "ringing",
    "joining",
    "transfer",
    "handover",
    "talking",
    "consulting",
    "conference",
    "survey",
    "voicemail",
    "leaving",
    "ended",
]


class CallRecord(msgspec.Struct, kw_only=True):
    call_id: str
    channel_id: str
    source: str = ""
    did: str = ""
    caller: str = ""
    caller_name: str = ""
    started_at: float
    phase: CallPhase = "new"
    queue: str = ""
    priority: int = 0
    enqueued_at: float | None = None
    agent_id: str = ""
    agent_channel: str = ""
    bridge_id: str = ""
    agent_bridge: str = ""  # a persistent agent's own bridge the caller was joined into (not the call's to destroy)
    legs: dict[str, str] = {}  # ring_all: the agent legs still ringing, channel id -> agent id
    answered_at: float | None = None
    connected_at: float | None = None
    disconnected_at: float | None = None
    held_since: float | None = None  # on hold now, since then
    hold_seconds: float = 0.0  # on hold before, in all
    ended_at: float | None = None
    outcome: str = ""
    hangup_cause: int | None = None
    offers: int = 0
    # What the IVR learned, for the agent's screen pop and the CRM: language, collected variables, path taken.
    language: str = ""
    skills: tuple[str, ...] = ()
    variables: dict[str, str] = {}
    ivr_path: list[str] = []
    transfer_target: str = ""
    survey: dict[str, str] = {}
    recording: RecorderState = msgspec.field(default_factory=RecorderState)
    # A consultation (attended transfer, conference): the agent consulted ("" for a destination), the agent id or
    # destination name, the consult leg once dialled and when it answered; in a conference, whether the caller left.
    consult_agent: str = ""
    consult_target: str = ""
    consult_channel: str = ""
    consult_answered_at: float | None = None
    caller_left: bool = False
