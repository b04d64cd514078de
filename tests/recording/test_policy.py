"""Which calls a policy records: every one, none, or a reproducible share of them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_ari.recording import RecordingPolicy, sample_point, should_record

CALL_IDS = [f"c{n:06d}" for n in range(20_000)]


def recorded(percent: float, salt: str = "") -> set[str]:
    policy = RecordingPolicy(mode="sampled", percent=percent)
    return {call for call in CALL_IDS if should_record(policy, call, salt)}


def test_mode_all_records_every_call() -> None:
    assert all(should_record(RecordingPolicy(mode="all", percent=0.0), call) for call in CALL_IDS[:100])


def test_mode_none_records_no_call() -> None:
    assert not any(should_record(RecordingPolicy(mode="none", percent=100.0), call) for call in CALL_IDS[:100])


@pytest.mark.parametrize("percent", [10.0, 37.5, 90.0])
def test_sampled_share_of_calls_holds_the_configured_percent(percent: float) -> None:
    share = len(recorded(percent)) / len(CALL_IDS) * 100
    # 20,000 calls: the standard deviation is under 0.35 points, so 1.5 points is more than four of them.
    assert abs(share - percent) < 1.5


def test_sampled_at_zero_and_hundred_percent_records_none_and_all() -> None:
    assert recorded(0.0) == set()
    assert recorded(100.0) == set(CALL_IDS)


def test_the_decision_is_fixed_by_call_id_and_salt_across_processes() -> None:
    """The point is a hash, not a draw: these values hold on any machine and after any restart."""
    assert sample_point("c000001") == pytest.approx(95.4261, abs=1e-4)
    assert sample_point("c000001", "spring") == pytest.approx(36.9685, abs=1e-4)
    assert recorded(37.5, "spring") == recorded(37.5, "spring")


def test_a_higher_percent_records_the_same_calls_and_more() -> None:
    assert recorded(10.0) < recorded(37.5) < recorded(90.0)


def test_another_salt_records_other_calls_at_the_same_rate() -> None:
    plain, salted = recorded(50.0), recorded(50.0, "2026-rotation")
    assert abs(len(plain) - len(salted)) < 0.03 * len(CALL_IDS)
    assert len(plain ^ salted) > 0.4 * len(CALL_IDS)  # about half would change places by chance


def test_salt_and_call_id_do_not_run_together() -> None:
    assert sample_point("bc", "a") != sample_point("c", "ab")


@given(st.text(), st.text())
def test_sample_point_is_a_percentage_below_a_hundred(call_id: str, salt: str) -> None:
    assert 0.0 <= sample_point(call_id, salt) < 100.0
