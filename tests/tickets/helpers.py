"""Ticket builders shared by the tests."""

from __future__ import annotations

from typing import Any

from callcenter_ari.tickets import CallFacts, TicketForm

ENDED = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def facts(call_id: str = "c1", **override: Any) -> CallFacts:
    fields: dict[str, Any] = {
        "tenant": "t1",
        "call_id": call_id,
        "agent_id": "a1",
        "queue": "support",
        "call_ended_at": ENDED,
        "caller_number": "+1 (555) 123-4567",
        "customer_name": "Anna Müller",
    }
    return CallFacts(**{**fields, **override})


def form(**override: Any) -> TicketForm:
    fields: dict[str, Any] = {
        "category": "inquiry",
        "customer_name": "Anna Müller",
        "place": "Main Street 5",
        "summary": "Street light out",
        "time": "yesterday around 18:00",
        "what_happened": "The street light in front of number 5 has been dark for a week.",
        "request": "Repair it",
        "answer": "Reported to the maintenance team; repair within 5 working days.",
        "answer_basis": "Street lighting service level, KB-112",
    }
    return TicketForm(**{**fields, **override})
