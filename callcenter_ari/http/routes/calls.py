"""Live calls: what is up now (caller, DID, phase, queue, agent, times), and hanging one up."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
import structlog
from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED

from callcenter_ari.ari.errors import ChannelGone
from callcenter_ari.calls.messages import Hold, TransferTo, Unhold
from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.http.errors import Conflict, FieldProblem, NotFound, Unprocessable, documented
from callcenter_ari.http.params import Caller, Deps, Id
from callcenter_ari.runtime.monitor import MonitorError
from callcenter_ari.store.records import CallPhase, CallRecord

log = structlog.get_logger(__name__)


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


class CallList(msgspec.Struct, frozen=True):
    calls: list[CallView]


_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$(?!\n)"  # a configured id; (?!\n): $ also matches before a final newline


class MonitorRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    supervisor: Annotated[str, msgspec.Meta(pattern=_NAME)]  # a configured id
    mode: Literal["listen", "whisper", "barge"] = "listen"


class TransferRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Exactly one of: a queue to wait in again, or a configured destination (ivr.destinations) to be dialled."""

    queue: Annotated[str, msgspec.Meta(pattern=_NAME)] | None = None
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
    )


def find(deps: ApiDeps, principal: Principal, call_id: str) -> CallRecord:
    for record in deps.live_calls():
        if record.call_id == call_id and principal.sees_call(record.agent_id):
            return record
    raise NotFound(f"no live call {call_id[:64]!r}")


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
        """Blind transfer: the agent's leg ends (wrap-up) and the caller waits in the queue, or is dialled on."""
        if (data.queue is None) == (data.destination is None):
            raise Unprocessable("give exactly one of queue and destination", [FieldProblem("queue", "or destination")])
        if data.queue is not None and data.queue not in deps.queue_names:
            raise Unprocessable(f"no queue {data.queue!r}", [FieldProblem("queue", "not a configured queue")])
        if data.destination is not None and data.destination not in deps.destinations:
            problem = FieldProblem("destination", "not a configured destination")
            raise Unprocessable(f"no destination {data.destination!r}", [problem])
        record = find(deps, principal, call_id)
        if record.phase != "talking":
            raise Conflict(f"the call is {record.phase}: only a connected call can be transferred")
        target = TransferTo("queue", data.queue) if data.queue else TransferTo("destination", data.destination or "")
        deps.deliver(record.call_id, target)
        log.info("api.call_transfer", call_id=call_id, to=target.kind, target=target.target, by=principal.name)
        return view(record)

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
