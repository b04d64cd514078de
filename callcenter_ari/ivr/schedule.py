"""Opening hours as a pure function of (schedule, instant).

The instant (seconds since the epoch) is turned into the schedule's local wall-clock time with zoneinfo, and the
wall-clock time is compared with the day's ranges. So "08:00-18:00" means eight to six on the office clock on
every day, including the two days a year when that day has 23 or 25 hours; a range that starts in the hour a
spring-forward skips simply starts when the clock shows a later time. Ranges end before their end minute
("08:00-18:00" is closed at 18:00:00), and "24:00" ends a day at midnight.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from callcenter_ari.ivr.config import WEEKDAYS, Schedule, parse_range

Route = Literal["open", "closed", "holiday"]


def route(schedule: Schedule, instant: float) -> Route:
    local = datetime.fromtimestamp(instant, ZoneInfo(schedule.timezone))
    day = local.date()
    if day.isoformat() in schedule.holidays or day.isoformat()[5:] in schedule.holidays:
        return "holiday"
    minute = local.hour * 60 + local.minute
    for text in schedule.hours.get(WEEKDAYS[local.weekday()], ()):
        span = parse_range(text)
        if span is not None and span[0] <= minute < span[1]:
            return "open"
    return "closed"
