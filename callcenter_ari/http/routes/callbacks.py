"""Callbacks: list them, schedule one (the CRM, an agent in wrap-up), cancel or reschedule one.

The routes decode and hand over to the callback service (runtime/callbacks.py); the number is checked against the
number plan there, before it can reach a dial string or a key. An agent token sees and changes only callbacks for
anyone or for itself, and schedules callbacks for itself unless it names no agent at all.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
import structlog
from litestar import Controller, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from callcenter_ari.callback.entry import Entry, State
from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.errors import Conflict, FieldProblem, NotFound, Unprocessable, documented
from callcenter_ari.http.params import Caller, Deps, Id
from callcenter_ari.runtime.callbacks import CallbackError
from callcenter_ari.store.callbacks import Duplicate
from callcenter_ari.store.keys import ID_PATTERN

log = structlog.get_logger(__name__)

_ID = Annotated[str, msgspec.Meta(pattern=ID_PATTERN, max_length=128)]
# A unix time from 2001 to 2286: a clear 422 for milliseconds or a date typed as a number.
Instant = Annotated[float, msgspec.Meta(ge=1e9, le=1e10)]


class CallbackView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    queue: str
    number: str  # E.164
    origin: Literal["virtual_hold", "scheduled", "ticket"]
    state: State
    place: float  # its place in line (unix seconds): the caller's arrival, or the time it was scheduled for
    requested_at: float
    not_before: float | None  # waiting until then (scheduled, a retry, the window)
    expires_at: float
    attempts: int
    agent: str  # for this agent only (until anyone_at), or ""
    anyone_at: float | None
    mode: Literal["agent_first", "customer_first"]
    priority: int
    note: str
    ticket: str
    call_id: str  # the call it was asked for from
    last_outcome: str


class CallbackList(msgspec.Struct, frozen=True):
    callbacks: list[CallbackView]


class NewCallback(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    queue: _ID
    number: Annotated[str, msgspec.Meta(min_length=3, max_length=32, description="E.164, or national in the plan")]
    at: Instant | None = None  # when to call; none: as soon as its turn comes
    agent: _ID | None = None  # for this agent only, falling back to anyone after the queue's anyone_after_seconds
    deadline: Instant | None = None  # never placed after this (a complaint's promised callback)
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""
    ticket: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[A-Za-z0-9-]*$")] = ""
    priority: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0


class Reschedule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    at: Instant


def view(entry: Entry) -> CallbackView:
    return CallbackView(
        id=entry.id,
        queue=entry.queue,
        number=entry.number,
        origin=entry.origin,
        state=entry.state,
        place=entry.place,
        requested_at=entry.requested_at,
        not_before=entry.not_before,
        expires_at=entry.expires_at,
        attempts=entry.attempts,
        agent=entry.agent,
        anyone_at=entry.anyone_at,
        mode=entry.mode,
        priority=entry.priority,
        note=entry.note,
        ticket=entry.ticket,
        call_id=entry.call_id,
        last_outcome=entry.last_outcome,
    )


def _sees(principal: Principal, entry: Entry) -> bool:
    return principal.home and (principal.role != "agent" or entry.agent in ("", principal.agent_id))


def _refused(exc: CallbackError) -> Exception:
    if exc.field:
        return Unprocessable(str(exc), [FieldProblem(exc.field, str(exc))])
    if exc.conflict:
        return Conflict(str(exc))
    return NotFound(str(exc))


class CallbackController(Controller):
    path = "/callbacks"
    tags = ["callbacks"]

    @get("/", guards=[requires("callbacks.read")], responses=documented())
    async def list_callbacks(
        self,
        deps: Deps,
        principal: Caller,
        queue: Annotated[str | None, QueryParameter(max_length=128)] = None,
        in_state: Annotated[State | None, QueryParameter(name="state")] = None,  # "state" is Litestar's own name
    ) -> CallbackList:
        """The live callbacks in order of their places, then the latest ended ones, newest first."""
        if not principal.home:
            return CallbackList([])
        stored = [*await deps.callbacks.store.live(), *await deps.callbacks.store.ended()]
        return CallbackList(
            [
                view(s.entry)
                for s in stored
                if _sees(principal, s.entry)
                and (queue is None or s.entry.queue == queue)
                and (in_state is None or s.entry.state == in_state)
            ]
        )

    @get("/{callback_id:str}", guards=[requires("callbacks.read")], responses=documented())
    async def get_callback(self, deps: Deps, principal: Caller, callback_id: Id) -> CallbackView:
        stored = await deps.callbacks.store.get(callback_id) if principal.home else None
        if stored is None or not _sees(principal, stored.entry):
            raise NotFound(f"no callback {callback_id[:64]!r}")
        return view(stored.entry)

    @post("/", guards=[requires("callbacks.manage")], status_code=HTTP_201_CREATED, responses=documented(409))
    async def schedule(self, deps: Deps, principal: Caller, data: JSONBody[NewCallback]) -> CallbackView:
        """Schedule a callback; 409 when the number has one pending for the queue already."""
        if not principal.home:
            raise NotFound("no callbacks for this token's tenant here")
        if data.queue not in deps.queue_names:
            raise Unprocessable(f"no queue {data.queue!r}", [FieldProblem("queue", "no such queue")])
        agent = data.agent or ""
        if principal.role == "agent" and agent not in ("", principal.agent_id):
            raise Unprocessable("an agent schedules callbacks for itself", [FieldProblem("agent", "not yours")])
        if agent and agent not in deps.agent_names:
            raise Unprocessable(f"no agent {agent!r}", [FieldProblem("agent", "no such agent")])
        try:
            entry = await deps.callbacks.schedule(
                queue=data.queue,
                number=data.number,
                at=data.at,
                agent=agent,
                deadline=data.deadline,
                note=data.note,
                ticket=data.ticket,
                priority=data.priority,
                origin="ticket" if data.ticket else "scheduled",
            )
        except Duplicate as dup:
            raise Conflict(f"{dup}: cancel or reschedule {dup.existing}") from None
        except CallbackError as exc:
            raise _refused(exc) from None
        log.info("api.callback_scheduled", by=principal.name, callback_id=entry.id, queue=entry.queue)
        return view(entry)

    @post(
        "/{callback_id:str}/cancel",
        guards=[requires("callbacks.manage")],
        status_code=HTTP_200_OK,
        responses=documented(409),
    )
    async def cancel(self, deps: Deps, principal: Caller, callback_id: Id) -> CallbackView:
        """Cancel a callback not being dialled now (409 while it is, or once it ended)."""
        await self._visible(deps, principal, callback_id)
        try:
            entry = await deps.callbacks.cancel(callback_id, principal.name)
        except CallbackError as exc:
            raise _refused(exc) from None
        log.info("api.callback_cancelled", by=principal.name, callback_id=callback_id)
        return view(entry)

    @post(
        "/{callback_id:str}/reschedule",
        guards=[requires("callbacks.manage")],
        status_code=HTTP_200_OK,
        responses=documented(409),
    )
    async def reschedule(
        self, deps: Deps, principal: Caller, callback_id: Id, data: JSONBody[Reschedule]
    ) -> CallbackView:
        """Move a callback to a new time (its place in line becomes that time)."""
        await self._visible(deps, principal, callback_id)
        try:
            entry = await deps.callbacks.reschedule(callback_id, data.at)
        except CallbackError as exc:
            raise _refused(exc) from None
        log.info("api.callback_rescheduled", by=principal.name, callback_id=callback_id)
        return view(entry)

    async def _visible(self, deps: Deps, principal: Principal, callback_id: str) -> None:
        stored = await deps.callbacks.store.get(callback_id) if principal.home else None
        if stored is None or not _sees(principal, stored.entry):
            raise NotFound(f"no callback {callback_id[:64]!r}")
