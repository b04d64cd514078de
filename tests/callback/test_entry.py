"""A callback's life with a controlled clock: in line at its place, claimed, retried inside the window, expired,
cancelled, rescheduled; agent-only falling back to anyone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from callcenter_ari.callback.entry import (
    NotNow,
    Rules,
    back_in_line,
    cancel,
    claim,
    connected,
    dialled,
    next_wake,
    not_reached,
    overdue,
    request,
    reschedule,
    wake,
    wanted_agent,
)
from callcenter_ari.callback.window import Window

BERLIN = ZoneInfo("Europe/Berlin")
NUMBER = "+4930123456"


def at(text: str) -> float:
    """A wall-clock time in Berlin ("2026-12-07 10:00", a Monday) as a timestamp."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp()


MONDAY_10 = at("2026-12-07 10:00")
WINDOW = Window(zone="Europe/Berlin", calling_hours=("09:00-12:00", "13:00-17:00"))
RULES = Rules(max_attempts=3, retry_seconds=600, expire_after_seconds=3 * 86_400, window=WINDOW)


def held(now: float = MONDAY_10, place: float | None = None, rules: Rules = RULES, **extra: object):
    return request(
        callback_id="k1",
        queue="support",
        number=NUMBER,
        origin="virtual_hold",
        rules=rules,
        now=now,
        place=now - 120 if place is None else place,
        **extra,  # type: ignore[arg-type]
    )


def kinds(step) -> list[str]:  # type: ignore[no-untyped-def]
    return [kind for kind, _ in step.events]


class TestRequest:
    def test_virtual_hold_goes_in_line_at_the_callers_arrival(self) -> None:
        step = held(place=MONDAY_10 - 300)
        assert step.entry.state == "due" and step.entry.place == MONDAY_10 - 300
        assert kinds(step) == ["callback.requested"]
        _, fields = step.events[0]
        assert fields["queue"] == "support" and fields["callback_id"] == "k1" and fields["number"] == NUMBER

    def test_outside_the_window_it_waits_for_the_next_opening(self) -> None:
        evening = at("2026-12-07 19:30")
        step = held(now=evening)
        assert step.entry.state == "requested"
        assert step.entry.not_before == at("2026-12-08 09:00")
        assert wake(step.entry, RULES, at("2026-12-08 08:59")).entry.state == "requested"
        morning = wake(step.entry, RULES, at("2026-12-08 09:00")).entry
        assert morning.state == "due" and morning.place == step.entry.place, "its place does not move"

    def test_scheduled_for_tomorrow_at_ten_goes_in_line_then_with_that_place(self) -> None:
        tomorrow = at("2026-12-08 10:00")
        step = request(
            callback_id="k2",
            queue="support",
            number=NUMBER,
            origin="scheduled",
            rules=RULES,
            now=MONDAY_10,
            at=tomorrow,
        )
        assert step.entry.state == "requested" and next_wake(step.entry) == tomorrow
        due = wake(step.entry, RULES, tomorrow).entry
        assert due.state == "due" and due.place == tomorrow

    def test_a_ticket_deadline_bounds_the_callback(self) -> None:
        step = held(deadline=MONDAY_10 + 3600)
        assert step.entry.expires_at == MONDAY_10 + 3600
        late = overdue(step.entry, MONDAY_10 + 3600)
        assert late.entry.state == "expired" and kinds(late) == ["callback.expired"]
        assert late.events[0][1]["reason"] == "deadline"


class TestAttempts:
    def test_claimed_dialled_connected(self) -> None:
        entry = claim(held().entry, RULES, MONDAY_10).entry
        assert entry.state == "dialing" and entry.attempts == 0
        step = dialled(entry, MONDAY_10 + 1, "a1")
        assert step.entry.attempts == 1 and kinds(step) == ["callback.attempted"]
        done = connected(step.entry, MONDAY_10 + 20, "a1")
        assert done.entry.state == "connected" and kinds(done) == ["callback.connected"]
        with pytest.raises(NotNow):
            claim(done.entry, RULES, MONDAY_10 + 30)

    def test_claimed_once(self) -> None:
        entry = claim(held().entry, RULES, MONDAY_10).entry
        with pytest.raises(NotNow):
            claim(entry, RULES, MONDAY_10)

    def test_no_answer_retries_after_the_interval(self) -> None:
        entry = dialled(claim(held().entry, RULES, MONDAY_10).entry, MONDAY_10, "a1").entry
        step = not_reached(entry, RULES, MONDAY_10 + 30, "no_answer")
        assert step.entry.state == "retry" and step.entry.not_before == MONDAY_10 + 630
        assert kinds(step) == ["callback.failed"] and step.events[0][1]["retry"] is True
        assert wake(step.entry, RULES, MONDAY_10 + 629).entry.state == "retry"
        again = wake(step.entry, RULES, MONDAY_10 + 630).entry
        assert again.state == "due" and again.place == entry.place, "a retry keeps its place"

    def test_a_retry_that_would_fall_at_lunch_waits_for_the_afternoon(self) -> None:
        before_lunch = at("2026-12-07 11:55")
        entry = dialled(claim(held(now=before_lunch).entry, RULES, before_lunch).entry, before_lunch, "a1").entry
        step = not_reached(entry, RULES, before_lunch, "busy")
        assert step.entry.not_before == at("2026-12-07 13:00")

    def test_after_the_last_attempt_it_expires(self) -> None:
        entry = held().entry
        now = MONDAY_10
        for attempt in range(1, 4):
            entry = dialled(claim(entry, RULES, now).entry, now, "a1").entry
            step = not_reached(entry, RULES, now, "no_answer")
            if attempt < 3:
                assert step.entry.state == "retry"
                now = step.entry.not_before or now
                entry = wake(step.entry, RULES, now).entry
        assert step.entry.state == "expired" and step.entry.attempts == 3
        assert kinds(step) == ["callback.failed", "callback.expired"]
        assert step.events[1][1]["reason"] == "attempts"

    def test_a_retry_past_the_deadline_expires_instead(self) -> None:
        entry = held(deadline=MONDAY_10 + 300).entry
        entry = dialled(claim(entry, RULES, MONDAY_10).entry, MONDAY_10, "a1").entry
        step = not_reached(entry, RULES, MONDAY_10 + 30, "busy")
        assert step.entry.state == "expired" and step.events[-1][1]["reason"] == "deadline"

    def test_claimed_outside_the_window_waits_without_an_attempt(self) -> None:
        entry = held().entry
        step = claim(entry, RULES, at("2026-12-07 12:30"))
        assert step.entry.state == "requested"
        assert step.entry.not_before == at("2026-12-07 13:00") and step.entry.attempts == 0

    def test_agent_not_answering_puts_it_back_in_line_without_an_attempt(self) -> None:
        entry = claim(held().entry, RULES, MONDAY_10).entry
        back = back_in_line(entry, MONDAY_10 + 15).entry
        assert back.state == "due" and back.attempts == 0 and back.place == entry.place


class TestPeople:
    def test_cancelled_while_waiting_not_while_dialing(self) -> None:
        step = cancel(held().entry, MONDAY_10, "crm")
        assert step.entry.state == "cancelled" and kinds(step) == ["callback.cancelled"]
        with pytest.raises(NotNow):
            cancel(claim(held().entry, RULES, MONDAY_10).entry, MONDAY_10, "crm")

    def test_rescheduled_to_a_later_time(self) -> None:
        later = at("2026-12-09 15:00")
        step = reschedule(held().entry, RULES, later, MONDAY_10)
        assert step.entry.state == "requested" and step.entry.not_before == later and step.entry.place == later
        assert wake(step.entry, RULES, later).entry.state == "due"


class TestAgentOnly:
    def test_for_its_agent_then_for_anyone(self) -> None:
        rules = Rules(anyone_after_seconds=900)
        step = request(
            callback_id="k3",
            queue="support",
            number=NUMBER,
            origin="scheduled",
            rules=rules,
            now=MONDAY_10,
            agent="a7",
        )
        entry = step.entry
        assert entry.state == "due"
        assert wanted_agent(entry, MONDAY_10) == "a7"
        assert wanted_agent(entry, MONDAY_10 + 899) == "a7"
        assert wanted_agent(entry, MONDAY_10 + 900) == ""
        assert next_wake(entry) == MONDAY_10 + 900, "the service looks again when it falls back"
