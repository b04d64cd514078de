"""How a call is treated, resolved from the configuration by its DID: its greeting or flow, its queues' music,
ring and wait limits, survey and recording policy, and the destinations it may be transferred to."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from callcenter_ari import ivr
from callcenter_ari.callback.settings import CallbackSettings, QueueCallback
from callcenter_ari.recording.settings import RecordingPolicy

# How long a transfer or a consultation rings a configured destination (an agent rings for the queue's time).
TRANSFER_RING_SECONDS = 30


class QueueSettings(msgspec.Struct, frozen=True, kw_only=True):
    moh_class: str = ""
    ring_timeout: float = 15.0
    max_wait: float = 600.0
    survey_name: str = ""
    survey: ivr.Flow | None = None
    hold_alert: float = 30.0  # seconds on hold before a supervisor is alerted
    recording: RecordingPolicy = RecordingPolicy(mode="none")
    callback: QueueCallback | None = None  # when waiting callers are offered a callback, and its rules


class CallSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How this call is treated, resolved from the configuration by its DID."""

    greeting: str = ""
    queue: str = ""  # without a flow: where the greeting leads; with one: where a broken flow falls back to
    priority: int = 0
    goodbye: str = ""
    flow_name: str = ""
    flow: ivr.Flow | None = None
    schedules: Mapping[str, ivr.Schedule] = {}
    # Transfer target name -> (validated dial string, trunk whose lines it takes, or "" for an internal extension).
    destinations: Mapping[str, tuple[str, str]] = {}
    queues: Mapping[str, QueueSettings] = {}
    recording_salt: str = ""  # see recording.recorder.Recorder
    callback: CallbackSettings = CallbackSettings()

    def queue_settings(self, queue: str) -> QueueSettings:
        return self.queues.get(queue) or QueueSettings()
