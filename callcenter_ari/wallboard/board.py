"""The wallboard: what a supervisor sees of a tenant's queues and agents, and the alerts standing, as pure values.

Theory of operation. The server builds a ``Board`` from a snapshot (the API's own views of the queues and agents,
the overdue tickets) and then applies the tenant's events one at a time, oldest first: ``apply(board, kind, data,
at)`` returns the next board and never changes the one it was given. Figures that the API computes (service level,
abandon rate, calls waiting, callbacks pending) are never recomputed here: after the events of one read the server
lays the API's fresh views over the board (``with_figures``), so the wall shows the numbers the API gives at the same
moment. What the figures do not carry comes from the events: who is on hold since when, a hold or break alert, an
urgent or overdue ticket, a trunk full or down, overload shedding.

``alerts(board)`` lists the alerts with the time each one stands from: a break overrun or a long hold stands from a
moment that may still be ahead (the board is pushed on events only, so the page shows each alert once its time
has come, without asking again). Time is an input: nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import msgspec

SERVICE_LEVEL_TARGET = 0.8  # the industry's 80/20: below 80 % answered within the queue's threshold is a breach
HOLD_ALERT_SECONDS = 30.0  # a caller on hold this long is an alert (the queues' hold_alert_seconds default)
KEPT_TICKET_ALERTS = 50  # the newest urgent/overdue tickets kept on the board

AlertKind = Literal[
    "service_level", "break_overrun", "break_limit", "hold", "urgent_ticket", "overdue_ticket", "trunk", "overload"
]


class QueueFacts(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    waiting: int = 0
    oldest_since: float | None = None  # when the longest-waiting caller joined; None when nobody waits
    sla_seconds: float = 20.0
    service_level: float | None = None
    abandon_rate: float | None = None
    entered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    asa_seconds: float | None = None
    aht_seconds: float | None = None
    callbacks_pending: int = 0  # 0 when the statistics carry no callbacks
    agents: dict[str, int] = {}  # members by shown state


class AgentFacts(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str = ""
    state: str = "logged_out"  # the board's state, with on_hold shown apart from talking
    since: float = 0.0
    reason: str = ""
    until: float | None = None  # a break's deadline, or the end of wrap-up
    call_id: str = ""
    queues: tuple[str, ...] = ()


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    kind: AlertKind
    subject: str  # the queue, agent, ticket number or trunk it is about
    since: float  # the alert stands from this moment (possibly still ahead)
    detail: str = ""


class Held(msgspec.Struct, frozen=True):
    agent: str
    since: float
    alerted: bool = False  # the call said its hold alert went off


class Board(msgspec.Struct, frozen=True, kw_only=True):
    at: float
    queues: dict[str, QueueFacts] = {}
    agents: dict[str, AgentFacts] = {}
    held: dict[str, Held] = {}  # call id -> who holds it since when
    tickets: dict[str, Alert] = {}  # ticket number -> its urgent/overdue alert
    trunks: dict[str, Alert] = {}  # trunk -> full or down
    shedding: Alert | None = None
    break_alerts: dict[str, Alert] = {}  # agent -> the ACD's break alert, until their state changes


def from_snapshot(snapshot: Mapping[str, Any]) -> Board:
    """The board of a snapshot: ``at``, ``queues`` and ``agents`` as the API shows them, ``overdue_tickets``."""
    at = float(snapshot["at"])
    board = Board(at=at)
    board = with_figures(board, snapshot.get("queues", ()), snapshot.get("agents", ()), at)
    held = {
        str(a["call_id"]): Held(str(a["id"]), float(a.get("hold_since") or a["since"]))
        for a in snapshot.get("agents", ())
        if a.get("state") == "on_hold" and a.get("call_id")
    }
    tickets = {
        str(t["number"]): Alert(kind="overdue_ticket", subject=str(t["number"]), since=float(t["overdue_at"]))
        for t in snapshot.get("overdue_tickets", ())
    }
    return msgspec.structs.replace(board, held=held, tickets=tickets)


def with_figures(
    board: Board, queues: Iterable[Mapping[str, Any]], agents: Iterable[Mapping[str, Any]], at: float
) -> Board:
    """The API's fresh views laid over the board: its figures replace what the board had."""
    facts = {str(q["id"]): _queue(q, at) for q in queues}
    people = {str(a["id"]): _agent(a) for a in agents}
    return msgspec.structs.replace(board, at=at, queues=facts, agents=people)


def apply(board: Board, kind: str, data: Mapping[str, Any], at: float) -> Board:
    """The board after one event of the tenant's stream (kinds the board does not follow change nothing)."""
    match kind:
        case "agent.state":
            return _agent_state(board, data, at)
        case "call.held":
            held = {**board.held, str(data["call_id"]): Held(str(data.get("agent", "")), at)}
            return msgspec.structs.replace(board, held=held, at=at)
        case "call.hold_alert":
            call_id = str(data["call_id"])
            previous = board.held.get(call_id)
            since = previous.since if previous else at - float(data.get("held", 0.0))
            held = {**board.held, call_id: Held(str(data.get("agent", "")), since, True)}
            return msgspec.structs.replace(board, held=held, at=at)
        case "call.unheld" | "call.ended" | "call.transferred":
            held = {k: v for k, v in board.held.items() if k != data.get("call_id")}
            return msgspec.structs.replace(board, held=held, at=at)
        case "acd.alert":
            agent = str(data.get("agent_id", ""))
            alert = Alert(kind=_break_kind(data), subject=agent, since=at, detail=str(data.get("detail", "")))
            return msgspec.structs.replace(board, break_alerts={**board.break_alerts, agent: alert}, at=at)
        case "ticket.overdue":
            return _ticket(board, "overdue_ticket", data, at)
        case "ticket.completed" | "ticket.escalated":
            return _ticket_done(board, data, at)
        case "trunk.full" | "trunk.down":
            trunk = str(data.get("trunk", ""))
            alert = Alert(kind="trunk", subject=trunk, since=at, detail=kind.removeprefix("trunk."))
            return msgspec.structs.replace(board, trunks={**board.trunks, trunk: alert}, at=at)
        case "trunk.available" | "trunk.up":
            trunks = {k: v for k, v in board.trunks.items() if k != data.get("trunk")}
            return msgspec.structs.replace(board, trunks=trunks, at=at)
        case "overload.shedding":
            since = board.shedding.since if board.shedding else at
            shedding = Alert(kind="overload", subject="shedding", since=since, detail=str(data.get("reason", "")))
            return msgspec.structs.replace(board, shedding=shedding, at=at)
        case "overload.ended":
            return msgspec.structs.replace(board, shedding=None, at=at)
    return msgspec.structs.replace(board, at=at)


def alerts(board: Board) -> list[Alert]:
    """Every alert the board holds, each with the moment it stands from; oldest first."""
    found: list[Alert] = []
    for queue in board.queues.values():
        if queue.service_level is not None and queue.service_level < SERVICE_LEVEL_TARGET:
            detail = f"{queue.service_level:.0%} < {SERVICE_LEVEL_TARGET:.0%} in {queue.sla_seconds:g} s"
            found.append(Alert(kind="service_level", subject=queue.id, since=board.at, detail=detail))
    for agent in board.agents.values():
        if agent.state == "not_ready" and agent.until is not None:
            found.append(Alert(kind="break_overrun", subject=agent.id, since=agent.until, detail=agent.reason))
    found += [a for agent, a in board.break_alerts.items() if _still_on_break(board, agent)]
    for call_id, held in board.held.items():
        since = held.since if held.alerted else held.since + HOLD_ALERT_SECONDS
        found.append(Alert(kind="hold", subject=held.agent or call_id, since=since, detail=call_id))
    found += board.tickets.values()
    found += board.trunks.values()
    if board.shedding is not None:
        found.append(board.shedding)
    return sorted(_unique(found), key=lambda a: (a.since, a.kind, a.subject))


# ---- internals ---------------------------------------------------------------------------------------------


def _queue(view: Mapping[str, Any], at: float) -> QueueFacts:
    today: Mapping[str, Any] = view.get("today") or {}
    longest = view.get("longest_wait_seconds")
    callbacks: Mapping[str, Any] = view.get("callbacks") or today.get("callbacks") or {}
    return QueueFacts(
        id=str(view["id"]),
        name=str(view.get("name") or view["id"]),
        waiting=int(view.get("waiting", 0)),
        oldest_since=at - float(longest) if longest is not None else None,
        sla_seconds=float(view.get("sla_seconds", 20.0)),
        service_level=today.get("service_level"),
        abandon_rate=today.get("abandon_rate"),
        entered=int(today.get("entered", 0)),
        answered=int(today.get("answered", 0)),
        abandoned=int(today.get("abandoned", 0)),
        short_abandoned=int(today.get("short_abandoned", 0)),
        asa_seconds=today.get("asa_seconds"),
        aht_seconds=today.get("aht_seconds"),
        callbacks_pending=int(callbacks.get("pending", 0)),
        agents={str(k): int(v) for k, v in (view.get("agents") or {}).items() if v},
    )


def _agent(view: Mapping[str, Any]) -> AgentFacts:
    until = view.get("until")
    return AgentFacts(
        id=str(view["id"]),
        name=str(view.get("name", "")),
        state=str(view.get("state", "logged_out")),
        since=float(view.get("since", 0.0)),
        reason=str(view.get("reason", "")),
        until=float(until) if until is not None else None,
        call_id=str(view.get("call_id", "")),
        queues=tuple(str(q) for q in view.get("queues", ())),
    )


def _agent_state(board: Board, data: Mapping[str, Any], at: float) -> Board:
    agent_id = str(data.get("agent", ""))
    known = board.agents.get(agent_id) or AgentFacts(id=agent_id)
    state = str(data.get("state", known.state))
    changed = msgspec.structs.replace(
        known,
        state=state,
        since=at if state != known.state else known.since,
        reason=str(data.get("reason", "")),
        # A deadline belongs to the state it was set in; the next views bring the new one.
        until=known.until if state == known.state else None,
        call_id=str(data.get("call_id", known.call_id if state in ("talking", "on_hold", "wrapup") else "")),
    )
    breaks = {k: v for k, v in board.break_alerts.items() if k != agent_id or state == "not_ready"}
    return msgspec.structs.replace(board, agents={**board.agents, agent_id: changed}, break_alerts=breaks, at=at)


def _still_on_break(board: Board, agent_id: str) -> bool:
    agent = board.agents.get(agent_id)
    return agent is not None and agent.state == "not_ready"


def _break_kind(data: Mapping[str, Any]) -> AlertKind:
    return "break_limit" if data.get("kind") == "break_limit" else "break_overrun"


def _ticket(board: Board, kind: AlertKind, data: Mapping[str, Any], at: float) -> Board:
    number = str(data.get("ticket", ""))
    detail = str(data.get("title", "") or data.get("queue", ""))
    tickets = {**board.tickets, number: Alert(kind=kind, subject=number, since=at, detail=detail)}
    if len(tickets) > KEPT_TICKET_ALERTS:
        newest = sorted(tickets.values(), key=lambda a: a.since)[-KEPT_TICKET_ALERTS:]
        tickets = {a.subject: a for a in newest}
    return msgspec.structs.replace(board, tickets=tickets, at=at)


def _ticket_done(board: Board, data: Mapping[str, Any], at: float) -> Board:
    """A completed ticket is no longer overdue; an urgent one stands as an alert until the shift sees it."""
    number = str(data.get("ticket", ""))
    if data.get("urgent"):
        return _ticket(board, "urgent_ticket", data, at)
    tickets = {k: v for k, v in board.tickets.items() if k != number}
    return msgspec.structs.replace(board, tickets=tickets, at=at)


def _unique(found: list[Alert]) -> list[Alert]:
    """One alert per kind and subject: an ACD's break-overrun alert and the board's own deadline are the same."""
    seen: dict[tuple[str, str], Alert] = {}
    for alert in found:
        key = (alert.kind, alert.subject)
        if key not in seen or alert.since < seen[key].since:
            seen[key] = alert
    return list(seen.values())
