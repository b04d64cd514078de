"""A call's recording while it is connected: a small sans-IO machine the call machine embeds.

Theory of operation
-------------------
Whether a call is recorded is decided once, when caller and agent are first bridged: by the queue's policy (all,
none, a sampled share) unless a person already asked to start or stop. From then on the recording follows the
conversation: every bridge the call gets is a segment of its own (``<call>-r1``, then ``<call>-r2`` after a
transfer to another agent), started when the bridge forms and stopped when it breaks up, so each segment belongs
to one agent and covers the parties that joined that bridge (a conference, a barging supervisor).

People act on it through the API: ``start`` (record from now on, this segment and the next), ``stop`` (no more
recording for this call), ``pause`` and ``resume`` (the minute a customer reads out a card number). An action that
does not apply (pausing what is not recording) is refused with a reason and changes nothing; ``refusal`` answers
the same question for the API before it hands the action to the call.

The state lives in the call's record, so a restarted process knows which segment is live and whether it is paused.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from callcenter_ari.recording.policy import should_record
from callcenter_ari.recording.settings import RecordingPolicy

Action = Literal["start", "stop", "pause", "resume"]


class RecorderState(msgspec.Struct, kw_only=True):
    wanted: bool | None = None  # None: not decided yet (the first bridge decides, by policy)
    on_demand: bool = False  # a person decided ``wanted``, not the policy
    live: str = ""  # the segment being recorded now, "" when none
    paused: bool = False
    segments: int = 0


class StartRecording(msgspec.Struct, frozen=True):
    """Record bridge ``bridge_id`` under ``name`` (the runtime also writes the recording's metadata)."""

    bridge_id: str
    name: str
    on_demand: bool
    segment: int
    format: str = "wav"
    beep: bool = False


class ControlRecording(msgspec.Struct, frozen=True):
    """Pause, resume or stop the live recording ``name``."""

    name: str
    action: Literal["pause", "unpause", "stop"]


RecorderCommand = StartRecording | ControlRecording


def refusal(state: RecorderState, action: Action, *, bridged: bool) -> str:
    """Why ``action`` cannot be taken now ("" when it can). The API and the machine ask the same question."""
    if action == "start":
        return "already_recording" if state.live else ""
    if action == "stop":
        return "" if state.live or state.wanted is not False else "not_recording"
    if not bridged or not state.live:
        return "not_recording"
    if action == "pause":
        return "already_paused" if state.paused else ""
    return "" if state.paused else "not_paused"


class Recorder:
    """Drives one call's ``RecorderState``. The policy is asked once, at the first bridge, unless a person chose;
    ``salt`` is mixed into the sampling hash so that call ids alone do not predict the sample."""

    def __init__(self, state: RecorderState, call_id: str, salt: str = "") -> None:
        self.state = state
        self.call_id = call_id
        self.salt = salt

    def bridged(self, bridge_id: str, policy: RecordingPolicy) -> list[RecorderCommand]:
        state = self.state
        if state.wanted is None:
            state.wanted = should_record(policy, self.call_id, self.salt)
        if not state.wanted or state.live:
            return []
        return [self._begin(bridge_id, policy)]

    def unbridged(self) -> list[RecorderCommand]:
        """The bridge breaks up (hang-up, transfer away): the live segment ends with it."""
        state = self.state
        if not state.live:
            return []
        name, state.live, state.paused = state.live, "", False
        return [ControlRecording(name, "stop")]

    def act(self, action: Action, bridge_id: str, policy: RecordingPolicy) -> list[RecorderCommand]:
        """A person's action; ``bridge_id`` is the call's bridge now ("" when not bridged). Refused: nothing."""
        state = self.state
        if refusal(state, action, bridged=bool(bridge_id)):
            return []
        if action == "start":
            state.wanted, state.on_demand = True, True
            return [self._begin(bridge_id, policy)] if bridge_id else []
        if action == "stop":
            state.wanted, state.on_demand = False, True
            return self.unbridged()
        state.paused = action == "pause"
        return [ControlRecording(state.live, "pause" if state.paused else "unpause")]

    def lost(self, name: str) -> None:
        """Asterisk would not record, or the recording ended on its own: no segment is live any more."""
        if self.state.live == name:
            self.state.live, self.state.paused = "", False

    def _begin(self, bridge_id: str, policy: RecordingPolicy) -> StartRecording:
        state = self.state
        state.segments += 1
        state.live, state.paused = f"{self.call_id}-r{state.segments}", False
        return StartRecording(bridge_id, state.live, state.on_demand, state.segments, policy.format, policy.beep)
