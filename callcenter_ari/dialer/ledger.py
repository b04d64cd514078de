"""The abandon ledger of one campaign: every call answered by a person (connected or abandoned) and every machine
verdict, with its time, and the rates the rules measure.

A rule measures fixed periods (successive 30 days from the campaign's start, or calendar days), so its rate in the
current period is ``abandoned / answered`` over the entries since the period began, where "answered" counts every
call a person answered, abandoned ones included. With ``amd_false_positives`` the reasoned estimate of people taken
for machines (``amd_false_positive_share`` of the machine verdicts) is added to both counts. ``headroom`` is how
many more abandons the current periods allow right now, which is what the pacer spends.

Entries arrive in time order and are kept in one list with running totals, so any window is two binary searches.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import msgspec

from callcenter_ari.dialer.messages import Recorded
from callcenter_ari.dialer.settings import DAY, AbandonRule, LedgerSettings

THIRTY_DAYS = 30 * DAY


class RuleFigures(msgspec.Struct, frozen=True, kw_only=True):
    """A rule's figures for its current period. ``answered`` and ``abandoned`` include the false-positive estimate
    when the rule counts it (``false_positives``); ``over`` is set once the rate passes the limit with the rule's
    ``judge_after`` answered calls in the period (``judged``)."""

    rule: str
    limit: float
    period_start: float
    period_end: float
    answered: float
    abandoned: float
    messages: int
    machines: int
    false_positives: float
    rate: float
    judged: bool
    over: bool


class Rolling(msgspec.Struct, frozen=True, kw_only=True):
    seconds: float
    answered: int
    abandoned: int
    rate: float


class _Totals:
    """Running totals, one element per entry plus a leading zero."""

    __slots__ = ("abandoned", "answered", "machines", "messages")

    def __init__(self) -> None:
        self.answered = [0]
        self.abandoned = [0]
        self.messages = [0]
        self.machines = [0]

    def append(self, entry: Recorded) -> None:
        self.answered.append(self.answered[-1] + (entry.kind != "machine"))
        self.abandoned.append(self.abandoned[-1] + (entry.kind == "abandoned"))
        self.messages.append(self.messages[-1] + (entry.kind == "abandoned" and entry.message))
        self.machines.append(self.machines[-1] + (entry.kind == "machine"))


class AbandonLedger:
    def __init__(self, settings: LedgerSettings, entries: Iterable[Recorded] = ()) -> None:
        self.settings = settings
        self._zone = ZoneInfo(settings.timezone)
        self._day: tuple[float, float] = (math.inf, -math.inf)
        self.entries: list[Recorded] = []
        self._times: list[float] = []
        self._totals = _Totals()
        for entry in entries:
            self.record(entry)

    def record(self, entry: Recorded) -> None:
        if self._times and entry.at < self._times[-1]:
            entry = msgspec.structs.replace(entry, at=self._times[-1])  # one clock, but be safe: keep the order
        self.entries.append(entry)
        self._times.append(entry.at)
        self._totals.append(entry)
        if len(self.entries) >= 4096:
            self._prune(entry.at)

    # ---- figures ----------------------------------------------------------------------------------------

    def figures(self, now: float) -> tuple[RuleFigures, ...]:
        return tuple(self._figures(rule, now) for rule in self.settings.rules)

    def headroom(self, now: float) -> float:
        """How many more abandons every rule's current period allows now (negative: already over)."""
        room = math.inf
        for rule in self.settings.rules:
            figures = self._figures(rule, now)
            room = min(room, (rule.limit * figures.answered - figures.abandoned) / (1.0 - rule.limit))
        return room

    def breaches(self, now: float) -> list[RuleFigures]:
        return [figures for figures in self.figures(now) if figures.over]

    def rolling(self, now: float, seconds: float) -> Rolling:
        """The last ``seconds`` (a 24-hour or 30-day view for the campaign statistics; the rules use periods)."""
        first = bisect_left(self._times, now - seconds)
        totals = self._totals
        answered = totals.answered[-1] - totals.answered[first]
        abandoned = totals.abandoned[-1] - totals.abandoned[first]
        return Rolling(seconds=seconds, answered=answered, abandoned=abandoned, rate=_rate(abandoned, answered))

    def period(self, rule: AbandonRule, now: float) -> tuple[float, float]:
        if rule.period == "30_days":
            index = math.floor((now - self.settings.started_at) / THIRTY_DAYS)
            start = self.settings.started_at + index * THIRTY_DAYS
            return start, start + THIRTY_DAYS
        if not self._day[0] <= now < self._day[1]:
            self._day = _local_day(now, self._zone)
        return self._day

    # ---- internals ------------------------------------------------------------------------------------------

    def _figures(self, rule: AbandonRule, now: float) -> RuleFigures:
        start, end = self.period(rule, now)
        first = bisect_left(self._times, start)
        totals = self._totals
        machines = totals.machines[-1] - totals.machines[first]
        false_positives = self._false_positives(rule, machines)
        answered = totals.answered[-1] - totals.answered[first] + false_positives
        abandoned = totals.abandoned[-1] - totals.abandoned[first] + false_positives
        rate = _rate(abandoned, answered)
        judged = answered >= rule.judge_after
        return RuleFigures(
            rule=rule.name,
            limit=rule.limit,
            period_start=start,
            period_end=end,
            answered=answered,
            abandoned=abandoned,
            messages=totals.messages[-1] - totals.messages[first],
            machines=machines,
            false_positives=false_positives,
            rate=rate,
            judged=judged,
            over=judged and rate > rule.limit,
        )

    def _false_positives(self, rule: AbandonRule, machines: int) -> float:
        return machines * self.settings.amd_false_positive_share if rule.amd_false_positives else 0.0

    def _prune(self, now: float) -> None:
        """Forget entries that no current period and no 30-day view can reach any more."""
        keep_from = min([now - THIRTY_DAYS] + [self.period(rule, now)[0] for rule in self.settings.rules])
        first = bisect_left(self._times, keep_from)
        if first < len(self.entries) // 2:
            return
        kept = self.entries[first:]
        self.entries, self._times, self._totals = [], [], _Totals()
        for entry in kept:
            self.entries.append(entry)
            self._times.append(entry.at)
            self._totals.append(entry)


def _rate(abandoned: float, answered: float) -> float:
    return abandoned / answered if answered > 0 else 0.0


def _local_day(now: float, zone: ZoneInfo) -> tuple[float, float]:
    """The calendar day holding ``now`` in ``zone``, as [midnight, next midnight) in epoch seconds (DST-aware)."""
    day = dt.datetime.fromtimestamp(now, zone).date()
    start = dt.datetime.combine(day, dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    return start.timestamp(), end.timestamp()
