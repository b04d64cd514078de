"""The wallboard: the tenant's queues, agents and alerts, as a snapshot and as a live stream of server-sent events.

The stream starts from a snapshot (the API's own views of queues and agents, the overdue tickets) and then follows
the tenant's event stream in Redis (a blocking read, never a poll of the whole state): the events go through the
pure reduction (``callcenter_ari.wallboard``) as they come, and at most every ``PUSH_EVERY_SECONDS`` the API's
fresh views are laid over the result and the board goes to the browser as one ``board`` event. A quiet stream sends
a comment every ``KEEPALIVE_SECONDS`` so that proxies keep it open. A token of a tenant not served here gets an
empty board and the stream ends.

The browser reads the stream with ``fetch`` (the token in the Authorization header, never in the URL).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from typing import Any

import msgspec
import structlog
from litestar import Controller, get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.http.errors import documented
from callcenter_ari.http.params import Caller, Deps
from callcenter_ari.http.routes.agents import view as agent_view
from callcenter_ari.http.routes.queues import view as queue_view
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.tickets import overdue_at
from callcenter_ari.wallboard import AgentFacts, Alert, Board, QueueFacts, alerts, apply, from_snapshot
from callcenter_ari.wallboard.board import with_figures

log = structlog.get_logger(__name__)

KEEPALIVE_SECONDS = 15.0
PUSH_EVERY_SECONDS = 0.25  # a busy stream's events are gathered: at most four boards a second per page
CATCH_UP_SECONDS = 1.0  # the longest a push waits for the process's figures to include what the page read


class Allowed(msgspec.Struct, frozen=True, kw_only=True):
    """What the token may do from the wallboard (the page shows only those controls)."""

    monitor: bool  # listen, whisper, barge
    hangup: bool  # force disconnect
    force: bool  # force an agent's state


class WallboardView(msgspec.Struct, frozen=True, kw_only=True):
    at: float  # the server's time of the figures (the page measures waits from it)
    queues: list[QueueFacts]
    agents: list[AgentFacts]
    alerts: list[Alert]  # each stands from its ``since``, which may be ahead of ``at``
    supervisors: list[str]  # whose phone rings for listen, whisper, barge
    allowed: Allowed


def queue_views(deps: ApiDeps, now: float) -> list[dict[str, Any]]:
    """The queues as ``GET /queues`` shows them, with their service-level threshold."""
    configured = deps.directory.config.queues
    views = []
    for queue_id in sorted(deps.queue_names):
        shown: dict[str, Any] = msgspec.to_builtins(queue_view(deps, queue_id, now))
        shown["sla_seconds"] = configured[queue_id].sla_seconds if queue_id in configured else 20
        views.append(shown)
    return views


def agent_views(deps: ApiDeps) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(agent_view(deps, agent_id)) for agent_id in sorted(deps.acd.confirmed)]


async def snapshot(deps: ApiDeps) -> Board:
    now = deps.clock.now()
    late = await deps.tickets.overdue(now)
    overdue = [{"number": t.number, "overdue_at": overdue_at(t)} for t in late if t.tenant in ("", deps.tenant)]
    return from_snapshot(
        {"at": now, "queues": queue_views(deps, now), "agents": agent_views(deps), "overdue_tickets": overdue}
    )


def shown(deps: ApiDeps, principal: Principal, board: Board) -> WallboardView:
    return WallboardView(
        at=board.at,
        queues=list(board.queues.values()),
        agents=list(board.agents.values()),
        alerts=alerts(board),
        supervisors=deps.monitor.supervisors if principal.may("calls.monitor") else [],
        allowed=Allowed(
            monitor=principal.may("calls.monitor"),
            hangup=principal.may("calls.hangup"),
            force=principal.may("agents.force"),
        ),
    )


def _empty(deps: ApiDeps, principal: Principal) -> WallboardView:
    return shown(deps, principal, Board(at=deps.clock.now()))


class WallboardController(Controller):
    path = "/wallboard"
    tags = ["wallboard"]

    @get("/", guards=[requires("wallboard.read")], responses=documented())
    async def wallboard(self, deps: Deps, principal: Caller) -> WallboardView:
        """The board now: per queue the figures of ``GET /queues``, the agents by state, the alerts."""
        if not principal.home:
            return _empty(deps, principal)
        return shown(deps, principal, await snapshot(deps))

    @get("/stream", guards=[requires("wallboard.read")], responses=documented(), media_type="text/event-stream")
    async def stream(self, deps: Deps, principal: Caller) -> ServerSentEvent:
        """Server-sent events: a ``board`` event (the body of ``GET /wallboard``) now and after each batch of the
        tenant's events."""
        return ServerSentEvent(_follow(deps, principal), headers={"Cache-Control": "no-store"})


async def _follow(deps: ApiDeps, principal: Principal) -> AsyncGenerator[ServerSentEventMessage, None]:
    if not principal.home:
        yield _message(_empty(deps, principal))
        return
    after = await deps.store.last_event_id()
    board = await snapshot(deps)
    yield _message(shown(deps, principal, board))
    pushed, pending = time.monotonic(), False
    try:
        while True:
            wait = pushed + PUSH_EVERY_SECONDS - time.monotonic() if pending else KEEPALIVE_SECONDS
            if pending and wait <= 0:
                # The views count the other processes' events too: laid over once this process has fed them.
                await deps.center.caught_up(after, CATCH_UP_SECONDS)
                now = deps.clock.now()
                board = with_figures(board, queue_views(deps, now), agent_views(deps), now)
                yield _message(shown(deps, principal, board))
                pushed, pending = time.monotonic(), False
                continue
            rows = await deps.store.follow(after, wait)
            if not rows:
                if not pending:
                    yield ServerSentEventMessage(comment="keepalive")
                continue
            for ident, kind, at, data, _ in rows:
                after = ident
                board = apply(board, kind, data if isinstance(data, dict) else {}, at)
            pending = True
    except StoreUnavailable as exc:
        log.warning("wallboard.stream_ended", error=str(exc), by=principal.name)  # the page reconnects


def _message(view: WallboardView) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=msgspec.json.encode(view).decode(), event="board")
