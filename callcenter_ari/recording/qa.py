"""Quality assurance over recordings: which calls QA reviews each period, how a review is scored against a form,
how an agent's recent scores make a grade, how two reviewers' scores of one call compare, and what an agent sees
when reviewing their own day.

Periods are UTC months (``2026-11``) or ISO weeks (``2026-W48``). Sampling is reproducible from a seed, and each
agent's sample depends only on the seed, the period and that agent's own recordings.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from statistics import fmean
from typing import Literal

import msgspec

from callcenter_ari.recording.model import Recording, Score
from callcenter_ari.recording.settings import Grade, GradeThresholds, QaSettings, ScoringForm

Period = Literal["month", "week"]


class InvalidScore(ValueError):
    """A score that does not fit its form; ``field`` names the offending key (``points.courtesy``, ``form``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Calibration(msgspec.Struct, frozen=True, kw_only=True):
    """Two reviewers' scores of one recording side by side: where and by how much they differ."""

    recording: str
    reviewers: tuple[str, str]
    delta: float  # second percent minus first, in percentage points
    criteria: dict[str, int]  # second's points minus first's, per criterion
    agreed: bool


class ReviewItem(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    call_id: str
    started_at: float
    duration: float
    played: bool  # the agent has already listened to it


# ---- scoring ---------------------------------------------------------------------------------------------------


def score(
    form_name: str,
    form: ScoringForm,
    points: Mapping[str, int],
    *,
    recording: str,
    reviewer: str,
    agent_id: str,
    at: float,
    comment: str = "",
) -> Score:
    """A reviewer's points checked against the form, with the weighted percent; raises :class:`InvalidScore`."""
    _check_points(form, points)
    return Score(
        recording=recording,
        reviewer=reviewer,
        form=form_name,
        points=dict(points),
        percent=weighted_percent(form, points),
        at=at,
        comment=comment,
        agent_id=agent_id,
    )


def _check_points(form: ScoringForm, points: Mapping[str, int]) -> None:
    if not form.criteria:
        raise InvalidScore("form", "the form has no criteria")
    unknown = sorted(points.keys() - form.criteria.keys())
    if unknown:
        raise InvalidScore(f"points.{unknown[0]}", "not a criterion of the form")
    for key, criterion in form.criteria.items():
        if key not in points:
            raise InvalidScore(f"points.{key}", "not scored")
        # bool is an int to Python, but True is no score.
        if isinstance(points[key], bool) or not 0 <= points[key] <= criterion.max_points:
            raise InvalidScore(f"points.{key}", f"{points[key]!r} is not 0 to {criterion.max_points}")


def weighted_percent(form: ScoringForm, points: Mapping[str, int]) -> float:
    """Each criterion's share of its maximum, weighted, as a percent with one decimal."""
    total = sum(c.weight for c in form.criteria.values())
    earned = sum(points[key] / c.max_points * c.weight for key, c in form.criteria.items())
    return round(earned / total * 100.0, 1)


def grade(percents: Sequence[float], thresholds: GradeThresholds) -> Grade:
    """The grade from the mean of the most recent ``window`` scores (``percents`` oldest first)."""
    recent = percents[-thresholds.window :]
    if not recent:
        return "ungraded"
    mean = fmean(recent)
    if mean >= thresholds.good:
        return "good"
    if mean < thresholds.poor:
        return "poor"
    return "average"


def calibrate(a: Score, b: Score, form: ScoringForm, tolerance: float) -> Calibration:
    """Compare two scores of the same recording on the same form; agreed when within ``tolerance`` points."""
    if a.recording != b.recording:
        raise ValueError(f"scores of different recordings: {a.recording!r} and {b.recording!r}")
    if a.form != b.form:
        raise ValueError(f"scores on different forms: {a.form!r} and {b.form!r}")
    delta = round(b.percent - a.percent, 1)
    return Calibration(
        recording=a.recording,
        reviewers=(a.reviewer, b.reviewer),
        delta=delta,
        criteria={key: b.points.get(key, 0) - a.points.get(key, 0) for key in form.criteria},
        agreed=abs(delta) <= tolerance,
    )


# ---- periods ---------------------------------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def period_key(at: float, period: Period) -> str:
    # Whole seconds: fromtimestamp rounds to the microsecond, which would put 23:59:59.9999996 in the next period.
    day = datetime.fromtimestamp(math.floor(at), UTC)
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def period_kind(key: str) -> Period:
    """Which kind of period a key names; raises ValueError for a malformed key."""
    period_bounds(key)
    return "month" if _MONTH.fullmatch(key) else "week"


def period_bounds(key: str) -> tuple[float, float]:
    """The period's start (inclusive) and end (exclusive), in epoch seconds; ValueError for a malformed key."""
    try:
        start, end = _dates(key)
    except ValueError as error:
        raise ValueError(f"period {key!r}: {error}") from None
    return _epoch(start), _epoch(end)


def _dates(key: str) -> tuple[date, date]:
    if month := _MONTH.fullmatch(key):
        year, number = int(month[1]), int(month[2])
        return date(year, number, 1), date(year + number // 12, number % 12 + 1, 1)
    if week := _WEEK.fullmatch(key):
        start = date.fromisocalendar(int(week[1]), int(week[2]), 1)
        try:
            return start, start + timedelta(days=7)
        except OverflowError:
            raise ValueError(f"{key}: the week ends past the last date there is") from None
    raise ValueError("expected YYYY-MM (a month) or YYYY-Www (an ISO week)")


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


# ---- the sampling plan -----------------------------------------------------------------------------------------


def sample(
    recordings: Iterable[Recording], grades: Mapping[str, str], settings: QaSettings, period: str, seed: str
) -> list[Recording]:
    """The recordings QA reviews for ``period``, sorted by agent then start.

    Per agent, ``per_agent`` times the weight of the agent's grade (halves round up), at least one and at most as
    many as the agent has eligible. Agents missing from ``grades`` count as ungraded.
    """
    if period_kind(period) != settings.period:
        raise ValueError(f"period {period!r} is not a {settings.period}")
    pool = sorted(eligible(recordings, settings, period), key=lambda rec: (rec.agent_id, rec.started_at, rec.name))
    chosen: list[Recording] = []
    for agent, group in groupby(pool, key=lambda rec: rec.agent_id):
        own = list(group)
        count = min(len(own), quota(grades.get(agent, "ungraded"), settings))
        # One generator per agent: adding or removing an agent leaves every other agent's sample as it was.
        picked = random.Random(f"{seed}/{period}/{agent}").sample(own, count)
        chosen += sorted(picked, key=lambda rec: (rec.started_at, rec.name))
    return chosen


def eligible(recordings: Iterable[Recording], settings: QaSettings, period: str) -> list[Recording]:
    """Finished recordings of the period, long enough to review, of a call an agent took."""
    start, end = period_bounds(period)
    return [
        rec
        for rec in recordings
        if rec.state == "done"
        and rec.agent_id
        and rec.duration >= settings.min_seconds
        and start <= rec.started_at < end
    ]


def quota(agent_grade: str, settings: QaSettings) -> int:
    """How many recordings to review for an agent of this grade; never fewer than one."""
    weight = settings.grade_weights.get(agent_grade, 1.0)
    return max(1, math.floor(settings.per_agent * weight + 0.5))


# ---- self-review -----------------------------------------------------------------------------------------------


def day_review(recordings: Iterable[Recording], agent_id: str, start: float, end: float) -> list[ReviewItem]:
    """The agent's own finished recordings that started in [start, end), oldest first."""
    own = sorted(
        (
            rec
            for rec in recordings
            if agent_id
            and rec.agent_id == agent_id
            and rec.state in ("done", "failed")
            and start <= rec.started_at < end
        ),
        key=lambda rec: (rec.started_at, rec.name),
    )
    return [
        ReviewItem(
            name=rec.name,
            call_id=rec.call_id,
            started_at=rec.started_at,
            duration=rec.duration,
            played=agent_id in rec.played_by,
        )
        for rec in own
    ]
