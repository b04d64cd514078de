"""Opening hours as a pure function of (schedule, instant): midnight, holidays, both DST changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import msgspec
import pytest

from callcenter_ari.ivr import Schedule, route

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

OFFICE = msgspec.convert(
    {
        "timezone": "Europe/Berlin",
        "hours": {
            "mon": ["08:00-12:00", "13:00-18:00"],
            "fri": ["22:00-24:00"],
            "sat": ["00:00-02:00"],
            "sun": ["01:00-04:00"],
        },
        "holidays": ["12-25", "2026-04-06"],
    },
    Schedule,
    strict=True,
)


def at(*args: int, tz: ZoneInfo = BERLIN) -> float:
    return datetime(*args, tzinfo=tz).timestamp()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ((2026, 1, 5, 7, 59, 59), "closed"),  # a Monday, just before opening
        ((2026, 1, 5, 8, 0), "open"),
        ((2026, 1, 5, 11, 59, 59), "open"),
        ((2026, 1, 5, 12, 0), "closed"),  # lunch
        ((2026, 1, 5, 17, 59, 59), "open"),
        ((2026, 1, 5, 18, 0), "closed"),  # the end minute is closed
        ((2026, 1, 6, 10, 0), "closed"),  # Tuesday has no hours
    ],
)
def test_ranges_include_their_start_and_exclude_their_end(when: tuple[int, ...], expected: str) -> None:
    assert route(OFFICE, at(*when)) == expected


def test_midnight_belongs_to_the_new_day() -> None:
    """Friday 22:00-24:00 and Saturday 00:00-02:00 join up at midnight with no gap and no overlap."""
    assert route(OFFICE, at(2026, 1, 9, 23, 59, 59)) == "open"
    assert route(OFFICE, at(2026, 1, 10, 0, 0)) == "open"
    assert route(OFFICE, at(2026, 1, 10, 2, 0)) == "closed"
    assert route(OFFICE, at(2026, 1, 9, 21, 59)) == "closed"


def test_holidays_every_year_and_once() -> None:
    assert route(OFFICE, at(2028, 12, 25, 10, 0)) == "holiday"  # "12-25" repeats
    assert route(OFFICE, at(2026, 4, 6, 10, 0)) == "holiday"  # a Monday, normally open
    assert route(OFFICE, at(2027, 4, 5, 10, 0)) == "open"  # a Monday; the dated holiday was in 2026


def test_holiday_is_judged_by_the_local_date_not_utc() -> None:
    """23:30 UTC on 24 December is already the 25th in Berlin."""
    instant = datetime(2026, 12, 24, 23, 30, tzinfo=UTC).timestamp()
    assert route(OFFICE, instant) == "holiday"


def test_spring_forward_uses_the_wall_clock() -> None:
    """On 2026-03-29 Berlin clocks jump 02:00 -> 03:00; Sunday opens 01:00-04:00 local."""
    before = datetime(2026, 3, 29, 0, 59, tzinfo=UTC).timestamp()  # 01:59 CET
    after = datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp()  # 03:00 CEST, one second later on the wall clock
    closing = datetime(2026, 3, 29, 2, 0, tzinfo=UTC).timestamp()  # 04:00 CEST
    assert route(OFFICE, before) == "open"
    assert route(OFFICE, after) == "open"
    assert route(OFFICE, closing) == "closed"
    # The range lasted two real hours that day, not three.
    opened = datetime(2026, 3, 29, 0, 0, tzinfo=UTC).timestamp()  # 01:00 CET
    assert route(OFFICE, opened) == "open"
    assert route(OFFICE, opened - 1) == "closed"


def test_fall_back_uses_the_wall_clock_both_times_round() -> None:
    """On 2026-10-25 Berlin clocks go 03:00 -> 02:00: 02:30 happens twice, open both times; 04:00 closes."""
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC).timestamp()  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC).timestamp()  # 02:30 CET
    assert route(OFFICE, first) == "open"
    assert route(OFFICE, second) == "open"
    assert route(OFFICE, datetime(2026, 10, 25, 2, 59, tzinfo=UTC).timestamp()) == "open"  # 03:59 CET
    assert route(OFFICE, datetime(2026, 10, 25, 3, 0, tzinfo=UTC).timestamp()) == "closed"  # 04:00 CET


def test_the_same_instant_differs_by_time_zone() -> None:
    ny = msgspec.convert({"timezone": "America/New_York", "hours": {"mon": ["09:00-17:00"]}}, Schedule, strict=True)
    berlin = msgspec.convert({"timezone": "Europe/Berlin", "hours": {"mon": ["09:00-17:00"]}}, Schedule, strict=True)
    instant = at(2026, 1, 5, 10, 0, tz=NEW_YORK)  # 16:00 in Berlin
    assert route(ny, instant) == "open"
    assert route(berlin, instant) == "open"
    assert route(berlin, instant + 3600) == "closed"
    assert route(ny, instant + 3600) == "open"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"hours": {"mon": ["8-18"]}}, "hours.mon: '8-18' is not a range"),
        ({"hours": {"mon": ["18:00-08:00"]}}, "hours.mon: '18:00-08:00' is not a range"),
        ({"hours": {"mon": ["08:00-24:01"]}}, "is not a range"),
        ({"hours": {"monday": ["08:00-18:00"]}}, "hours.monday: not a weekday"),
        ({"holidays": ["25.12."]}, "holidays: '25.12.' is not a date"),
    ],
)
def test_malformed_hours_fail_to_decode_naming_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        msgspec.convert({"timezone": "Europe/Berlin", **raw}, Schedule, strict=True)
