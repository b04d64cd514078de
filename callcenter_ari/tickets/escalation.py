"""Who gets a ticket at once: complaints, requests for help and urgent tickets go to the shift lead on duty, or,
with nobody on duty, to the configured fallback contact. Pure: the roster and the time are inputs."""

from __future__ import annotations

from typing import Literal

import msgspec

from callcenter_ari.tickets.model import Ticket

EscalationRole = Literal["shift_lead", "fallback"]


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    phone: str = ""
    email: str = ""


class Shift(msgspec.Struct, frozen=True):
    start: float  # unix seconds, inclusive
    end: float  # exclusive

    def covers(self, now: float) -> bool:
        return self.start <= now < self.end


class ShiftLead(msgspec.Struct, frozen=True, kw_only=True):
    contact: Contact
    shifts: tuple[Shift, ...] = ()

    def shift_at(self, now: float) -> Shift | None:
        return next((shift for shift in self.shifts if shift.covers(now)), None)


class Roster(msgspec.Struct, frozen=True, kw_only=True):
    fallback: Contact
    leads: tuple[ShiftLead, ...] = ()


class EscalationTarget(msgspec.Struct, frozen=True, kw_only=True):
    contact: Contact
    role: EscalationRole
    reasons: tuple[str, ...]  # "complaint", "request_for_help", "urgent"


def escalation_reasons(ticket: Ticket) -> tuple[str, ...]:
    reasons: list[str] = []
    if ticket.category in ("complaint", "request_for_help"):
        reasons.append(ticket.category)
    if ticket.urgent:
        reasons.append("urgent")
    return tuple(reasons)


def on_duty(roster: Roster, now: float) -> ShiftLead | None:
    """The lead on duty; at a handover (two shifts overlap) the one whose shift began last, who is taking over."""
    best: tuple[float, ShiftLead] | None = None
    for lead in roster.leads:
        shift = lead.shift_at(now)
        if shift is not None and (best is None or shift.start > best[0]):
            best = (shift.start, lead)
    return best[1] if best else None


def escalation_target(ticket: Ticket, roster: Roster, now: float) -> EscalationTarget | None:
    """Where the ticket goes at once, or None when it does not need escalating."""
    reasons = escalation_reasons(ticket)
    if not reasons:
        return None
    lead = on_duty(roster, now)
    if lead is not None:
        return EscalationTarget(contact=lead.contact, role="shift_lead", reasons=reasons)
    return EscalationTarget(contact=roster.fallback, role="fallback", reasons=reasons)


def escalate(ticket: Ticket, target: EscalationTarget, now: float) -> Ticket:
    return msgspec.structs.replace(ticket, escalated_to=target.contact.id, escalated_role=target.role, escalated_at=now)
