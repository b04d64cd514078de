"""Queues with their live figures: calls waiting, the longest wait, and the member agents by state, of the whole
center (every process serving the tenant; see runtime/center.py)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get

from callcenter_ari.acd.stats import QueueFigures
from callcenter_ari.callback.figures import QueueCallbacks
from callcenter_ari.http.auth import requires
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.http.errors import NotFound, documented
from callcenter_ari.http.params import Caller, Deps, Id


class AgentCounts(msgspec.Struct, frozen=True, kw_only=True):
    logged_out: int = 0
    available: int = 0
    reserved: int = 0
    talking: int = 0
    wrapup: int = 0
    not_ready: int = 0


class QueueView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    waiting: int  # on every node (every process serving the tenant)
    longest_wait_seconds: float | None  # None when nobody waits
    agents: AgentCounts  # the queue's members by state
    today: QueueToday  # the whole center's, from the event stream's last day: service level, abandons, ...
    callbacks: QueueCallbacks  # pending and due now; attempted, connected, expired: the stream since a day before start


class QueueToday(msgspec.Struct, frozen=True, kw_only=True):
    """The queue's figures (docs/ACD.md has the exact formulas); rates and averages are null until defined."""

    entered: int
    answered: int
    answered_in_sla: int
    abandoned: int  # after the short-abandon threshold
    short_abandoned: int  # before it: counted apart, as call centers do
    exited: int  # left without an agent for another reason (maximum wait, queue full, ...)
    hung_up_by_supervisor: int  # waiting callers a supervisor hung up: neither abandons nor in the service level
    service_level: float | None  # answered within the SLA / (answered + abandoned)
    abandon_rate: float | None
    asa_seconds: float | None  # average speed of answer
    aht_seconds: float | None  # average handle time (talk, hold and wrap-up)


class QueueList(msgspec.Struct, frozen=True):
    queues: list[QueueView]


def waiting_since(deps: ApiDeps, queue_id: str) -> tuple[int, list[float]]:
    """How many callers wait in the queue on every node, and since when those with a known time joined it: this
    process's from its board (callbacks in line included) and its live calls, the other processes' from their
    calls' records (``deps.center``)."""
    mine = deps.live_calls()
    waiting = set(deps.acd.board.waiting(queue_id))
    # From the live calls: the board keeps waiting calls' times to itself.
    enqueued = [r.enqueued_at for r in mine if r.call_id in waiting and r.enqueued_at is not None]
    elsewhere = [c for c in deps.center.calls(r.call_id for r in mine) if c.phase == "queued" and c.queue == queue_id]
    enqueued += [c.enqueued_at for c in elsewhere if c.enqueued_at is not None]
    return len(waiting) + len(elsewhere), enqueued


def view(deps: ApiDeps, queue_id: str, now: float) -> QueueView:
    board = deps.acd.board
    waiting, enqueued = waiting_since(deps, queue_id)
    counts: dict[str, int] = {}
    for agent_id, spec in board.specs.items():
        if queue_id in spec.queues:
            state = deps.acd.confirmed[agent_id].state
            counts[state] = counts.get(state, 0) + 1
    figures = deps.stats.live(now).queues.get(queue_id)
    today = figures.today if figures is not None else QueueFigures()
    return QueueView(
        id=queue_id,
        name=deps.queue_names[queue_id],
        waiting=waiting,
        longest_wait_seconds=round(max(0.0, now - min(enqueued)), 3) if enqueued else None,
        agents=AgentCounts(**counts),
        today=QueueToday(
            entered=today.entered,
            answered=today.answered,
            answered_in_sla=today.answered_in_sl,
            abandoned=today.abandoned,
            short_abandoned=today.short_abandoned,
            exited=today.exited,
            hung_up_by_supervisor=today.hung_up_by_supervisor,
            service_level=today.service_level,
            abandon_rate=today.abandon_rate,
            asa_seconds=today.asa,
            aht_seconds=today.aht,
        ),
        callbacks=deps.callbacks.queue_figures(queue_id),
    )


class QueueController(Controller):
    path = "/queues"
    tags = ["queues"]

    @get("/", guards=[requires("queues.read")], responses=documented(), sync_to_thread=False)
    def list_queues(self, deps: Deps, principal: Caller) -> QueueList:
        if not principal.home:
            return QueueList([])
        now = deps.clock.now()
        return QueueList([view(deps, queue_id, now) for queue_id in sorted(deps.queue_names)])

    @get("/{queue_id:str}", guards=[requires("queues.read")], responses=documented(), sync_to_thread=False)
    def get_queue(self, deps: Deps, principal: Caller, queue_id: Id) -> QueueView:
        if not principal.home or queue_id not in deps.queue_names:
            raise NotFound(f"no queue {queue_id[:64]!r}")
        return view(deps, queue_id, deps.clock.now())
