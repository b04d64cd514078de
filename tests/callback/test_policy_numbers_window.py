"""The offer policy, the numbers a caller may leave, and the callback window."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from callcenter_ari.callback.numbers import NumberPlan, callback_number
from callcenter_ari.callback.policy import OfferPolicy, offer_check_at, offer_due
from callcenter_ari.callback.window import Window, next_open
from callcenter_ari.trunks import InvalidNumber


class TestOfferPolicy:
    def test_after_n_seconds_of_waiting(self) -> None:
        policy = OfferPolicy(offer_after=90)
        assert offer_check_at(policy, 1000.0) == 1090.0
        assert not offer_due(policy, 89, None) and offer_due(policy, 90, None)

    def test_when_the_estimated_wait_is_over_the_threshold(self) -> None:
        policy = OfferPolicy(offer_when_wait_over=300)
        assert offer_check_at(policy, 1000.0) is None
        assert not offer_due(policy, 5, 300) and offer_due(policy, 5, 301)
        assert not offer_due(policy, 5, None), "no estimate, no offer by estimate"

    def test_a_queue_without_either_offers_nothing_by_itself(self) -> None:
        assert not OfferPolicy().offers and not offer_due(OfferPolicy(), 10_000, 10_000)


class TestNumbers:
    PLAN = NumberPlan(region="US")

    def test_a_national_number_keyed_in(self) -> None:
        assert callback_number("2025550143", self.PLAN).e164 == "+12025550143"

    def test_the_callers_own_number_in_e164(self) -> None:
        assert callback_number("+12025550143", self.PLAN).e164 == "+12025550143"

    @pytest.mark.parametrize(
        "text",
        [
            "12",  # too short
            "2025550143#",  # not digits only
            "19005550123",  # premium rate
            "+4930123456",  # outside the plan's regions
            "0000000000",  # not a valid number
        ],
    )
    def test_refused(self, text: str) -> None:
        with pytest.raises(InvalidNumber):
            callback_number(text, self.PLAN)

    def test_other_regions_when_the_plan_allows_them(self) -> None:
        plan = NumberPlan(region="US", regions=("US", "DE"))
        assert callback_number("+4930123456", plan).e164 == "+4930123456"

    def test_an_unknown_region_is_a_configuration_error(self) -> None:
        with pytest.raises(ValueError, match="region"):
            NumberPlan(region="XX")


class TestWindow:
    def test_closed_at_night_opens_next_morning(self) -> None:
        zone = ZoneInfo("America/New_York")
        window = Window(zone="America/New_York", calling_hours=("09:00-17:00",))
        friday_evening = datetime(2026, 12, 4, 18, 0, tzinfo=zone).timestamp()
        monday_nine = datetime(2026, 12, 7, 9, 0, tzinfo=zone).timestamp()
        assert next_open(window, friday_evening) == monday_nine, "the weekend is skipped"
        assert next_open(window, monday_nine + 60) == monday_nine + 60

    def test_no_window_means_any_time(self) -> None:
        assert next_open(None, 123.0) == 123.0

    @pytest.mark.parametrize(
        ("field", "changes"),
        [
            ("zone", {"zone": "Mars/Olympus"}),
            ("calling_hours", {"calling_hours": ("9-5",)}),
            ("calling_days", {"calling_days": ("sunday",)}),
        ],
    )
    def test_bad_windows_are_refused(self, field: str, changes: dict[str, object]) -> None:
        with pytest.raises(ValueError, match=field):
            Window(**changes)  # type: ignore[arg-type]
