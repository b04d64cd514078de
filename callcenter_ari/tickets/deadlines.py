"""The wrap-up deadline: a ticket still open 15 minutes after its call ended is overdue, and said so once."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from callcenter_ari.tickets.model import Ticket

OVERDUE_AFTER = 15 * 60.0


def overdue_at(ticket: Ticket) -> float:
    return ticket.call_ended_at + OVERDUE_AFTER


def is_overdue(ticket: Ticket, now: float) -> bool:
    """Open, past its deadline, and not yet reported (the event is raised once per ticket)."""
    return ticket.status == "open" and ticket.overdue_notified_at is None and now >= overdue_at(ticket)


def overdue(tickets: Iterable[Ticket], now: float) -> list[Ticket]:
    """The tickets that become overdue at ``now``, marked as reported; the caller raises one event for each."""
    return [msgspec.structs.replace(t, overdue_notified_at=now) for t in tickets if is_overdue(t, now)]
