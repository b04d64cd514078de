"""The events tickets add to the stream (and so to webhooks): kind and fields, built from the ticket alone."""

from __future__ import annotations

from typing import Any

from callcenter_ari.tickets.deadlines import overdue_at
from callcenter_ari.tickets.escalation import EscalationTarget
from callcenter_ari.tickets.model import Ticket

Event = tuple[str, dict[str, Any]]


def _base(ticket: Ticket, at: float) -> dict[str, Any]:
    return {
        "at": at,
        "ticket": ticket.number,
        "call_id": ticket.call_id,
        "agent_id": ticket.agent_id,
        "queue": ticket.queue,
    }


def created(ticket: Ticket) -> Event:
    fields = _base(ticket, ticket.created_at)
    fields.update(caller_number=ticket.caller_number, overdue_at=overdue_at(ticket))
    return "ticket.created", fields


def completed(ticket: Ticket) -> Event:
    fields = _base(ticket, ticket.completed_at or ticket.created_at)
    fields.update(
        category=ticket.category,
        borderline=ticket.borderline,
        urgent=ticket.urgent,
        title=ticket.title,
        caller_number=ticket.caller_number,
        customer_name=ticket.customer_name,
    )
    return "ticket.completed", fields


def escalated(ticket: Ticket, target: EscalationTarget) -> Event:
    fields = _base(ticket, ticket.escalated_at or ticket.created_at)
    fields.update(
        to=target.contact.id,
        to_name=target.contact.name,
        to_phone=target.contact.phone,
        to_email=target.contact.email,
        role=target.role,
        reasons=list(target.reasons),
        category=ticket.category,
        urgent=ticket.urgent,
        title=ticket.title,
        caller_number=ticket.caller_number,
    )
    return "ticket.escalated", fields


def overdue(ticket: Ticket) -> Event:
    fields = _base(ticket, ticket.overdue_notified_at or overdue_at(ticket))
    fields.update(call_ended_at=ticket.call_ended_at, overdue_at=overdue_at(ticket))
    return "ticket.overdue", fields
