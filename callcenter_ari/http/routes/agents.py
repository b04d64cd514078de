"""Agents: who is logged in, in which state since when; log in, log out, ready, not ready."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
import structlog
from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from callcenter_ari.acd.decisions import ForcedState
from callcenter_ari.acd.records import AgentState
from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.http.errors import NotFound, documented
from callcenter_ari.http.params import Caller, Deps, Id
from callcenter_ari.http.routes.calls import CallView
from callcenter_ari.http.routes.calls import view as call_view

log = structlog.get_logger(__name__)

ReasonCode = Annotated[
    str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$(?!\n)", description="a reason code: lunch, training, ...")
]


# The board's states, and ``on_hold``: talking, with the caller on hold (the call says so, not the board).
ShownState = AgentState | Literal["on_hold"]


class AgentView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    state: ShownState
    since: float  # unix seconds
    reason: str  # why not ready (or why the last reservation ended)
    call_id: str  # the call they are reserved for, talking on or wrapping up
    calls: int  # calls answered since the agent record began
    talk_seconds: float
    until: float | None  # unix seconds: when wrap-up ends, or a break becomes overdue
    queues: list[str]
    call: CallView | None  # the live call they are reserved for or talking on, with its screen pop


class AgentList(msgspec.Struct, frozen=True):
    agents: list[AgentView]


class NotReady(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: ReasonCode


class ForceRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    state: ForcedState
    reason: ReasonCode = "supervisor"  # the not-ready reason shown (only with not_ready)


class Forced(msgspec.Struct, frozen=True, kw_only=True):
    agent: AgentView
    pending: bool  # on a call: logged_out/not_ready take effect when its wrap-up ends


class WrapupExtension(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)]  # added to the wrap-up, up to the queue's maximum


class WrapupExtended(msgspec.Struct, frozen=True, kw_only=True):
    agent: AgentView
    wrapup_until: float  # unix seconds


def view(deps: ApiDeps, agent_id: str) -> AgentView:
    record = deps.acd.confirmed[agent_id]
    spec = deps.acd.board.specs.get(agent_id)
    call = (deps.live_call(record.call_id) or deps.center.call(record.call_id)) if record.call_id else None
    state: ShownState = record.state
    if state == "talking" and call is not None and call.agent_id == agent_id and call.on_hold:
        state = "on_hold"
    return AgentView(
        id=agent_id,
        name=deps.agent_names.get(agent_id, ""),
        state=state,
        since=record.since,
        reason=record.reason,
        call_id=record.call_id,
        calls=record.calls,
        talk_seconds=record.talk_seconds,
        until=record.until,
        queues=list(spec.queues) if spec else [],
        call=call_view(call) if call is not None else None,
    )


def visible(deps: ApiDeps, principal: Principal, agent_id: str) -> str:
    """The agent's id if the caller may see it; otherwise 404, exactly as for an agent that does not exist."""
    if agent_id not in deps.acd.confirmed or not principal.sees_agent(agent_id):
        raise NotFound(f"no agent {agent_id[:64]!r}")
    return agent_id


# A state change answers 200 with the agent as it now is; 409 says why the change is not possible.
_CHANGE: dict[str, Any] = {
    "guards": [requires("agents.change")],
    "status_code": HTTP_200_OK,
    "responses": documented(409),
}


class AgentController(Controller):
    path = "/agents"
    tags = ["agents"]

    @get("/", guards=[requires("agents.read")], responses=documented(), sync_to_thread=False)
    def list_agents(self, deps: Deps, principal: Caller) -> AgentList:
        """Every agent the token may see, with state, since, calls and queues."""
        ids = [a for a in sorted(deps.acd.confirmed) if principal.sees_agent(a)]
        return AgentList([view(deps, agent_id) for agent_id in ids])

    @get("/{agent_id:str}", guards=[requires("agents.read")], responses=documented(), sync_to_thread=False)
    def get_agent(self, deps: Deps, principal: Caller, agent_id: Id) -> AgentView:
        return view(deps, visible(deps, principal, agent_id))

    @post("/{agent_id:str}/login", **_CHANGE)
    async def log_in(self, deps: Deps, principal: Caller, agent_id: Id) -> AgentView:
        """Log in (available at once); refused with 409 when the seat limit is reached. A persistent agent's phone
        is called first: they are logged in once it is up in their bridge (``agent.line`` events)."""
        await deps.acd.log_in(visible(deps, principal, agent_id))
        return _changed(deps, principal, agent_id)

    @post("/{agent_id:str}/logout", **_CHANGE)
    async def log_out(self, deps: Deps, principal: Caller, agent_id: Id) -> AgentView:
        """Log out (from available, not ready or wrap-up; not during a call); a persistent agent's line is hung up."""
        await deps.acd.log_out(visible(deps, principal, agent_id))
        return _changed(deps, principal, agent_id)

    @post("/{agent_id:str}/ready", **_CHANGE)
    async def ready(self, deps: Deps, principal: Caller, agent_id: Id) -> AgentView:
        """Available (from not ready, or ending wrap-up early); a waiting call may be offered at once."""
        await deps.acd.ready(visible(deps, principal, agent_id))
        return _changed(deps, principal, agent_id)

    @post("/{agent_id:str}/not-ready", **_CHANGE)
    async def not_ready(self, deps: Deps, principal: Caller, agent_id: Id, data: JSONBody[NotReady]) -> AgentView:
        """Not ready with a reason. An agent asking for themself is subject to their team's break limit."""
        visible(deps, principal, agent_id)
        policed = principal.role == "agent"
        await deps.acd.not_ready(agent_id, data.reason, policed=policed)
        return _changed(deps, principal, agent_id)

    @post("/{agent_id:str}/wrapup/extend", **_CHANGE)
    async def extend_wrapup(
        self, deps: Deps, principal: Caller, agent_id: Id, data: JSONBody[WrapupExtension]
    ) -> WrapupExtended:
        """More wrap-up time, within the queue's ``wrapup_max_seconds`` (409 beyond it, or when not in wrap-up).
        ``ready`` ends wrap-up early."""
        until = await deps.acd.extend_wrapup(visible(deps, principal, agent_id), data.seconds)
        return WrapupExtended(agent=_changed(deps, principal, agent_id), wrapup_until=until)

    @post("/{agent_id:str}/force", **{**_CHANGE, "guards": [requires("agents.force")]})
    async def force(self, deps: Deps, principal: Caller, agent_id: Id, data: JSONBody[ForceRequest]) -> Forced:
        """A supervisor sets the agent's state, no break limit applied; on a call, logged_out and not_ready wait
        for the end of its wrap-up (``pending``). Audited on the event stream as ``agent.forced``."""
        visible(deps, principal, agent_id)
        reason = data.reason if data.state == "not_ready" else "supervisor"
        pending = await deps.acd.force(agent_id, data.state, reason)
        deps.store.emit(
            "agent.forced",
            {"agent": agent_id, "state": data.state, "reason": reason, "pending": pending, "by": principal.name},
        )
        return Forced(agent=_changed(deps, principal, agent_id), pending=pending)


def _changed(deps: ApiDeps, principal: Principal, agent_id: str) -> AgentView:
    agent = view(deps, agent_id)
    log.info("api.agent_state", agent=agent_id, state=agent.state, reason=agent.reason or None, by=principal.name)
    return agent
