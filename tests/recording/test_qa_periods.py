"""QA periods: UTC months and ISO weeks, their keys and their bounds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_ari.recording import Period, period_bounds, period_key


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("moment", "month", "week"),
    [
        ("2026-11-26T12:00:00", "2026-11", "2026-W48"),
        ("2026-11-01T00:00:00", "2026-11", "2026-W44"),  # a Sunday: the end of the week begun in October
        ("2026-12-31T23:59:59", "2026-12", "2026-W53"),  # 2026 has 53 ISO weeks
        ("2027-01-03T10:00:00", "2027-01", "2026-W53"),  # early January can belong to the last year's week
        ("2024-12-30T08:00:00", "2024-12", "2025-W01"),  # and late December to the next year's
    ],
)
def test_period_keys_are_utc_months_and_iso_weeks(moment: str, month: str, week: str) -> None:
    assert period_key(at(moment), "month") == month
    assert period_key(at(moment), "week") == week


@pytest.mark.parametrize(
    ("key", "start", "end"),
    [
        ("2026-11", "2026-11-01", "2026-12-01"),
        ("2026-12", "2026-12-01", "2027-01-01"),
        ("2024-02", "2024-02-01", "2024-03-01"),
        ("2026-W48", "2026-11-23", "2026-11-30"),
        ("2026-W53", "2026-12-28", "2027-01-04"),
        ("2025-W01", "2024-12-30", "2025-01-06"),
    ],
)
def test_period_bounds_start_inclusive_end_exclusive(key: str, start: str, end: str) -> None:
    assert period_bounds(key) == (at(start), at(end))


@pytest.mark.parametrize("key", ["2026-13", "2026-00", "2026-1", "2026-W00", "2027-W53", "2026-w48", "26-11", "", "x"])
def test_malformed_period_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="period"):
        period_bounds(key)


@given(st.floats(946_684_800, 4_102_444_800), st.sampled_from(("month", "week")))
def test_a_moment_lies_within_the_bounds_of_its_own_period(moment: float, period: Period) -> None:
    start, end = period_bounds(period_key(moment, period))
    assert start <= moment < end
