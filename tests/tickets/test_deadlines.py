"""The 15-minute wrap-up deadline and escalation to the shift lead on duty, as pure functions of the time."""

from __future__ import annotations

import msgspec
import pytest

from callcenter_ari.tickets import (
    Contact,
    Roster,
    Shift,
    ShiftLead,
    complete_ticket,
    escalation_target,
    is_overdue,
    on_duty,
    open_ticket,
    overdue,
    overdue_at,
)
from callcenter_ari.tickets.model import Ticket
from tests.tickets.helpers import ENDED, facts, form

HOUR = 3600.0
LEAD_DAY = ShiftLead(contact=Contact(id="lead-day", name="Dana"), shifts=(Shift(ENDED, ENDED + 8 * HOUR),))
LEAD_NIGHT = ShiftLead(
    contact=Contact(id="lead-night", name="Nico"), shifts=(Shift(ENDED + 7.5 * HOUR, ENDED + 16 * HOUR),)
)
FALLBACK = Contact(id="duty-phone", name="Duty phone", phone="+15550000000")
ROSTER = Roster(fallback=FALLBACK, leads=(LEAD_DAY, LEAD_NIGHT))


def ticket() -> Ticket:
    return open_ticket(facts(), "T-2026-000001", ENDED + 1)


class TestOverdue:
    def test_the_deadline_is_fifteen_minutes_after_the_call_ended(self) -> None:
        assert overdue_at(ticket()) == ENDED + 900

    def test_an_open_ticket_is_overdue_from_its_deadline_on(self) -> None:
        assert not is_overdue(ticket(), ENDED + 899.9)
        assert is_overdue(ticket(), ENDED + 900)
        [late] = overdue([ticket()], ENDED + 901)
        assert late.overdue_notified_at == ENDED + 901

    def test_it_is_reported_only_once(self) -> None:
        [late] = overdue([ticket()], ENDED + 901)
        assert overdue([late], ENDED + 2000) == []

    def test_a_ticket_completed_in_time_is_never_overdue(self) -> None:
        done = complete_ticket(ticket(), form(), ENDED + 600)
        assert overdue([done], ENDED + 10_000) == []


class TestEscalation:
    @pytest.mark.parametrize(
        ("override", "reasons"),
        [
            ({"category": "complaint"}, ("complaint",)),
            ({"category": "request_for_help"}, ("request_for_help",)),
            ({"category": "inquiry", "urgent": True}, ("urgent",)),
            ({"category": "complaint", "urgent": True}, ("complaint", "urgent")),
            ({"category": "", "borderline": True, "candidates": ("inquiry", "suggestion")}, ("request_for_help",)),
        ],
    )
    def test_complaints_help_and_urgent_go_to_the_lead_on_duty(
        self, override: dict[str, object], reasons: tuple[str, ...]
    ) -> None:
        done = complete_ticket(ticket(), form(**override), ENDED + 60)
        target = escalation_target(done, ROSTER, now=ENDED + HOUR)
        assert target is not None
        assert (target.contact.id, target.role, target.reasons) == ("lead-day", "shift_lead", reasons)

    @pytest.mark.parametrize("category", ["inquiry", "suggestion"])
    def test_ordinary_tickets_are_not_escalated(self, category: str) -> None:
        done = complete_ticket(ticket(), form(category=category), ENDED + 60)
        assert escalation_target(done, ROSTER, now=ENDED + HOUR) is None

    def test_with_no_lead_on_duty_the_fallback_gets_it(self) -> None:
        done = complete_ticket(ticket(), form(category="complaint"), ENDED + 60)
        target = escalation_target(done, ROSTER, now=ENDED + 20 * HOUR)
        assert target is not None and (target.contact, target.role) == (FALLBACK, "fallback")
        empty = Roster(fallback=FALLBACK)
        assert escalation_target(done, empty, now=ENDED) == msgspec.structs.replace(target)

    def test_at_a_handover_the_incoming_lead_takes_it(self) -> None:
        lead = on_duty(ROSTER, ENDED + 7.75 * HOUR)
        assert lead is not None and lead.contact.id == "lead-night"

    def test_a_shift_ends_exactly_at_its_end(self) -> None:
        lone = Roster(fallback=FALLBACK, leads=(LEAD_DAY,))
        assert on_duty(lone, ENDED) is LEAD_DAY
        assert on_duty(lone, ENDED + 8 * HOUR) is None
