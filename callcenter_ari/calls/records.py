"""What is kept in Redis about a call, as a msgspec Struct: the call machine's own state (calls/machine.py), with
the consultation's (calls/consult.py) and the recorder's (recording/recorder.py) embedded in it.

New fields must get defaults, so that a record written by an older version still decodes after an upgrade.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from callcenter_ari.calls.legs import LegKind, leg_id
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

# The phases in which the record's ``agent_channel`` is a live leg (an agent's or a transfer's).
LEG_PHASES: tuple[CallPhase, ...] = ("ringing", "transfer", "handover", "talking", "consulting", "conference")


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
    hold_alerted: bool = False  # the supervisor was alerted to this hold already
    ringing_since: float | None = None  # the agent leg (or ring_all legs) rung since then
    hold_seconds: float = 0.0  # on hold before, in all
    ended_at: float | None = None
    outcome: str = ""
    hangup_cause: int | None = None
    hung_up_by: str = ""  # a supervisor who hung the caller up through the API: not the caller's abandon
    offers: int = 0
    # What the IVR learned, for the agent's screen pop and the CRM: language, collected variables, path taken.
    language: str = ""
    skills: tuple[str, ...] = ()
    variables: dict[str, str] = {}
    ivr_path: list[str] = []
    transfer_target: str = ""
    survey: dict[str, str] = {}
    recording: RecorderState = msgspec.field(default_factory=RecorderState)
    # A consultation (attended transfer, conference), written only by calls/consult.py: the agent consulted ("" for
    # a destination), the agent id or destination name, the consult leg once dialled and when it answered.
    consult_agent: str = ""
    consult_target: str = ""
    consult_channel: str = ""
    consult_answered_at: float | None = None
    caller_left: bool = False  # in a conference: the caller hung up and the two others talk on

    def fields(self, now: float, **extra: object) -> dict[str, object]:
        """What every event of the call starts with."""
        return {"at": now, "call_id": self.call_id, "caller": self.caller, "did": self.did, **extra}

    def dialled_legs(self) -> list[str]:
        """The legs the call dialled that may be up now: the agent's or a transfer's (not a persistent agent's line,
        which is theirs), a consultation's, and ring-all legs still ringing."""
        legs = [self.agent_channel] if self.agent_channel and not self.agent_bridge and self.phase in LEG_PHASES else []
        if self.consult_channel:
            legs.append(self.consult_channel)
        return list(dict.fromkeys([*legs, *self.legs]))  # a ring-all call's agent leg is one of its legs too

    def next_leg(self, kind: LegKind) -> str:
        """The channel id of a new leg (``calls/legs.py``): every leg the call dials counts."""
        self.offers += 1
        return leg_id(self.call_id, kind, self.offers)

    @property
    def caller_id(self) -> str:
        """The caller as the phones the call rings show them."""
        return f'"{self.caller_name}" <{self.caller}>' if self.caller_name else self.caller
