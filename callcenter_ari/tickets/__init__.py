"""Work orders: every handled call leaves a ticket, filled by the agent at wrap-up, numbered per tenant, escalated
to the shift lead when it is a complaint, a request for help or urgent, and reported when left open too long.

Pure: no I/O here. ``callcenter_ari.store.tickets`` keeps tickets in Redis and runs the overdue check.
"""

from callcenter_ari.tickets.deadlines import OVERDUE_AFTER, is_overdue, overdue, overdue_at
from callcenter_ari.tickets.escalation import (
    Contact,
    EscalationTarget,
    Roster,
    Shift,
    ShiftLead,
    escalation_target,
    on_duty,
)
from callcenter_ari.tickets.model import (
    CATEGORIES,
    CallFacts,
    Category,
    Description,
    FieldError,
    Ticket,
    TicketAlreadyCompleted,
    TicketError,
    TicketForm,
    TicketNotFound,
    TicketValidationError,
)
from callcenter_ari.tickets.rules import complete_ticket, file_category, format_number, open_ticket

__all__ = [
    "CATEGORIES",
    "OVERDUE_AFTER",
    "CallFacts",
    "Category",
    "Contact",
    "Description",
    "EscalationTarget",
    "FieldError",
    "Roster",
    "Shift",
    "ShiftLead",
    "Ticket",
    "TicketAlreadyCompleted",
    "TicketError",
    "TicketForm",
    "TicketNotFound",
    "TicketValidationError",
    "complete_ticket",
    "escalation_target",
    "file_category",
    "format_number",
    "is_overdue",
    "on_duty",
    "open_ticket",
    "overdue",
    "overdue_at",
]
