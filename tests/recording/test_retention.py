"""Retention: what may be deleted when, what the scheduled clean-up deletes, and the audit a deletion leaves."""

from __future__ import annotations

import msgspec
import pytest

from callcenter_ari.recording import (
    DeletionAudit,
    RetentionRefused,
    RetentionSettings,
    check_delete,
    delete,
    expired,
)
from tests.recording.helpers import DAY, recording

KEEP = RetentionSettings(min_days=90.0, max_days=365.0)
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def aged(days: float) -> float:
    return START + days * DAY


class TestCheckDelete:
    def test_a_recording_younger_than_min_days_is_refused(self) -> None:
        with pytest.raises(RetentionRefused) as caught:
            check_delete(recording(started_at=START), aged(89.9), KEEP)
        assert caught.value.reason == "too_young"
        assert "89.9 days old" in str(caught.value)

    def test_a_recording_exactly_min_days_old_may_be_deleted(self) -> None:
        check_delete(recording(started_at=START), aged(90), KEEP)

    @pytest.mark.parametrize("state", ["recording", "paused"])
    def test_a_recording_still_running_is_refused_however_old(self, state: str) -> None:
        with pytest.raises(RetentionRefused) as caught:
            check_delete(recording(started_at=START, state=state), aged(400), KEEP)
        assert caught.value.reason == "recording"

    def test_a_deleted_recording_is_not_deleted_twice(self) -> None:
        with pytest.raises(RetentionRefused) as caught:
            check_delete(recording(started_at=START, state="deleted"), aged(400), KEEP)
        assert caught.value.reason == "already_deleted"

    def test_a_failed_recording_may_be_deleted(self) -> None:
        check_delete(recording(started_at=START, state="failed"), aged(100), KEEP)


class TestExpired:
    def test_finished_recordings_older_than_max_days_are_listed_oldest_first(self) -> None:
        recordings = [
            recording("c3-r1", started_at=START + 2 * DAY),
            recording("c1-r1", started_at=START),
            recording("c2-r1", started_at=START + DAY, state="failed"),
        ]
        names = [rec.name for rec in expired(recordings, aged(368), KEEP)]
        assert names == ["c1-r1", "c2-r1", "c3-r1"]

    def test_recordings_within_max_days_are_kept(self) -> None:
        assert expired([recording(started_at=START)], aged(365), KEEP) == []

    @pytest.mark.parametrize("state", ["recording", "paused", "deleted"])
    def test_running_and_deleted_recordings_are_never_listed(self, state: str) -> None:
        assert expired([recording(started_at=START, state=state)], aged(1000), KEEP) == []


class TestDelete:
    def test_a_requested_deletion_marks_the_record_and_returns_its_audit(self) -> None:
        rec = recording("c0007-r2", started_at=START, tenant="t9")
        audit = delete(rec, aged(120), "admin-1", "requested", retention=KEEP)
        assert audit == DeletionAudit(
            recording="c0007-r2",
            call_id="c0007",
            tenant="t9",
            at=aged(120),
            by="admin-1",
            reason="requested",
            age_days=120.0,
        )
        assert (rec.state, rec.deleted_at, rec.deleted_by) == ("deleted", aged(120), "admin-1")

    def test_an_expired_recording_is_deleted_for_retention(self) -> None:
        rec = recording(started_at=START)
        audit = delete(rec, aged(400), "retention", "retention_expired", retention=KEEP)
        assert audit.reason == "retention_expired" and audit.age_days == 400.0
        assert rec.state == "deleted"

    def test_a_deletion_for_retention_before_max_days_is_refused(self) -> None:
        """The audit's reason must be true: an early deletion is a request, with a name on it."""
        rec = recording(started_at=START)
        with pytest.raises(RetentionRefused) as caught:
            delete(rec, aged(200), "retention", "retention_expired", retention=KEEP)
        assert caught.value.reason == "not_expired"
        assert rec.state == "done"

    def test_a_refused_deletion_changes_nothing(self) -> None:
        rec = recording(started_at=START)
        before = msgspec.structs.asdict(rec)
        with pytest.raises(RetentionRefused):
            delete(rec, aged(10), "admin-1", "requested", retention=KEEP)
        assert msgspec.structs.asdict(rec) == before
