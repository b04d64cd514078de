"""The abandon ledger: the US rule's 30-day periods, Ofcom's calendar days with AMD false positives, headroom."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from callcenter_ari.dialer.ledger import AbandonLedger
from callcenter_ari.dialer.messages import Recorded
from callcenter_ari.dialer.settings import DAY, UK_OFCOM, US_TSR, AbandonRule, LedgerSettings

LONDON = ZoneInfo("Europe/London")


def fill(ledger: AbandonLedger, at: float, connected: int = 0, abandoned: int = 0, machines: int = 0) -> None:
    for n in range(connected):
        ledger.record(Recorded(at, f"c{at}-{n}", "connected"))
    for n in range(abandoned):
        ledger.record(Recorded(at, f"a{at}-{n}", "abandoned", message=n % 2 == 0))
    for n in range(machines):
        ledger.record(Recorded(at, f"m{at}-{n}", "machine"))


def local(year: int, month: int, day: int, hour: int = 0) -> float:
    return dt.datetime(year, month, day, hour, tzinfo=LONDON).timestamp()


class TestUsRule:
    def test_the_rate_counts_abandons_among_every_call_a_person_answered(self) -> None:
        """Answered includes the abandoned ones: 3 abandoned of 100 answered is 3 %."""
        ledger = AbandonLedger(LedgerSettings(rules=(US_TSR,)))
        fill(ledger, 10.0, connected=97, abandoned=3, machines=40)
        (figures,) = ledger.figures(20.0)
        assert (figures.answered, figures.abandoned, figures.machines, figures.messages) == (100, 3, 40, 2)
        assert figures.rate == pytest.approx(0.03)
        assert not figures.over

    def test_successive_thirty_day_periods_start_from_the_campaign(self) -> None:
        ledger = AbandonLedger(LedgerSettings(rules=(US_TSR,), started_at=1000.0))
        fill(ledger, 1000.0 + 29 * DAY, connected=100, abandoned=10)
        fill(ledger, 1000.0 + 31 * DAY, connected=50)
        (first,) = ledger.figures(1000.0 + 29.5 * DAY)
        (second,) = ledger.figures(1000.0 + 31 * DAY)
        assert (first.period_start, first.period_end) == (1000.0, 1000.0 + 30 * DAY)
        assert first.abandoned == 10
        assert (second.period_start, second.answered, second.abandoned) == (1000.0 + 30 * DAY, 50, 0)

    def test_over_the_limit_is_judged_only_with_enough_answered_calls(self) -> None:
        ledger = AbandonLedger(LedgerSettings(rules=(US_TSR,)))
        fill(ledger, 1.0, connected=40, abandoned=2)
        assert ledger.breaches(2.0) == []  # 4.8 % of 42: one abandon more or less decides it
        fill(ledger, 3.0, connected=58, abandoned=2)
        (breach,) = ledger.breaches(4.0)
        assert breach.rule == "us_tsr" and breach.rate == pytest.approx(4 / 102)


class TestUkRule:
    def test_calendar_days_begin_at_local_midnight_across_a_clock_change(self) -> None:
        """29 March 2026 has 23 hours in London."""
        ledger = AbandonLedger(LedgerSettings(rules=(UK_OFCOM,), timezone="Europe/London"))
        assert ledger.period(UK_OFCOM, local(2026, 3, 29, 12)) == (local(2026, 3, 29), local(2026, 3, 30))
        assert local(2026, 3, 30) - local(2026, 3, 29) == 23 * 3600

    def test_the_day_restarts_the_count(self) -> None:
        ledger = AbandonLedger(LedgerSettings(rules=(UK_OFCOM,), timezone="Europe/London"))
        fill(ledger, local(2026, 5, 4, 20), connected=10, abandoned=5)
        (today,) = ledger.figures(local(2026, 5, 5, 9))
        assert (today.answered, today.abandoned) == (0, 0)

    def test_the_false_positive_estimate_counts_as_abandoned_and_answered(self) -> None:
        """2 % of 500 machine verdicts were people: 10 more abandoned, 10 more answered."""
        ledger = AbandonLedger(LedgerSettings(rules=(UK_OFCOM,), amd_false_positive_share=0.02))
        fill(ledger, 5.0, connected=290, abandoned=0, machines=500)
        (figures,) = ledger.figures(6.0)
        assert figures.false_positives == pytest.approx(10.0)
        assert figures.rate == pytest.approx(10 / 300)
        assert figures.over


class TestHeadroom:
    def test_headroom_is_the_abandons_the_limit_still_allows(self) -> None:
        """(3 + a) / (200 + a) <= 3 %  <=>  a <= 3 / 0.97."""
        ledger = AbandonLedger(LedgerSettings(rules=(US_TSR,)))
        fill(ledger, 1.0, connected=197, abandoned=3)
        assert ledger.headroom(2.0) == pytest.approx(3 / 0.97)

    def test_a_new_campaign_has_none(self) -> None:
        assert AbandonLedger(LedgerSettings()).headroom(0.0) == 0.0

    def test_the_strictest_rule_in_force_sets_it(self) -> None:
        tight = AbandonRule(name="tight", limit=0.01)
        ledger = AbandonLedger(LedgerSettings(rules=(US_TSR, tight)))
        fill(ledger, 1.0, connected=100)
        assert ledger.headroom(2.0) == pytest.approx(1.0 / 0.99)


class TestStorage:
    def test_a_ledger_rebuilt_from_its_entries_has_the_same_figures(self) -> None:
        settings = LedgerSettings(rules=(US_TSR, UK_OFCOM), amd_false_positive_share=0.01)
        ledger = AbandonLedger(settings)
        fill(ledger, 100.0, connected=50, abandoned=1, machines=20)
        assert AbandonLedger(settings, ledger.entries).figures(200.0) == ledger.figures(200.0)

    def test_old_entries_are_forgotten_once_no_period_reaches_them(self) -> None:
        """Memory stays within twice what the 30-day view needs."""
        ledger = AbandonLedger(LedgerSettings(rules=(UK_OFCOM,)))
        for day in range(90):
            fill(ledger, day * DAY + 3600.0, connected=200)
        assert len(ledger.entries) <= 2 * 31 * 200
        assert ledger.rolling(90 * DAY, 30 * DAY).answered == 30 * 200

    def test_the_rolling_view_counts_the_last_seconds(self) -> None:
        ledger = AbandonLedger(LedgerSettings())
        fill(ledger, 10.0, connected=9, abandoned=1)
        fill(ledger, DAY + 10.0, connected=4)
        assert ledger.rolling(DAY + 20.0, DAY).answered == 4
        assert ledger.rolling(DAY + 20.0, 30 * DAY).rate == pytest.approx(1 / 14)
