"""Calibration between two reviewers of one recording, and an agent's review of their own day."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter_ari.recording import (
    Calibration,
    Criterion,
    ReviewItem,
    Score,
    ScoringForm,
    calibrate,
    day_review,
    score,
)
from tests.recording.helpers import DAY, NOV_1, recording

FORM = ScoringForm(
    criteria={
        "greeting": Criterion(label="Greeting", max_points=5),
        "resolution": Criterion(label="Resolution", weight=3.0, max_points=10),
    }
)


def by(reviewer: str, greeting: int, resolution: int, rec: str = "c1-r1", form: str = "support") -> Score:
    points = {"greeting": greeting, "resolution": resolution}
    return score(form, FORM, points, recording=rec, reviewer=reviewer, agent_id="a1", at=NOV_1)


class TestCalibration:
    def test_two_close_scores_agree_and_show_each_criterions_difference(self) -> None:
        first, second = by("qa1", 5, 8), by("qa2", 4, 8)  # 85.0 and 80.0
        assert calibrate(first, second, FORM, tolerance=10.0) == Calibration(
            recording="c1-r1",
            reviewers=("qa1", "qa2"),
            delta=-5.0,
            criteria={"greeting": -1, "resolution": 0},
            agreed=True,
        )

    def test_scores_further_apart_than_the_tolerance_disagree(self) -> None:
        result = calibrate(by("qa1", 5, 4), by("qa2", 5, 8), FORM, tolerance=10.0)  # 55.0 and 85.0
        assert (result.delta, result.criteria, result.agreed) == (30.0, {"greeting": 0, "resolution": 4}, False)

    def test_a_difference_of_exactly_the_tolerance_agrees(self) -> None:
        assert calibrate(by("qa1", 5, 10), by("qa2", 5, 8), FORM, tolerance=15.0).agreed  # 100.0 and 85.0

    @pytest.mark.parametrize(("other", "message"), [({"rec": "c2-r1"}, "recordings"), ({"form": "sales"}, "forms")])
    def test_scores_of_different_recordings_or_forms_are_not_compared(
        self, other: dict[str, str], message: str
    ) -> None:
        with pytest.raises(ValueError, match=message):
            calibrate(by("qa1", 5, 8), by("qa2", 5, 8, **other), FORM, tolerance=10.0)


class TestDayReview:
    START, END = NOV_1 + DAY, NOV_1 + 2 * DAY

    def test_an_agent_sees_their_own_recordings_of_the_day_oldest_first_with_what_they_played(self) -> None:
        recordings = [
            recording("c2-r1", started_at=self.START + 3600, duration=60.0),
            recording("c1-r1", started_at=self.START, duration=90.0, played_by=["sup1", "a1"]),
            recording("c3-r1", started_at=self.START + 7200, duration=45.0, played_by=["sup1"]),
        ]
        assert day_review(recordings, "a1", self.START, self.END) == [
            ReviewItem(name="c1-r1", call_id="c1", started_at=self.START, duration=90.0, played=True),
            ReviewItem(name="c2-r1", call_id="c2", started_at=self.START + 3600, duration=60.0, played=False),
            ReviewItem(name="c3-r1", call_id="c3", started_at=self.START + 7200, duration=45.0, played=False),
        ]

    @pytest.mark.parametrize(
        "override",
        [
            {"agent_id": "a2"},  # a colleague's call
            {"state": "deleted"},
            {"state": "recording"},  # nothing to play yet
            {"started_at": START - 1},
            {"started_at": END},  # the end is exclusive
        ],
    )
    def test_other_agents_deleted_running_and_out_of_range_recordings_are_left_out(
        self, override: dict[str, Any]
    ) -> None:
        assert day_review([recording(**{"started_at": self.START, **override})], "a1", self.START, self.END) == []

    def test_an_empty_agent_id_sees_nothing_not_the_calls_without_an_agent(self) -> None:
        assert day_review([recording(agent_id="", started_at=self.START)], "", self.START, self.END) == []
