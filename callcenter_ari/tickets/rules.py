"""Opening and completing tickets: validation that names every bad field, the borderline rule, numbering.

Pure functions; the Redis adapter (``callcenter_ari.store.tickets``) calls them and stores what they return.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import cast

import msgspec

from callcenter_ari.tickets.model import (
    CATEGORIES,
    CallFacts,
    Category,
    Description,
    FieldError,
    Ticket,
    TicketAlreadyCompleted,
    TicketForm,
    TicketValidationError,
)

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.;+-]{0,127}$")  # the same rule as store.keys: ids end up in keys
_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,32}$")
_NUMBER = re.compile(r"^T-(\d{4})-(\d{6,})$")

SHORT = 150  # a title part
LONG = 4000  # a free-text field


def format_number(year: int, sequence: int) -> str:
    """Human-readable and sortable within a year: ``T-2026-000123``."""
    return f"T-{year:04d}-{sequence:06d}"


def normalize_number(raw: str) -> str | None:
    """A ticket number as typed (any case, spaces around) in canonical form, or None if it is not one."""
    candidate = raw.strip().upper()
    return candidate if _NUMBER.fullmatch(candidate) else None


def ticket_year(now: float) -> int:
    return datetime.fromtimestamp(now, UTC).year


def phone_digits(raw: str) -> str:
    """The digits of a phone number: the index and the search agree whatever punctuation was typed."""
    # ASCII only: str.isdigit() also takes "²" and other scripts' digits, which no phone number has (and no key may).
    return "".join(ch for ch in raw if "0" <= ch <= "9")


def name_key(name: str) -> str:
    """Case- and spacing-insensitive form of a name for the index (``"  Anna  MÜLLER"`` -> ``"anna müller"``)."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def file_category(category: str, borderline: bool, candidates: tuple[str, ...]) -> Category:
    """The category a ticket is filed under. A borderline case never goes to inquiry or suggestion: it is filed as
    a complaint when a complaint is one of the two readings, else as a request for help, so that somebody follows
    it up either way."""
    if not borderline:
        return cast(Category, category)
    return "complaint" if "complaint" in candidates else "request_for_help"


def validate_facts(facts: CallFacts) -> list[FieldError]:
    errors: list[FieldError] = []
    for field in ("tenant", "call_id", "agent_id", "queue"):
        value = getattr(facts, field)
        if not value:
            errors.append(FieldError(field, "required"))
        elif not _ID.fullmatch(value):
            errors.append(FieldError(field, "not a valid identifier"))
    if facts.caller_number and not _PHONE.fullmatch(facts.caller_number):
        errors.append(FieldError("caller_number", "not a phone number"))
    _text(errors, "customer_name", facts.customer_name, SHORT, required=False)
    return errors


def validate_form(ticket: Ticket, form: TicketForm) -> list[FieldError]:
    """Every problem with a wrap-up form, each naming its field."""
    errors: list[FieldError] = []
    if form.borderline:
        if len(form.candidates) != 2:
            errors.append(FieldError("candidates", "a borderline case names exactly two categories"))
        for index, candidate in enumerate(form.candidates):
            if candidate not in CATEGORIES:
                errors.append(FieldError(f"candidates[{index}]", f"one of {', '.join(CATEGORIES)}"))
        if len(form.candidates) == 2 and form.candidates[0] == form.candidates[1]:
            errors.append(FieldError("candidates", "two different categories"))
        if form.category and form.category not in form.candidates:
            errors.append(FieldError("category", "must be one of the candidates"))
    elif not form.category:
        errors.append(FieldError("category", "required"))
    elif form.category not in CATEGORIES:
        errors.append(FieldError("category", f"one of {', '.join(CATEGORIES)}"))
    elif form.candidates:
        errors.append(FieldError("candidates", "only for a borderline case"))

    number = form.caller_number or ticket.caller_number
    if not number:
        errors.append(FieldError("caller_number", "required (the caller's number was withheld: ask for one)"))
    elif not _PHONE.fullmatch(number) or not 3 <= len(phone_digits(number)) <= 20:
        errors.append(FieldError("caller_number", "not a phone number"))
    _text(errors, "customer_name", form.customer_name or ticket.customer_name, SHORT)
    _text(errors, "place", form.place, SHORT)
    _text(errors, "summary", form.summary, SHORT)
    _text(errors, "description.time", form.time, SHORT)
    _text(errors, "description.what_happened", form.what_happened, LONG)
    _text(errors, "description.request", form.request, LONG)
    _text(errors, "answer", form.answer, LONG)
    _text(errors, "answer_basis", form.answer_basis, LONG)
    return errors


def _text(errors: list[FieldError], field: str, value: str, limit: int, *, required: bool = True) -> None:
    if not value.strip():
        if required:
            errors.append(FieldError(field, "required"))
        return
    if len(value) > limit:
        errors.append(FieldError(field, f"at most {limit} characters"))
    # Newlines and tabs are fine in free text; other control characters are not (and NUL would break the index).
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        errors.append(FieldError(field, "contains control characters"))
    elif limit == SHORT and ("\n" in value or "\t" in value):
        errors.append(FieldError(field, "a single line"))


def open_ticket(facts: CallFacts, number: str, now: float) -> Ticket:
    """The open ticket of a handled call; raises TicketValidationError."""
    errors = validate_facts(facts)
    if errors:
        raise TicketValidationError(errors)
    return Ticket(
        number=number,
        tenant=facts.tenant,
        call_id=facts.call_id,
        agent_id=facts.agent_id,
        queue=facts.queue,
        created_at=now,
        call_ended_at=facts.call_ended_at,
        caller_number=facts.caller_number,
        customer_name=" ".join(facts.customer_name.split()),
    )


def complete_ticket(ticket: Ticket, form: TicketForm, now: float) -> Ticket:
    """The ticket filled from the form; raises TicketValidationError, or TicketError if already completed."""
    if ticket.status == "completed":
        raise TicketAlreadyCompleted(f"ticket {ticket.number} is already completed")
    errors = validate_form(ticket, form)
    if errors:
        raise TicketValidationError(errors)
    place, summary = form.place.strip(), form.summary.strip()
    return msgspec.structs.replace(
        ticket,
        status="completed",
        category=file_category(form.category, form.borderline, form.candidates),
        borderline=form.borderline,
        candidates=cast(tuple[Category, ...], form.candidates) if form.borderline else (),
        title=f"{place}: {summary}",
        summary=summary,
        description=Description(
            time=form.time.strip(), place=place, what_happened=form.what_happened.strip(), request=form.request.strip()
        ),
        answer=form.answer.strip(),
        answer_basis=form.answer_basis.strip(),
        urgent=form.urgent,
        caller_number=form.caller_number or ticket.caller_number,
        customer_name=" ".join((form.customer_name or ticket.customer_name).split()),
        completed_at=now,
    )
