"""Work orders as data: what the call leaves behind (``CallFacts``), what the agent fills at wrap-up
(``TicketForm``) and the ticket itself. Frozen Structs; new persisted fields get defaults."""

from __future__ import annotations

from typing import Literal

import msgspec

Category = Literal["inquiry", "suggestion", "complaint", "request_for_help"]
CATEGORIES: tuple[Category, ...] = ("inquiry", "suggestion", "complaint", "request_for_help")
TicketStatus = Literal["open", "completed"]


class FieldError(msgspec.Struct, frozen=True):
    field: str  # a dotted path as the API shows it: "description.place", "candidates[1]"
    message: str


class TicketError(ValueError):
    """A ticket operation that cannot be done (not found, already completed)."""


class TicketNotFound(TicketError):
    """No ticket with that number."""


class TicketAlreadyCompleted(TicketError):
    """A completed ticket is not filled a second time."""


class TicketValidationError(TicketError):
    """The input is missing or has bad fields; ``errors`` names every one of them, not just the first."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = tuple(errors)

    @property
    def fields(self) -> list[str]:
        return [e.field for e in self.errors]


class CallFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the runtime knows when a handled call ends; a ticket is opened from it."""

    tenant: str
    call_id: str
    agent_id: str
    queue: str
    call_ended_at: float
    caller_number: str = ""  # empty when the caller withheld it; the agent then asks for one
    customer_name: str = ""  # a CNAM or CRM name, if any; the agent confirms it at wrap-up


class TicketForm(msgspec.Struct, frozen=True, kw_only=True):
    """What the agent fills at wrap-up; ``category`` is a plain string so a bad value gets our error message."""

    category: str = ""
    # Borderline: the agent cannot choose between two categories; the rule files it (see rules.file_category).
    borderline: bool = False
    candidates: tuple[str, ...] = ()
    customer_name: str = ""
    caller_number: str = ""  # overrides the call's number (withheld, or the caller gives a callback number)
    place: str = ""
    summary: str = ""
    time: str = ""  # when it happened, in the caller's words ("yesterday around 18:00")
    what_happened: str = ""
    request: str = ""  # what the caller asks for
    answer: str = ""  # the answer the agent gave
    answer_basis: str = ""  # what the answer rests on (a policy, a knowledge-base article, a colleague)
    urgent: bool = False


class Description(msgspec.Struct, frozen=True, kw_only=True):
    time: str
    place: str
    what_happened: str
    request: str


class Ticket(msgspec.Struct, frozen=True, kw_only=True):
    number: str  # T-2026-000123: per tenant and year, increasing
    tenant: str
    call_id: str
    agent_id: str
    queue: str
    created_at: float
    call_ended_at: float
    caller_number: str = ""
    customer_name: str = ""
    status: TicketStatus = "open"
    category: Category | None = None
    borderline: bool = False
    candidates: tuple[Category, ...] = ()
    title: str = ""  # "<place>: <summary>"
    summary: str = ""
    description: Description | None = None
    answer: str = ""
    answer_basis: str = ""
    urgent: bool = False
    completed_at: float | None = None
    overdue_notified_at: float | None = None
    escalated_to: str = ""  # the contact id the ticket went to
    escalated_role: str = ""  # "shift_lead" or "fallback"
    escalated_at: float | None = None
