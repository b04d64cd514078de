"""Opening and completing a ticket: each required field, each category, the borderline rule, numbering."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter_ari.tickets import (
    CATEGORIES,
    TicketAlreadyCompleted,
    TicketValidationError,
    complete_ticket,
    file_category,
    format_number,
    open_ticket,
)
from callcenter_ari.tickets.model import Ticket
from callcenter_ari.tickets.rules import name_key, normalize_number, phone_digits
from tests.tickets.helpers import ENDED, facts, form

NOW = ENDED + 60


def opened(**override: Any) -> Ticket:
    return open_ticket(facts(**override), "T-2026-000001", ENDED + 1)


def test_a_completed_ticket_has_every_part_of_the_work_order() -> None:
    done = complete_ticket(opened(), form(), NOW)
    assert done.status == "completed" and done.completed_at == NOW
    assert done.title == "Main Street 5: Street light out"
    assert done.description is not None
    assert (done.description.time, done.description.place) == ("yesterday around 18:00", "Main Street 5")
    assert done.description.request == "Repair it"
    assert done.answer_basis == "Street lighting service level, KB-112"
    assert (done.number, done.call_id, done.agent_id, done.queue, done.tenant) == (
        "T-2026-000001",
        "c1",
        "a1",
        "support",
        "t1",
    )
    assert done.caller_number == "+1 (555) 123-4567" and done.customer_name == "Anna Müller"


@pytest.mark.parametrize(
    ("field", "override"),
    [
        ("category", {"category": ""}),
        ("customer_name", {"customer_name": "  "}),
        ("place", {"place": ""}),
        ("summary", {"summary": ""}),
        ("description.time", {"time": ""}),
        ("description.what_happened", {"what_happened": " "}),
        ("description.request", {"request": ""}),
        ("answer", {"answer": ""}),
        ("answer_basis", {"answer_basis": ""}),
    ],
)
def test_each_required_field_is_named_when_missing(field: str, override: dict[str, object]) -> None:
    ticket = opened(customer_name="")  # no name from the call either
    with pytest.raises(TicketValidationError) as caught:
        complete_ticket(ticket, form(**override), NOW)
    assert caught.value.fields == [field]
    assert field in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(TicketValidationError) as caught:
        complete_ticket(opened(), form(place="", summary="", answer=""), NOW)
    assert caught.value.fields == ["place", "summary", "answer"]


def test_a_withheld_number_must_be_asked_for() -> None:
    ticket = opened(caller_number="")
    with pytest.raises(TicketValidationError) as caught:
        complete_ticket(ticket, form(), NOW)
    assert caught.value.fields == ["caller_number"]
    assert complete_ticket(ticket, form(caller_number="0170 1234567"), NOW).caller_number == "0170 1234567"


def test_the_name_from_the_call_is_used_when_the_agent_leaves_it_empty() -> None:
    assert complete_ticket(opened(), form(customer_name=""), NOW).customer_name == "Anna Müller"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"summary": "x" * 151}, "summary"),
        ({"place": "two\nlines"}, "place"),
        ({"what_happened": "bad \x00 byte"}, "description.what_happened"),
        ({"caller_number": "call me maybe"}, "caller_number"),
    ],
)
def test_malformed_fields_are_named(override: dict[str, object], field: str) -> None:
    with pytest.raises(TicketValidationError) as caught:
        complete_ticket(opened(), form(**override), NOW)
    assert caught.value.fields == [field]


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_category_is_filed_as_chosen(category: str) -> None:
    assert complete_ticket(opened(), form(category=category), NOW).category == category


def test_an_unknown_category_is_refused() -> None:
    with pytest.raises(TicketValidationError) as caught:
        complete_ticket(opened(), form(category="praise"), NOW)
    assert caught.value.fields == ["category"]


class TestBorderline:
    @pytest.mark.parametrize(
        ("candidates", "filed"),
        [
            (("inquiry", "complaint"), "complaint"),
            (("complaint", "suggestion"), "complaint"),
            (("complaint", "request_for_help"), "complaint"),
            (("inquiry", "request_for_help"), "request_for_help"),
            (("request_for_help", "suggestion"), "request_for_help"),
            (("inquiry", "suggestion"), "request_for_help"),  # never inquiry or suggestion
        ],
    )
    def test_a_borderline_case_is_filed_as_complaint_or_help(self, candidates: tuple[str, str], filed: str) -> None:
        done = complete_ticket(opened(), form(category="", borderline=True, candidates=candidates), NOW)
        assert done.category == filed and done.borderline and done.candidates == candidates
        assert file_category("", True, candidates) == filed

    def test_the_agents_pick_does_not_override_the_rule(self) -> None:
        done = complete_ticket(
            opened(), form(category="inquiry", borderline=True, candidates=("inquiry", "complaint")), NOW
        )
        assert done.category == "complaint"

    @pytest.mark.parametrize(
        ("override", "field"),
        [
            ({"candidates": ("complaint",)}, "candidates"),
            ({"candidates": ("complaint", "complaint")}, "candidates"),
            ({"candidates": ("complaint", "praise")}, "candidates[1]"),
            ({"candidates": ("complaint", "inquiry"), "category": "suggestion"}, "category"),
        ],
    )
    def test_a_borderline_case_names_two_different_categories(self, override: dict[str, object], field: str) -> None:
        with pytest.raises(TicketValidationError) as caught:
            complete_ticket(opened(), form(**{"category": "", "borderline": True, **override}), NOW)
        assert caught.value.fields == [field]

    def test_candidates_without_borderline_are_refused(self) -> None:
        with pytest.raises(TicketValidationError) as caught:
            complete_ticket(opened(), form(candidates=("inquiry", "complaint")), NOW)
        assert caught.value.fields == ["candidates"]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"tenant": ""}, "tenant"),
        ({"call_id": ""}, "call_id"),
        ({"agent_id": ""}, "agent_id"),
        ({"queue": ""}, "queue"),
        ({"call_id": "a b:c"}, "call_id"),
        ({"caller_number": "not a number"}, "caller_number"),
    ],
)
def test_opening_needs_the_calls_identity(override: dict[str, object], field: str) -> None:
    with pytest.raises(TicketValidationError) as caught:
        opened(**override)
    assert caught.value.fields == [field]


def test_a_completed_ticket_cannot_be_completed_again() -> None:
    done = complete_ticket(opened(), form(), NOW)
    with pytest.raises(TicketAlreadyCompleted, match="already completed"):
        complete_ticket(done, form(), NOW + 1)


def test_numbers_read_well_and_sort_in_order() -> None:
    assert format_number(2026, 123) == "T-2026-000123"
    numbers = [format_number(2026, n) for n in (1, 9, 10, 999_999)] + [format_number(2027, 1)]
    assert numbers == sorted(numbers)
    assert normalize_number(" t-2026-000123 ") == "T-2026-000123"
    assert normalize_number("T-26-1") is None


def test_search_keys_ignore_punctuation_and_case() -> None:
    assert phone_digits("+1 (555) 123-4567") == "15551234567"
    assert phone_digits("\u0665\u00b2 12") == "12"  # only ASCII digits reach a key
    assert name_key("  Anna   MÜLLER ") == name_key("anna müller")
