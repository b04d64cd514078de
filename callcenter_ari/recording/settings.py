"""The ``[recording]`` configuration: what is recorded, how long it is kept, and the QA plan (sampling, scoring
forms, grades, calibration). Frozen Structs decoded from the TOML file; :func:`validate` names every value that
decodes but cannot be used, by its key path under ``recording.``.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

Grade = Literal["good", "average", "poor", "ungraded"]
GRADES: tuple[Grade, ...] = ("good", "average", "poor", "ungraded")

# Criterion and form names appear in score field paths ("points.courtesy") and in URLs: plain identifiers only.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class RecordingPolicy(_Section, frozen=True, kw_only=True):
    mode: Literal["all", "none", "sampled"] = "all"
    percent: float = 100.0  # of calls recorded, when sampled
    format: Literal["wav", "gsm", "ulaw", "alaw", "sln"] = "wav"
    beep: bool = False


class RetentionSettings(_Section, frozen=True, kw_only=True):
    min_days: float = 90.0  # nothing, not even an admin, deletes a recording younger than this
    max_days: float = 365.0  # recordings older than this are deleted


class Criterion(_Section, frozen=True, kw_only=True):
    label: str
    weight: float = 1.0
    max_points: int = 5


class ScoringForm(_Section, frozen=True, kw_only=True):
    title: str = ""
    criteria: dict[str, Criterion]


def _standard_forms() -> dict[str, ScoringForm]:
    """Used when no form is configured, so that QA can start scoring on day one."""
    return {
        "standard": ScoringForm(
            title="Standard call review",
            criteria={
                "greeting": Criterion(label="Greeting and introduction"),
                "identification": Criterion(label="Caller identified and verified"),
                "resolution": Criterion(label="Need understood and resolved", weight=2.0),
                "courtesy": Criterion(label="Courtesy and tone"),
                "compliance": Criterion(label="Script and legal compliance", weight=2.0),
            },
        )
    }


class GradeThresholds(_Section, frozen=True, kw_only=True):
    good: float = 85.0  # mean percent at or above: good
    poor: float = 70.0  # below: poor; in between: average
    window: int = 10  # how many of the agent's most recent scores make the grade


class QaSettings(_Section, frozen=True, kw_only=True):
    per_agent: int = 5  # recordings sampled per agent and period, before the grade weight
    period: Literal["month", "week"] = "month"
    # Weaker agents get more of their calls reviewed, stronger ones fewer.
    grade_weights: dict[str, float] = msgspec.field(
        default_factory=lambda: {"poor": 1.6, "average": 1.0, "good": 0.8, "ungraded": 1.0}
    )
    min_seconds: float = 30.0  # shorter calls tell too little to be worth a review
    forms: dict[str, ScoringForm] = msgspec.field(default_factory=_standard_forms)
    grades: GradeThresholds = GradeThresholds()
    calibration_tolerance: float = 10.0  # percentage points two reviewers of one recording may differ by


class RecordingSection(_Section, frozen=True, kw_only=True):
    # Nothing is recorded until the admin says so: callers must usually be told first (a greeting prompt).
    default: RecordingPolicy = RecordingPolicy(mode="none")
    retention: RetentionSettings = RetentionSettings()
    qa: QaSettings = QaSettings()
    sampling_salt: str = ""  # changes which calls a sampled policy records, without changing how many


def validate(section: RecordingSection, prefix: str = "recording") -> list[str]:
    """Every problem in the section, each starting with its key path; empty when it is usable."""
    return [
        *validate_policy(f"{prefix}.default", section.default),
        *_retention(f"{prefix}.retention", section.retention),
        *_qa(f"{prefix}.qa", section.qa),
    ]


def validate_policy(path: str, policy: RecordingPolicy) -> list[str]:
    if _within(policy.percent, 0.0, 100.0):
        return []
    return [f"{path}.percent: {policy.percent} is not a percentage (0 to 100)"]


def _retention(path: str, retention: RetentionSettings) -> list[str]:
    errors: list[str] = []
    if not retention.min_days >= 0:
        errors.append(f"{path}.min_days: {retention.min_days} must be 0 or more")
    if not retention.max_days >= retention.min_days:
        errors.append(f"{path}.max_days: {retention.max_days} is less than min_days ({retention.min_days})")
    return errors


def _qa(path: str, qa: QaSettings) -> list[str]:
    errors: list[str] = []
    if qa.per_agent < 1:
        errors.append(f"{path}.per_agent: {qa.per_agent} must be 1 or more")
    for grade, weight in qa.grade_weights.items():
        if grade not in GRADES:
            errors.append(f"{path}.grade_weights.{grade}: not a grade (one of {', '.join(GRADES)})")
        elif not weight > 0:
            errors.append(f"{path}.grade_weights.{grade}: {weight} must be more than 0")
    if not qa.min_seconds >= 0:
        errors.append(f"{path}.min_seconds: {qa.min_seconds} must be 0 or more")
    if not qa.forms:
        errors.append(f"{path}.forms: no scoring form (remove the table to use the standard form)")
    for name, form in qa.forms.items():
        errors += _form(f"{path}.forms.{name}", name, form)
    errors += _grades(f"{path}.grades", qa.grades)
    if not _within(qa.calibration_tolerance, 0.0, 100.0):
        errors.append(f"{path}.calibration_tolerance: {qa.calibration_tolerance} is not 0 to 100 percentage points")
    return errors


def _form(path: str, name: str, form: ScoringForm) -> list[str]:
    errors = [] if _NAME.fullmatch(name) else [f"{path}: not a valid form name (letters, digits, '_', '-')"]
    if not form.criteria:
        errors.append(f"{path}.criteria: a form needs at least one criterion")
    for key, criterion in form.criteria.items():
        where = f"{path}.criteria.{key}"
        if not _NAME.fullmatch(key):
            errors.append(f"{where}: not a valid criterion name (letters, digits, '_', '-')")
        if not criterion.label.strip():
            errors.append(f"{where}.label: empty")
        if not criterion.weight > 0:
            errors.append(f"{where}.weight: {criterion.weight} must be more than 0")
        if criterion.max_points < 1:
            errors.append(f"{where}.max_points: {criterion.max_points} must be 1 or more")
    return errors


def _grades(path: str, grades: GradeThresholds) -> list[str]:
    errors: list[str] = []
    for key, value in (("good", grades.good), ("poor", grades.poor)):
        if not _within(value, 0.0, 100.0):
            errors.append(f"{path}.{key}: {value} is not a percentage (0 to 100)")
    if not grades.poor < grades.good:
        errors.append(f"{path}.poor: {grades.poor} must be below good ({grades.good})")
    if grades.window < 1:
        errors.append(f"{path}.window: {grades.window} must be 1 or more")
    return errors


def _within(value: float, low: float, high: float) -> bool:
    """False for NaN too, which TOML can spell (``nan``): checks here are written so that NaN fails them."""
    return low <= value <= high
