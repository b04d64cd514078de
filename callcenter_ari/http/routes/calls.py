"""Live calls: what is up now (caller, DID, phase, queue, agent, times), and hanging one up."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
import structlog
from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED

from callcenter_ari.acd.decisions import RoutingAudit
from callcenter_ari.acd.errors import InvalidTransition
from callcenter_ari.ari.errors import ChannelGone
from callcenter_ari.calls.messages import (
    CancelConsult,
    CompleteTransfer,
    Consult,
    Hold,
    Input,
    StartConference,
    TransferTo,
    TransferToAgent,
    Unhold,
)
from callcenter_ari.calls.records import CallPhase, CallRecord
from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.http.errors import Conflict, FieldProblem, NotFound, Unprocessable, documented
from callcenter_ari.http.params import Caller, Deps, Id
from callcenter_ari.runtime.monitor import MonitorError

log = structlog.get_logger(__name__)


class ConsultView(msgspec.Struct, frozen=True, kw_only=True):
    """The consultation (or conference) under way: who is consulted, and whether they answered."""

    agent_id: str  # the agent consulted; "" for a destination
    destination: str  # the configured destination consulted; "" for an agent
    answered: bool


class CallView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    caller: str
    caller_name: str
    did: str
    source: str  # the trunk it came in on
    phase: CallPhase
    queue: str
    priority: int
    agent_id: str
    started_at: float  # unix seconds
    answered_at: float | None
    enqueued_at: float | None
    connected_at: float | None  # when the agent answered
    # The screen pop: what the IVR learned about the caller.
    language: str
    skills: list[str]
    ivr_path: list[str]
    variables: dict[str, str]
    consult: ConsultView | None = None


class CallList(msgspec.Struct, frozen=True):
    calls: list[CallView]


_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$(?!\n)"  # a configured id; (?!\n): $ also matches before a final newline


class MonitorRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    supervisor: Annotated[str, msgspec.Meta(pattern=_NAME)]  # a configured id
    mode: Literal["listen", "whisper", "barge"] = "listen"


class TransferRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Exactly one of: a queue to wait in again, a configured destination (ivr.destinations) to be dialled, or an
    agent (by id) to be rung."""

    queue: Annotated[str, msgspec.Meta(pattern=_NAME)] | None = None
    destination: Annotated[str, msgspec.Meta(pattern=_NAME)] | None = None
    agent: Annotated[str, msgspec.Meta(pattern=_NAME)] | None = None


class ConsultRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Exactly one of: an agent (by id) or a configured destination to talk to while the caller holds."""

    agent: Annotated[str, msgspec.Meta(pattern=_NAME)] | None = None
    destination: Annotated[str, msgspec.Meta(pattern=_NAME)] | None = None


class MonitorAccepted(msgspec.Struct, frozen=True):
    session_id: str
    status: str = "ringing_supervisor"  # bridged once the supervisor's phone answers


class HangupAccepted(msgspec.Struct, frozen=True):
    call_id: str
    status: str = "hanging_up"  # the call's own hang-up events end it (and its record) a moment later


def view(record: CallRecord) -> CallView:
    return CallView(
        id=record.call_id,
        caller=record.caller,
        caller_name=record.caller_name,
        did=record.did,
        source=record.source,
        phase=record.phase,
        queue=record.queue,
        priority=record.priority,
        agent_id=record.agent_id,
        started_at=record.started_at,
        answered_at=record.answered_at,
        enqueued_at=record.enqueued_at,
        connected_at=record.connected_at,
        language=record.language,
        skills=list(record.skills),
        ivr_path=list(record.ivr_path),
        variables=dict(record.variables),
        consult=ConsultView(
            agent_id=record.consult_agent,
            destination="" if record.consult_agent else record.consult_target,
            answered=record.consult_answered_at is not None,
        )
        if record.consult_target
        else None,
    )


def find(deps: ApiDeps, principal: Principal, call_id: str) -> CallRecord:
    for record in deps.live_calls():
        if record.call_id == call_id and principal.sees_call(record.agent_id):
            return record
    raise NotFound(f"no live call {call_id[:64]!r}")


def _consult_step(step: str) -> post:
    """The route of a step that ends a consultation: no body, the same permission as starting it."""
    return post(
        f"/{{call_id:str}}/consult/{step}",
        guards=[requires("calls.transfer")],
        status_code=HTTP_202_ACCEPTED,
        responses=documented(409),
        sync_to_thread=False,
    )


class CallController(Controller):
    path = "/calls"
    tags = ["calls"]

    @get("/", guards=[requires("calls.read")], responses=documented(), sync_to_thread=False)
    def list_calls(self, deps: Deps, principal: Caller) -> CallList:
        """The calls up now, oldest first (an agent token: the calls with that agent)."""
        records = sorted(deps.live_calls(), key=lambda r: (r.started_at, r.call_id))
        return CallList([view(r) for r in records if principal.sees_call(r.agent_id)])

    @get("/{call_id:str}", guards=[requires("calls.read")], responses=documented(), sync_to_thread=False)
    def get_call(self, deps: Deps, principal: Caller, call_id: Id) -> CallView:
        return view(find(deps, principal, call_id))

    @get("/{call_id:str}/routing", guards=[requires("routing.read")], responses=documented(409), sync_to_thread=False)
    def routing(self, deps: Deps, principal: Caller, call_id: Id) -> RoutingAudit:
        """Why a waiting call has not been offered yet: every logged-in agent and the reason (busy, not ready, not
        eligible by skill or language). Decisions already taken are on the event stream as ``acd.routed``."""
        record = find(deps, principal, call_id)
        try:
            return deps.acd.board.explain(record.call_id, deps.clock.now())
        except InvalidTransition:
            raise Conflict(f"the call is {record.phase}: only a waiting call is explained") from None

    @post(
        "/{call_id:str}/hangup",
        guards=[requires("calls.hangup")],
        status_code=HTTP_202_ACCEPTED,
        responses=documented(502),
    )
    async def hang_up(self, deps: Deps, principal: Caller, call_id: Id) -> HangupAccepted:
        """Hang up the caller's channel; the call ends through its own events, as if the caller had hung up."""
        record = find(deps, principal, call_id)
        log.info("api.call_hangup", call_id=call_id, by=principal.name)
        try:
            await deps.hangup(record.channel_id)
        except ChannelGone:
            pass  # already hanging up: the call is ending either way
        return HangupAccepted(call_id)

    @post(
        "/{call_id:str}/hold",
        guards=[requires("calls.hold")],
        status_code=HTTP_202_ACCEPTED,
        responses=documented(409),
        sync_to_thread=False,
    )
    def hold(self, deps: Deps, principal: Caller, call_id: Id) -> CallView:
        """Music for the caller, who no longer hears or is heard by the agent; the supervisors are alerted when the
        queue's ``hold_alert_seconds`` pass."""
        return _hold(deps, principal, call_id, held=True)

    @post(
        "/{call_id:str}/unhold",
        guards=[requires("calls.hold")],
        status_code=HTTP_202_ACCEPTED,
        responses=documented(409),
        sync_to_thread=False,
    )
    def unhold(self, deps: Deps, principal: Caller, call_id: Id) -> CallView:
        return _hold(deps, principal, call_id, held=False)

    @post(
        "/{call_id:str}/transfer",
        guards=[requires("calls.transfer")],
        status_code=HTTP_202_ACCEPTED,
        responses=documented(409, 422),
        sync_to_thread=False,
    )
    def transfer(self, deps: Deps, principal: Caller, call_id: Id, data: JSONBody[TransferRequest]) -> CallView:
        """Blind transfer: the agent's leg ends (wrap-up) and the caller waits in the queue, is dialled on, or
        rings the named agent (reserved for the call; if they do not answer, the caller is back in line)."""
        record = find(deps, principal, call_id)
        given = {"queue": data.queue, "destination": data.destination, "agent": data.agent}
        kind, name = _one_of(given)
        if kind == "queue" and name not in deps.queue_names:
            raise Unprocessable(f"no queue {name!r}", [FieldProblem("queue", "not a configured queue")])
        if kind == "destination":
            _check_destination(deps, name)
        if record.phase != "talking":
            raise Conflict(f"the call is {record.phase}: only a connected call can be transferred")
        target: Input
        if kind == "agent":
            _check_agent(deps, record, name)
            target = TransferToAgent(name)
        else:
            target = TransferTo("queue" if kind == "queue" else "destination", name)
        deps.deliver(record.call_id, target)
        log.info("api.call_transfer", call_id=call_id, to=kind, target=name, by=principal.name)
        return view(record)

    @post(
        "/{call_id:str}/consult",
        guards=[requires("calls.transfer")],
        status_code=HTTP_202_ACCEPTED,
        responses=documented(409, 422),
        sync_to_thread=False,
    )
    def consult(self, deps: Deps, principal: Caller, call_id: Id, data: JSONBody[ConsultRequest]) -> CallView:
        """Attended transfer, first step: the caller is held (music) and the agent is connected to the named agent
        (reserved for the call) or the configured destination; then complete, cancel or conference."""
        record = find(deps, principal, call_id)
        kind, name = _one_of({"agent": data.agent, "destination": data.destination})
        if kind == "destination":
            _check_destination(deps, name)
        if record.phase == "consulting":
            raise Conflict("a consultation is in progress already: complete or cancel it first")
        if record.phase != "talking":
            raise Conflict(f"the call is {record.phase}: only a connected call can consult")
        if record.agent_bridge:
            raise Conflict("a persistent agent's call cannot consult: transfer it to a queue or a destination")
        if kind == "agent":
            _check_agent(deps, record, name)
        elif not record.agent_id:
            raise Conflict("the call has no agent on it to consult for")
        deps.deliver(record.call_id, Consult("agent" if kind == "agent" else "destination", name))
        log.info("api.call_consult", call_id=call_id, to=kind, target=name, by=principal.name)
        return view(record)

    @_consult_step("complete")
    def complete_consult(self, deps: Deps, principal: Caller, call_id: Id) -> CallView:
        """The caller joins the consulted party; the agent's leg ends and the agent goes to wrap-up."""
        return _end_consult(deps, principal, call_id, CompleteTransfer())

    @_consult_step("cancel")
    def cancel_consult(self, deps: Deps, principal: Caller, call_id: Id) -> CallView:
        """The consulted party is hung up (and freed); the agent is back with the caller, who is off hold."""
        return _end_consult(deps, principal, call_id, CancelConsult())

    @_consult_step("conference")
    def conference(self, deps: Deps, principal: Caller, call_id: Id) -> CallView:
        """Caller, agent and consulted party talk together; any one may leave and the other two talk on."""
        return _end_consult(deps, principal, call_id, StartConference())

    @post(
        "/{call_id:str}/monitor",
        guards=[requires("calls.monitor")],
        status_code=HTTP_202_ACCEPTED,
        responses=documented(409),
        sync_to_thread=False,
    )
    def monitor(self, deps: Deps, principal: Caller, call_id: Id, data: JSONBody[MonitorRequest]) -> MonitorAccepted:
        """Ring a configured supervisor's phone and let them listen to, whisper into, or barge into the call."""
        record = find(deps, principal, call_id)
        try:
            session = deps.monitor.start(record.call_id, data.supervisor, data.mode)
        except MonitorError as exc:
            raise Conflict(str(exc)) from None
        log.info("api.call_monitor", call_id=call_id, by=principal.name, mode=data.mode)
        return MonitorAccepted(session.id)


def _hold(deps: ApiDeps, principal: Principal, call_id: str, *, held: bool) -> CallView:
    record = find(deps, principal, call_id)
    if record.phase != "talking":
        raise Conflict(f"the call is {record.phase}: only a call with an agent can be put on hold")
    deps.deliver(record.call_id, Hold() if held else Unhold())
    log.info("api.call_hold", call_id=call_id, held=held, by=principal.name)
    return view(record)


def _one_of(given: dict[str, str | None]) -> tuple[str, str]:
    """The one target a request names (422 naming the fields when it names none or several)."""
    named = [(field, value) for field, value in given.items() if value is not None]
    if len(named) != 1:
        fields = " | ".join(given)
        problems = [FieldProblem(field, f"give exactly one of {fields}") for field in given]
        raise Unprocessable(f"give exactly one of {fields}", problems)
    return named[0]


def _check_destination(deps: ApiDeps, name: str) -> None:
    if name not in deps.destinations:
        problem = FieldProblem("destination", "not a configured destination")
        raise Unprocessable(f"no destination {name!r}", [problem])


def _check_agent(deps: ApiDeps, record: CallRecord, agent_id: str) -> None:
    """A named target agent must be configured (422), not the call's own agent, and available now (409). The ACD
    reserves them atomically when the call acts on the request; should someone else take them first, the call
    says so on the event stream."""
    if agent_id not in deps.agent_names:
        raise Unprocessable(f"no agent {agent_id!r}", [FieldProblem("agent", "not a configured agent")])
    if not record.agent_id:
        raise Conflict("the call has no agent on it to hand it over")
    if record.agent_bridge:
        raise Conflict("a persistent agent's call goes on to a queue or a destination, not to a named agent")
    if agent_id == record.agent_id:
        raise Conflict(f"agent {agent_id} is the agent on this call")
    state = deps.acd.board.state(agent_id)
    if state != "available":
        raise Conflict(f"agent {agent_id} is {state}: not available")


def _end_consult(deps: ApiDeps, principal: Principal, call_id: str, how: Input) -> CallView:
    record = find(deps, principal, call_id)
    if record.phase != "consulting":
        raise Conflict(f"the call is {record.phase}: no consultation in progress")
    if not isinstance(how, CancelConsult) and record.consult_answered_at is None:
        raise Conflict("the consulted party has not answered yet: wait, or cancel")
    deps.deliver(record.call_id, how)
    log.info("api.call_consult_end", call_id=call_id, how=type(how).__name__, by=principal.name)
    return view(record)
