"""Calling hours in the lead's own time zone: is a moment inside them, and when do they next open.

Ranges are wall-clock times on the lead's clock ("08:00-11:00" is eight to eleven where the customer lives,
whatever the call center's zone), on the campaign's days, except its holidays. A range ends before its end minute,
and "24:00" ends a day at midnight, as the IVR's opening hours do (``ivr.config.parse_range``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from callcenter_ari.ivr.config import WEEKDAYS, parse_range


class CallingHours(Protocol):
    """What the hours are read from: a campaign's spec, a queue's callback window."""

    @property
    def calling_hours(self) -> Sequence[str]: ...
    @property
    def calling_days(self) -> Sequence[str]: ...
    @property
    def holidays(self) -> Sequence[str]: ...


HORIZON_DAYS = 60  # past this nothing opens: a campaign on holiday for two months is not calling anyone


def ranges(spec: CallingHours) -> list[tuple[int, int]]:
    """The calling hours as minutes since local midnight, in order; unparsable ranges are left out (checked
    before a spec is stored)."""
    return sorted(span for span in (parse_range(text) for text in spec.calling_hours) if span is not None)


def next_open(spec: CallingHours, zone: str, instant: float) -> float | None:
    """``instant`` itself if the calling hours are open then in ``zone``, else when they next open; None when they
    do not open within the horizon (no day or every day a holiday)."""
    tz = ZoneInfo(zone)
    today = datetime.fromtimestamp(instant, tz).date()
    spans = ranges(spec)
    for offset in range(HORIZON_DAYS):
        day = today + timedelta(days=offset)
        if not _calling_day(spec, day):
            continue
        for start, end in spans:
            opens, closes = _at(day, start, tz), _at(day, end, tz)
            if instant < closes:
                return max(opens, instant)
    return None


def is_open(spec: CallingHours, zone: str, instant: float) -> bool:
    return next_open(spec, zone, instant) == instant


def local_day(zone: str, instant: float) -> str:
    """The date in ``zone`` at ``instant`` (YYYY-MM-DD): the day a daily limit counts in."""
    return datetime.fromtimestamp(instant, ZoneInfo(zone)).date().isoformat()


def next_midnight(zone: str, instant: float) -> float:
    tz = ZoneInfo(zone)
    tomorrow = datetime.fromtimestamp(instant, tz).date() + timedelta(days=1)
    return _at(tomorrow, 0, tz)


def _calling_day(spec: CallingHours, day: date) -> bool:
    iso = day.isoformat()
    return WEEKDAYS[day.weekday()] in spec.calling_days and iso not in spec.holidays and iso[5:] not in spec.holidays


def _at(day: date, minute: int, tz: ZoneInfo) -> float:
    """The instant the clock in ``tz`` shows ``minute`` past midnight on ``day`` (24:00 is the next midnight)."""
    if minute >= 24 * 60:
        return _at(day + timedelta(days=1), minute - 24 * 60, tz)
    return datetime.combine(day, time(minute // 60, minute % 60), tz).timestamp()
