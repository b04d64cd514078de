"""Agent state changes the API needs and ``AcdService`` does not offer yet.

Interim: each function drives ``acd.board`` and then the service's own private steps (``_changed``: save and emit
``agent.state``; ``_rearm``/``_after``: deadlines, audit, offers) exactly as ``AcdService.log_in`` does, and belongs
in ``AcdService`` as ``log_out``, ``ready``, ``not_ready`` and a seat limit inside ``log_in``. Nothing here knows
HTTP; the errors are the ACD's own (``InvalidTransition`` and its subclasses).
"""

from __future__ import annotations

import msgspec
import structlog

from callcenter_ari.acd.errors import InvalidTransition
from callcenter_ari.runtime.acd import AcdService

log = structlog.get_logger(__name__)


class SeatLimitReached(InvalidTransition):
    """Every licensed seat is taken: one more agent may log in only when another logs out."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"seat limit reached: {limit} agents are logged in already (the limit is {limit})")
        self.limit = limit


def logged_in(acd: AcdService) -> int:
    return sum(1 for record in acd.board.agents.values() if record.state != "logged_out")


async def log_in(acd: AcdService, agent_id: str, seat_limit: int | None) -> None:
    """Log in within the seat limit (counted on this process's board). No await between the count and the change,
    so two requests at once cannot both take the last seat."""
    record = acd.board.agents.get(agent_id)
    if record is not None and record.state == "logged_out" and seat_limit is not None:
        if logged_in(acd) >= seat_limit:
            raise SeatLimitReached(seat_limit)
    await acd.log_in(agent_id)


def log_out(acd: AcdService, agent_id: str, now: float) -> None:
    acd.board.log_out(agent_id, now)
    acd._changed(agent_id)  # saved and ``agent.state`` emitted, as AcdService does for its own changes
    acd._rearm()  # a wrap-up or break deadline may be gone


async def ready(acd: AcdService, agent_id: str, now: float) -> None:
    """Available again (from not ready, or ending wrap-up early); a waiting call may be offered at once."""
    offers = acd.board.ready(agent_id, now)
    acd._changed(agent_id)
    await acd._after(offers)  # audit, deadlines, then the reservation and delivery of the offers


def not_ready(acd: AcdService, agent_id: str, reason: str, now: float, *, policed: bool) -> None:
    """Not ready with a reason. ``policed``: the agent asks for themself, so their team's break limit applies (a
    refusal raises InvalidTransition); a supervisor's order is not policed."""
    if policed:
        decision = acd.board.request_break(agent_id, reason, now)
        if not decision.granted:
            raise InvalidTransition(f"break refused: team {decision.team} has its maximum on {reason!r} already")
        if decision.alert is not None:
            acd._emit("acd.alert", msgspec.to_builtins(decision.alert))
    else:
        acd.board.not_ready(agent_id, reason, now)
    acd._changed(agent_id)
    acd._rearm()  # a policed break has an overrun deadline
