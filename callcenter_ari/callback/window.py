"""The callback window: the business hours, in a time zone, inside which callbacks are placed.

Read the way a campaign's calling hours are (``campaigns/hours.py``, which this reuses): ranges of wall-clock time
in the window's zone, on its days, except its holidays. A queue with no window calls back at any time.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from callcenter_ari.campaigns import hours
from callcenter_ari.ivr.config import WEEKDAYS, parse_range


class Window(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    zone: str = "UTC"
    calling_hours: tuple[str, ...] = ("09:00-18:00",)
    calling_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    holidays: tuple[str, ...] = ()  # "YYYY-MM-DD" once, "MM-DD" yearly

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"zone: unknown time zone {self.zone!r}") from None
        for text in self.calling_hours:
            if parse_range(text) is None:
                raise ValueError(f"calling_hours: {text!r} is not HH:MM-HH:MM")
        for day in self.calling_days:
            if day not in WEEKDAYS:
                raise ValueError(f"calling_days: {day!r} is not one of {', '.join(WEEKDAYS)}")


def next_open(window: Window | None, instant: float) -> float | None:
    """``instant`` if callbacks may be placed then, else when they next may; None if the window never opens."""
    if window is None:
        return instant
    return hours.next_open(window, window.zone, instant)
