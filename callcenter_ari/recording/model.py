"""Recordings as data: the recording of a call (updated by the runtime as it runs), a reviewer's score of it, and
the audit entry a deletion leaves behind. New persisted fields get defaults, so older records still decode."""

from __future__ import annotations

from typing import Literal

import msgspec

RecordingState = Literal["recording", "paused", "done", "failed", "deleted"]
DeletionReason = Literal["retention_expired", "requested"]


class Recording(msgspec.Struct, kw_only=True):
    """One stored recording of a call. Mutable: the runtime moves it through its states while the call runs."""

    name: str  # the Asterisk stored-recording name, e.g. "c0001-r1"
    call_id: str
    tenant: str
    agent_id: str = ""
    queue: str = ""
    campaign: str = ""
    caller: str = ""
    started_at: float
    ended_at: float | None = None
    duration: float = 0.0  # seconds of audio; pauses are not in it
    paused_seconds: float = 0.0
    format: str = "wav"
    state: RecordingState = "recording"
    reason: Literal["policy", "on_demand"] = "policy"
    segment: int = 1  # a call recorded again after a stop gets a new segment, and a new name
    played_by: list[str] = []  # who played it (agent or user ids): an agent's self-review shows what they heard
    deleted_at: float | None = None
    deleted_by: str = ""


class Score(msgspec.Struct, frozen=True, kw_only=True):
    """A reviewer's evaluation of one recording against one scoring form."""

    recording: str
    reviewer: str
    form: str
    points: dict[str, int]  # per criterion of the form
    percent: float  # weighted, 0..100, one decimal
    at: float
    comment: str = ""
    agent_id: str = ""  # the agent who took the call: the score counts toward their grade


class DeletionAudit(msgspec.Struct, frozen=True, kw_only=True):
    """Kept after the audio is gone: what was deleted, when, by whom and why."""

    recording: str
    call_id: str
    tenant: str
    at: float
    by: str
    reason: DeletionReason
    age_days: float
