"""Overdue tickets for the API, which ``TicketDesk`` does not list yet.

Interim: once reported, an overdue ticket leaves the desk's deadline index, and nothing else indexes open tickets.
This reads every ticket number of the tenant (the call -> ticket hash) and keeps the open ones past their
deadline: O(tickets ever opened). It belongs in ``TicketDesk.overdue(limit)`` backed by an index of open tickets
(a sorted set by deadline that completion removes from).
"""

from __future__ import annotations

from typing import Any

from callcenter_ari.store.tickets import TicketDesk
from callcenter_ari.tickets import Ticket, overdue_at

_BATCH = 500


async def overdue_tickets(desk: TicketDesk, now: float, limit: int) -> list[Ticket]:
    """Open tickets past their deadline, reported or not, the longest overdue first."""
    store = desk.store
    numbers: list[str] = []
    async for _, number in store.redis.hscan_iter(store.keys.tickets_by_call, count=_BATCH):
        numbers.append(_text(number))
    late: list[Ticket] = []
    for start in range(0, len(numbers), _BATCH):
        for ticket in await store.get_many(numbers[start : start + _BATCH]):
            if ticket.status == "open" and now >= overdue_at(ticket):
                late.append(ticket)
    late.sort(key=lambda t: (overdue_at(t), t.number))
    return late[:limit]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
