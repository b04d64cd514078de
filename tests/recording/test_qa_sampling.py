"""The QA sampling plan: which recordings of a period each agent gets reviewed, weighted toward weaker grades."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_ari.recording import QaSettings, Recording, quota, sample
from tests.recording.helpers import DAY, NOV_1, recording

SETTINGS = QaSettings(per_agent=5, min_seconds=30.0)
GRADES = {"a1": "poor", "a2": "average", "a3": "good"}


def calls(agent: str, count: int = 20, **override: Any) -> list[Recording]:
    return [
        recording(f"{agent}c{n:03d}-r1", agent_id=agent, started_at=NOV_1 + n * DAY / 2, **override)
        for n in range(count)
    ]


POOL = calls("a1") + calls("a2") + calls("a3")


def names(recordings: list[Recording]) -> list[str]:
    return [rec.name for rec in recordings]


class TestCounts:
    def test_per_agent_counts_follow_the_grade_weights(self) -> None:
        """5 per agent: poor x1.6 = 8, average x1.0 = 5, good x0.8 = 4."""
        picked = Counter(rec.agent_id for rec in sample(POOL, GRADES, SETTINGS, "2026-11", "s1"))
        assert picked == {"a1": 8, "a2": 5, "a3": 4}

    def test_an_agent_without_a_grade_counts_as_ungraded(self) -> None:
        picked = sample(calls("a9"), {}, SETTINGS, "2026-11", "s1")
        assert len(picked) == 5

    def test_an_agent_with_few_recordings_gives_what_they_have(self) -> None:
        assert len(sample(calls("a1", 3), GRADES, SETTINGS, "2026-11", "s1")) == 3

    def test_every_agent_with_an_eligible_recording_gets_at_least_one_reviewed(self) -> None:
        tiny = QaSettings(per_agent=1, grade_weights={"good": 0.2})
        assert len(sample(calls("a3"), GRADES, tiny, "2026-11", "s1")) == 1

    @pytest.mark.parametrize(("per_agent", "weight", "expected"), [(5, 1.5, 8), (3, 1.5, 5), (5, 0.3, 2), (5, 1.0, 5)])
    def test_halves_round_up(self, per_agent: int, weight: float, expected: int) -> None:
        assert quota("poor", QaSettings(per_agent=per_agent, grade_weights={"poor": weight})) == expected


class TestEligibility:
    @pytest.mark.parametrize(
        "override",
        [
            {"state": "failed"},
            {"state": "recording"},
            {"state": "deleted"},
            {"duration": 29.9},  # shorter than min_seconds
            {"agent_id": ""},  # nobody to review
            {"started_at": NOV_1 - 1},  # October
            {"started_at": NOV_1 + 30 * DAY},  # December 1st: the end is exclusive
        ],
    )
    def test_ineligible_recordings_are_never_sampled(self, override: dict[str, Any]) -> None:
        assert sample([recording(**override)], GRADES, SETTINGS, "2026-11", "s1") == []

    def test_a_recording_of_exactly_min_seconds_on_the_first_instant_is_eligible(self) -> None:
        rec = recording(duration=30.0, started_at=NOV_1)
        assert sample([rec], GRADES, SETTINGS, "2026-11", "s1") == [rec]

    def test_a_key_of_the_wrong_kind_of_period_is_refused(self) -> None:
        with pytest.raises(ValueError, match="not a month"):
            sample(POOL, GRADES, SETTINGS, "2026-W45", "s1")


class TestReproducibility:
    def test_the_same_seed_draws_the_same_sample_whatever_the_input_order(self) -> None:
        first = sample(POOL, GRADES, SETTINGS, "2026-11", "s1")
        again = sample(list(reversed(POOL)), GRADES, SETTINGS, "2026-11", "s1")
        assert names(first) == names(again)

    def test_another_seed_draws_another_sample(self) -> None:
        assert names(sample(POOL, GRADES, SETTINGS, "2026-11", "s1")) != names(
            sample(POOL, GRADES, SETTINGS, "2026-11", "s2")
        )

    def test_adding_an_agent_leaves_the_other_agents_samples_as_they_were(self) -> None:
        before = sample(calls("a1") + calls("a3"), GRADES, SETTINGS, "2026-11", "s1")
        after = sample(calls("a1") + calls("a2") + calls("a3"), GRADES, SETTINGS, "2026-11", "s1")
        assert names([rec for rec in after if rec.agent_id != "a2"]) == names(before)

    def test_the_sample_is_sorted_by_agent_then_start(self) -> None:
        picked = sample(list(reversed(POOL)), GRADES, SETTINGS, "2026-11", "s1")
        assert picked == sorted(picked, key=lambda rec: (rec.agent_id, rec.started_at))


@given(
    st.lists(st.tuples(st.sampled_from(["a1", "a2", "a3", "a4"]), st.floats(0, 29 * DAY)), max_size=60),
    st.integers(1, 10),
    st.text(max_size=8),
)
def test_no_agent_gets_more_than_their_quota_or_their_own_recordings(
    spec: list[tuple[str, float]], per_agent: int, seed: str
) -> None:
    settings = QaSettings(per_agent=per_agent)
    recordings = [recording(f"c{n}-r1", agent_id=agent, started_at=NOV_1 + t) for n, (agent, t) in enumerate(spec)]
    picked = sample(recordings, GRADES, settings, "2026-11", seed)
    have = Counter(rec.agent_id for rec in recordings)
    for agent, count in Counter(rec.agent_id for rec in picked).items():
        assert 1 <= count <= min(have[agent], quota(GRADES.get(agent, "ungraded"), settings))
    assert set(Counter(rec.agent_id for rec in picked)) == set(have)
    assert len({rec.name for rec in picked}) == len(picked)
