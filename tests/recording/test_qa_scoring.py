"""Scoring a recording against a form, and the grade an agent's recent scores make."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_ari.recording import (
    Criterion,
    GradeThresholds,
    InvalidScore,
    Score,
    ScoringForm,
    grade,
    period_bounds,
    score,
)

FORM = ScoringForm(
    title="Support",
    criteria={
        "greeting": Criterion(label="Greeting", weight=1.0, max_points=5),
        "resolution": Criterion(label="Resolution", weight=3.0, max_points=10),
    },
)
FULL = {"greeting": 5, "resolution": 10}


def scored(points: dict[str, Any], form: ScoringForm = FORM) -> Score:
    return score("support", form, points, recording="c1-r1", reviewer="qa1", agent_id="a1", at=1000.0)


class TestValidation:
    @pytest.mark.parametrize(
        ("points", "field"),
        [
            ({"greeting": 5}, "points.resolution"),  # not scored
            ({**FULL, "empathy": 3}, "points.empathy"),  # not on the form
            ({"greeting": 6, "resolution": 10}, "points.greeting"),  # above max_points
            ({"greeting": 5, "resolution": -1}, "points.resolution"),  # below zero
            ({"greeting": True, "resolution": 10}, "points.greeting"),  # a bool is not a score
        ],
    )
    def test_each_bad_point_names_its_criterion(self, points: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidScore) as caught:
            scored(points)
        assert caught.value.field == field
        assert str(caught.value).startswith(f"{field}: ")

    def test_a_form_without_criteria_is_named(self) -> None:
        with pytest.raises(InvalidScore) as caught:
            scored({}, ScoringForm(criteria={}))
        assert caught.value.field == "form"

    def test_a_valid_score_keeps_who_scored_what(self) -> None:
        result = score(
            "support", FORM, FULL, recording="c1-r1", reviewer="qa1", agent_id="a1", at=1000.0, comment="Well done"
        )
        assert result == Score(
            recording="c1-r1",
            reviewer="qa1",
            form="support",
            points=FULL,
            percent=100.0,
            at=1000.0,
            comment="Well done",
            agent_id="a1",
        )


class TestPercent:
    @pytest.mark.parametrize(
        ("points", "percent"),
        [
            ({"greeting": 5, "resolution": 10}, 100.0),
            ({"greeting": 0, "resolution": 0}, 0.0),
            ({"greeting": 5, "resolution": 0}, 25.0),  # weight 1 of 4
            ({"greeting": 0, "resolution": 10}, 75.0),  # weight 3 of 4
            ({"greeting": 5, "resolution": 5}, 62.5),  # (1 * 1 + 0.5 * 3) / 4
            ({"greeting": 1, "resolution": 7}, 57.5),  # (0.2 * 1 + 0.7 * 3) / 4
            ({"greeting": 2, "resolution": 3}, 32.5),  # (0.4 + 0.9) / 4
        ],
    )
    def test_percent_is_the_weighted_share_of_the_maximum(self, points: dict[str, int], percent: float) -> None:
        assert scored(points).percent == percent

    def test_percent_is_rounded_to_a_tenth(self) -> None:
        thirds = ScoringForm(criteria={"a": Criterion(label="A", max_points=3)})
        assert scored({"a": 1}, thirds).percent == 33.3

    @given(st.integers(0, 5), st.integers(0, 10), st.floats(0.01, 100), st.floats(0.01, 100))
    def test_percent_is_always_within_0_and_100(self, g: int, r: int, wg: float, wr: float) -> None:
        form = ScoringForm(
            criteria={
                "greeting": Criterion(label="G", weight=wg, max_points=5),
                "resolution": Criterion(label="R", weight=wr, max_points=10),
            }
        )
        assert 0.0 <= scored({"greeting": g, "resolution": r}, form).percent <= 100.0


class TestGrade:
    THRESHOLDS = GradeThresholds(good=85.0, poor=70.0, window=3)

    @pytest.mark.parametrize(
        ("percents", "expected"),
        [
            ([], "ungraded"),
            ([85.0], "good"),  # the good threshold is good
            ([84.9], "average"),
            ([70.0], "average"),  # the poor threshold is not poor
            ([69.9], "poor"),
            ([100.0, 70.0], "good"),  # the mean decides: 85
            ([100.0, 69.0], "average"),  # 84.5
            ([80.0, 59.0], "poor"),  # 69.5
        ],
    )
    def test_grade_is_set_by_the_mean_against_the_thresholds(self, percents: list[float], expected: str) -> None:
        assert grade(percents, self.THRESHOLDS) == expected

    def test_only_the_most_recent_window_counts(self) -> None:
        """Old poor scores are forgotten once the agent has ``window`` newer ones."""
        assert grade([10.0, 20.0, 90.0, 90.0, 90.0], self.THRESHOLDS) == "good"
        assert grade([90.0, 90.0, 90.0, 10.0, 20.0], self.THRESHOLDS) == "poor"


def test_the_last_week_a_date_can_hold_is_refused_not_overflowed() -> None:
    with pytest.raises(ValueError, match="past the last date"):
        period_bounds("9999-W52")
    assert period_bounds("9999-W51")[1] > period_bounds("9999-W51")[0]
