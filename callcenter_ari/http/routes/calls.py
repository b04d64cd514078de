"""Live calls: what is up now (caller, DID, phase, queue, agent, times), and what people do with them: hang up,
hold, transfer, consult, monitor.

A route never holds a call's live state: it reads the snapshot the call gives (calls/view.py), and before it hands
a request over it asks the call machine whether it would take it (``refusal``), answering 409 with the machine's
reason when not. What the API checks itself is only what the request names: configured queues, destinations and
agents (422), and whether a named agent is free (the ACD's board).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Literal

import msgspec
import structlog
from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED

from callcenter_ari.acd.decisions import RoutingAudit
from callcenter_ari.acd.errors import InvalidTransition
from callcenter_ari.ari.errors import AriError, ChannelGone
from callcenter_ari.calls.messages import (
    CancelConsult,
    CompleteTransfer,
    Consult,
    Hold,
    Request,
    StartConference,
    SupervisorHangup,
    TransferTo,
    TransferToAgent,
    Unhold,
)
from callcenter_ari.calls.records import CallPhase
from callcenter_ari.calls.view import CallSnapshot
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
    on_hold: bool  # the caller hears music and is not heard: held by the agent, or during a consultation
    # The screen pop: what the IVR learned about the caller.
    language: str
    skills: list[str]
    ivr_path: list[str]
    variables: dict[str, str]
    consult: ConsultView | None = None
    node: str = ""  # the Asterisk the call is on; acting on the call goes through the API of the process serving it


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


def view(call: CallSnapshot, node: str = "") -> CallView:
    consult = call.consult
    return CallView(
        node=node,
        id=call.call_id,
        caller=call.caller,
        caller_name=call.caller_name,
        did=call.did,
        source=call.source,
        phase=call.phase,
        queue=call.queue,
        priority=call.priority,
        agent_id=call.agent_id,
        started_at=call.started_at,
        answered_at=call.answered_at,
        enqueued_at=call.enqueued_at,
        connected_at=call.connected_at,
        on_hold=call.on_hold,
        language=call.language,
        skills=list(call.skills),
        ivr_path=list(call.ivr_path),
        variables=dict(call.variables),
        consult=ConsultView(agent_id=consult.agent_id, destination=consult.destination, answered=consult.answered)
        if consult is not None
        else None,
    )


def find(deps: ApiDeps, principal: Principal, call_id: str) -> CallSnapshot:
    call = deps.live_call(call_id)
    if call is None or not principal.sees_call(call.agent_id):
        raise NotFound(f"no live call {call_id[:64]!r}")
    return call


def asked(deps: ApiDeps, call: CallSnapshot, request: Request) -> None:
    """409 with the call machine's reason if it would not take the request now."""
    reason = deps.refusal(call.call_id, request)
    if reason is not None:
        raise Conflict(reason)


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
        """The calls up now on every node, oldest first (an agent token: the calls with that agent); ``node`` says
        which Asterisk each is on."""
        mine = deps.live_calls()
        shown = [(c, deps.node) for c in mine]
        shown += [(c, deps.center.node(c.call_id)) for c in deps.center.calls(c.call_id for c in mine)]
        shown.sort(key=lambda pair: (pair[0].started_at, pair[0].call_id))
        return CallList([view(c, node) for c, node in shown if principal.sees_call(c.agent_id)])

    @get("/{call_id:str}", guards=[requires("calls.read")], responses=documented(), sync_to_thread=False)
    def get_call(self, deps: Deps, principal: Caller, call_id: Id) -> CallView:
        """A call up now on any node (as its record last said, for another process's)."""
        if deps.live_call(call_id) is None:
            other = deps.center.call(call_id)
            if other is not None and principal.sees_call(other.agent_id):
                return view(other, deps.center.node(call_id))
        return view(find(deps, principal, call_id), deps.node)

    @get("/{call_id:str}/routing", guards=[requires("routing.read")], responses=documented(409), sync_to_thread=False)
    def routing(self, deps: Deps, principal: Caller, call_id: Id) -> RoutingAudit:
        """Why a waiting call has not been offered yet: every logged-in agent and the reason (busy, not ready, not
        eligible by skill or language). Decisions already taken are on the event stream as ``acd.routed``."""
        call = find(deps, principal, call_id)
        try:
            return deps.acd.board.explain(call.call_id, deps.clock.now())
        except InvalidTransition:
            raise Conflict(f"the call is {call.phase}: only a waiting call is explained") from None

    @post(
        "/{call_id:str}/hangup",
        guards=[requires("calls.hangup")],
        status_code=HTTP_202_ACCEPTED,
        responses=documented(502),
    )
    async def hang_up(self, deps: Deps, principal: Caller, call_id: Id) -> HangupAccepted:
        """Hang up the caller's channel; the call ends through its own events. A caller waiting for an agent ends
        as ``hung_up_by_supervisor``, counted apart from the callers' own abandons."""
        call = find(deps, principal, call_id)
        log.info("api.call_hangup", call_id=call_id, by=principal.name)
        # Marked first: the call's inbox keeps order, so the mark is there before the caller's hang-up event.
        deps.deliver(call.call_id, SupervisorHangup(principal.name or "api"))
        try:
            await deps.hangup(call.channel_id)
        except ChannelGone:
            pass  # already hanging up: the call is ending either way
        except AriError:
            deps.deliver(call.call_id, SupervisorHangup(""))  # not hung up: a later leaving is the caller's
            raise
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
        call = find(deps, principal, call_id)
        kind, name = _named(deps, {"queue": data.queue, "destination": data.destination, "agent": data.agent})
        if kind == "agent":
            _hand_on(deps, call, TransferToAgent(name), agent=name)
        else:
            _hand_on(deps, call, TransferTo("queue" if kind == "queue" else "destination", name))
        log.info("api.call_transfer", call_id=call_id, to=kind, target=name, by=principal.name)
        return view(call)

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
        call = find(deps, principal, call_id)
        kind, name = _named(deps, {"agent": data.agent, "destination": data.destination})
        if kind == "agent":
            _hand_on(deps, call, Consult("agent", name), agent=name)
        else:
            _hand_on(deps, call, Consult("destination", name))
        log.info("api.call_consult", call_id=call_id, to=kind, target=name, by=principal.name)
        return view(call)

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
        """Ring a configured supervisor's phone and let them listen to, whisper into, or barge into the call; with
        that supervisor on the call already, move them to the mode asked for (the same session, no second ring)."""
        call = find(deps, principal, call_id)
        try:
            session = deps.monitor.start(call.call_id, data.supervisor, data.mode)
        except MonitorError as exc:
            raise Conflict(str(exc)) from None
        log.info("api.call_monitor", call_id=call_id, by=principal.name, mode=data.mode)
        return MonitorAccepted(session.id)


def _hold(deps: ApiDeps, principal: Principal, call_id: str, *, held: bool) -> CallView:
    call = find(deps, principal, call_id)
    request = Hold() if held else Unhold()
    asked(deps, call, request)
    deps.deliver(call.call_id, request)
    log.info("api.call_hold", call_id=call_id, held=held, by=principal.name)
    return view(call)


def _named(deps: ApiDeps, given: dict[str, str | None]) -> tuple[str, str]:
    """The one target a request names, configured (422 naming the fields when it names none, several, or one that
    is not configured)."""
    named = [(field, value) for field, value in given.items() if value is not None]
    if len(named) != 1:
        fields = " | ".join(given)
        problems = [FieldProblem(field, f"give exactly one of {fields}") for field in given]
        raise Unprocessable(f"give exactly one of {fields}", problems)
    kind, name = named[0]
    configured: Collection[str] = {"queue": deps.queue_names, "destination": deps.destinations}.get(
        kind, deps.agent_names
    )
    if name not in configured:
        raise Unprocessable(f"no {kind} {name!r}", [FieldProblem(kind, f"not a configured {kind}")])
    return kind, name


def _hand_on(deps: ApiDeps, call: CallSnapshot, request: Request, *, agent: str = "") -> None:
    """Hand the call a request that names a target, once the call would take it and a named agent is free (409
    otherwise). The ACD reserves the agent atomically when the call acts on it; should someone else take them
    first, the call says so on the event stream."""
    asked(deps, call, request)
    state = deps.acd.board.state(agent) if agent else "available"
    if state != "available":
        raise Conflict(f"agent {agent} is {state}: not available")
    deps.deliver(call.call_id, request)


def _end_consult(deps: ApiDeps, principal: Principal, call_id: str, how: Request) -> CallView:
    call = find(deps, principal, call_id)
    asked(deps, call, how)
    deps.deliver(call.call_id, how)
    log.info("api.call_consult_end", call_id=call_id, how=type(how).__name__, by=principal.name)
    return view(call)
