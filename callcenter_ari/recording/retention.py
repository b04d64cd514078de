"""How long recordings are kept: nothing deletes one younger than ``min_days``, and every one older than
``max_days`` is deleted. A deletion leaves a :class:`DeletionAudit` behind, which outlives the audio.

Age counts from when the recording started.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from callcenter_ari.recording.model import DeletionAudit, DeletionReason, Recording
from callcenter_ari.recording.settings import RetentionSettings

DAY = 86_400.0

RefusalReason = Literal["recording", "already_deleted", "too_young", "not_expired"]


class RetentionRefused(Exception):
    """The recording may not be deleted now; ``reason`` says why."""

    def __init__(self, recording: str, reason: RefusalReason, detail: str) -> None:
        super().__init__(f"recording {recording}: {detail}")
        self.recording = recording
        self.reason: RefusalReason = reason


def age_days(rec: Recording, now: float) -> float:
    return (now - rec.started_at) / DAY


def check_delete(rec: Recording, now: float, retention: RetentionSettings) -> None:
    """Raise :class:`RetentionRefused` unless the recording may be deleted at ``now``."""
    if rec.state in ("recording", "paused"):
        raise RetentionRefused(rec.name, "recording", "still being recorded")
    if rec.state == "deleted":
        raise RetentionRefused(rec.name, "already_deleted", "already deleted")
    age = age_days(rec, now)
    if age < retention.min_days:
        raise RetentionRefused(rec.name, "too_young", f"{age:.1f} days old, kept at least {retention.min_days:g}")


def expired(recordings: Iterable[Recording], now: float, retention: RetentionSettings) -> list[Recording]:
    """The finished recordings kept longer than ``max_days``, oldest first: the next ones to delete."""
    due = [rec for rec in recordings if rec.state in ("done", "failed") and age_days(rec, now) > retention.max_days]
    return sorted(due, key=lambda rec: (rec.started_at, rec.name))


def delete(
    rec: Recording, now: float, by: str, reason: DeletionReason, *, retention: RetentionSettings
) -> DeletionAudit:
    """Mark the recording deleted and return the audit entry; raises :class:`RetentionRefused` and changes nothing
    when it may not be deleted. The caller removes the audio once the entry is stored."""
    check_delete(rec, now, retention)
    age = age_days(rec, now)
    # The audit says "retention_expired": that must be true, not a label for an early deletion.
    if reason == "retention_expired" and not age > retention.max_days:
        raise RetentionRefused(rec.name, "not_expired", f"{age:.1f} days old, kept up to {retention.max_days:g}")
    rec.state = "deleted"
    rec.deleted_at = now
    rec.deleted_by = by
    return DeletionAudit(
        recording=rec.name, call_id=rec.call_id, tenant=rec.tenant, at=now, by=by, reason=reason, age_days=age
    )
