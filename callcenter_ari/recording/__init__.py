"""Call recording and quality assurance: which calls are recorded, how long recordings are kept and who may touch
them, and the QA plan (sampling per agent, scoring forms, grades, calibration, self-review).

Pure: no I/O here. The runtime starts and stores recordings; the API serves them through these rules.
"""

from callcenter_ari.recording.access import Role, Viewer, can_delete, can_read, can_sample, can_score
from callcenter_ari.recording.model import DeletionAudit, DeletionReason, Recording, RecordingState, Score
from callcenter_ari.recording.policy import sample_point, should_record
from callcenter_ari.recording.qa import (
    Calibration,
    InvalidScore,
    Period,
    ReviewItem,
    calibrate,
    day_review,
    eligible,
    grade,
    period_bounds,
    period_key,
    quota,
    sample,
    score,
    weighted_percent,
)
from callcenter_ari.recording.retention import RetentionRefused, age_days, check_delete, delete, expired
from callcenter_ari.recording.settings import (
    GRADES,
    Criterion,
    Grade,
    GradeThresholds,
    QaSettings,
    RecordingPolicy,
    RecordingSection,
    RetentionSettings,
    ScoringForm,
    validate,
)

__all__ = [
    "GRADES",
    "Calibration",
    "Criterion",
    "DeletionAudit",
    "DeletionReason",
    "Grade",
    "GradeThresholds",
    "InvalidScore",
    "Period",
    "QaSettings",
    "Recording",
    "RecordingPolicy",
    "RecordingSection",
    "RecordingState",
    "RetentionRefused",
    "RetentionSettings",
    "ReviewItem",
    "Role",
    "Score",
    "ScoringForm",
    "Viewer",
    "age_days",
    "calibrate",
    "can_delete",
    "can_read",
    "can_sample",
    "can_score",
    "check_delete",
    "day_review",
    "delete",
    "eligible",
    "expired",
    "grade",
    "period_bounds",
    "period_key",
    "quota",
    "sample",
    "sample_point",
    "score",
    "should_record",
    "validate",
    "weighted_percent",
]
