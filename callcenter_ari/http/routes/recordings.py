"""Recordings: list with filters, metadata, the audio streamed from Asterisk, deletion under the retention rules,
each agent's self-review of the day, and control of a live call's recording.

Who sees what is decided per recording (recording/access.py): an agent their own, supervisors, QA, admins and the
CRM their tenant's, nobody another tenant's. A recording the caller may not see is simply not found.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

import msgspec
import structlog
from litestar import Controller, delete, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from callcenter_ari.ari.errors import NotFound as AriNotFound
from callcenter_ari.calls.messages import RecordingControl
from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.http.errors import BadRequest, Conflict, FieldProblem, NotFound, documented
from callcenter_ari.http.params import Caller, Deps, Id
from callcenter_ari.http.routes.calls import CallView, asked, find, view
from callcenter_ari.recording.access import Viewer, can_delete, can_read
from callcenter_ari.recording.model import DeletionAudit, Recording
from callcenter_ari.recording.qa import ReviewItem, day_review
from callcenter_ari.recording.recorder import Action
from callcenter_ari.recording.retention import RetentionRefused

log = structlog.get_logger(__name__)

State = Literal["recording", "paused", "done", "failed"]
_DAY = r"^\d{4}-\d{2}-\d{2}$(?!\n)"
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$(?!\n)"


class RecordingView(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    call_id: str
    agent_id: str
    queue: str
    caller: str
    started_at: float  # unix seconds
    ended_at: float | None
    duration: float  # seconds of audio (pauses excluded)
    paused_seconds: float
    format: str
    state: str
    reason: str  # policy or on_demand
    segment: int  # 1 for the first agent, 2 after a transfer, ...
    played_by: list[str]


class RecordingList(msgspec.Struct, frozen=True):
    recordings: list[RecordingView]


class DayReview(msgspec.Struct, frozen=True, kw_only=True):
    agent_id: str
    day: str
    played: int
    recordings: list[ReviewItem]


class AuditList(msgspec.Struct, frozen=True):
    deletions: list[DeletionAudit]


class RecordingRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    action: Action  # start, stop, pause, resume


def viewer(principal: Principal) -> Viewer:
    return Viewer(principal.role, principal.tenant, principal.agent_id)


def recording_view(rec: Recording) -> RecordingView:
    return RecordingView(
        name=rec.name,
        call_id=rec.call_id,
        agent_id=rec.agent_id,
        queue=rec.queue,
        caller=rec.caller,
        started_at=rec.started_at,
        ended_at=rec.ended_at,
        duration=rec.duration,
        paused_seconds=rec.paused_seconds,
        format=rec.format,
        state=rec.state,
        reason=rec.reason,
        segment=rec.segment,
        played_by=list(rec.played_by),
    )


async def visible(deps: ApiDeps, principal: Principal, name: str) -> Recording:
    rec = await deps.recordings.get(name) if principal.home else None
    if rec is None or not can_read(viewer(principal), rec):
        raise NotFound(f"no recording {name[:64]!r}")
    return rec


def _day_bounds(day: str | None, now: float) -> tuple[str, float, float]:
    try:
        start = date.fromisoformat(day) if day else datetime.fromtimestamp(now, UTC).date()
        begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
        return start.isoformat(), begin.timestamp(), (begin + timedelta(days=1)).timestamp()
    except (ValueError, OverflowError):
        raise BadRequest(f"day {day!r} is not a date", [FieldProblem("day", "YYYY-MM-DD")]) from None


class RecordingController(Controller):
    path = "/recordings"
    tags = ["recordings"]

    @get("/", guards=[requires("recordings.read")], responses=documented())
    async def list_recordings(
        self,
        deps: Deps,
        principal: Caller,
        agent_id: Annotated[str | None, QueryParameter(pattern=_ID)] = None,
        call_id: Annotated[str | None, QueryParameter(pattern=_ID)] = None,
        queue: Annotated[str | None, QueryParameter(max_length=64)] = None,
        in_state: Annotated[State | None, QueryParameter(name="state")] = None,
        since: Annotated[float | None, QueryParameter(ge=0, description="started at or after (unix seconds)")] = None,
        until: Annotated[float | None, QueryParameter(ge=0, description="started before (unix seconds)")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> RecordingList:
        """Recordings newest first, by agent, call, queue, state and start time (an agent token: their own)."""
        if not principal.home or (principal.role == "agent" and agent_id not in (None, principal.agent_id)):
            return RecordingList([])
        if principal.role == "agent":
            agent_id = principal.agent_id
        # Queue and state are filtered after reading: read a few pages' worth so that `limit` is usually filled.
        reach = limit if queue is None and in_state is None else limit * 10
        names = await deps.recordings.names(
            agent_id=agent_id or "", call_id=call_id or "", since=since, until=until, limit=reach
        )
        who = viewer(principal)
        found = [
            rec
            for rec in await deps.recordings.get_many(names)
            if can_read(who, rec)
            and (queue is None or rec.queue == queue)
            and (in_state is None or rec.state == in_state)
            and (not agent_id or rec.agent_id == agent_id)
        ]
        return RecordingList([recording_view(rec) for rec in found[:limit]])

    @get("/review", guards=[requires("recordings.read")], responses=documented())
    async def review(
        self,
        deps: Deps,
        principal: Caller,
        agent_id: Annotated[str | None, QueryParameter(pattern=_ID)] = None,
        day: Annotated[str | None, QueryParameter(pattern=_DAY, description="YYYY-MM-DD (UTC); default today")] = None,
    ) -> DayReview:
        """An agent's recordings of one day, with the ones they have already played: the end-of-day self-review.
        An agent token reviews its own agent; other roles name the agent."""
        who = agent_id or (principal.agent_id if principal.role == "agent" else "")
        if not who:
            raise BadRequest("name the agent to review", [FieldProblem("agent_id", "required for this role")])
        label, start, end = _day_bounds(day, deps.clock.now())
        if not principal.sees_agent(who):
            return DayReview(agent_id=who, day=label, played=0, recordings=[])
        names = await deps.recordings.names(agent_id=who, since=start, until=end, newest_first=False)
        items = day_review(await deps.recordings.get_many(names), who, start, end)
        return DayReview(agent_id=who, day=label, played=sum(item.played for item in items), recordings=items)

    @get("/audit", guards=[requires("recordings.delete")], responses=documented())
    async def audit(
        self, deps: Deps, principal: Caller, limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100
    ) -> AuditList:
        """Every deletion, newest first: what, when, by whom, why, and how old it was."""
        return AuditList(await deps.recordings.audit(limit) if principal.home else [])

    @get("/{name:str}", guards=[requires("recordings.read")], responses=documented())
    async def get_recording(self, deps: Deps, principal: Caller, name: Id) -> RecordingView:
        return recording_view(await visible(deps, principal, name))

    @get(
        "/{name:str}/file",
        guards=[requires("recordings.read")],
        responses=documented(409, 502),
        media_type="application/octet-stream",
    )
    async def download(self, deps: Deps, principal: Caller, name: Id) -> Stream:
        """The audio, streamed from Asterisk's stored recordings; counts as played for the self-review."""
        rec = await visible(deps, principal, name)
        if rec.state != "done":
            raise Conflict(f"the recording is {rec.state}: only a finished recording can be fetched")
        try:
            stored = await deps.open_recording(rec.name)
        except AriNotFound:
            raise NotFound(f"Asterisk has no file for recording {rec.name!r}") from None
        player = principal.agent_id if principal.role == "agent" else principal.name
        try:
            await deps.recordings.mark_played(rec.name, player)
        except BaseException:
            await stored.aclose()  # the stream never starts: close the download now
            raise
        log.info("api.recording_fetched", recording=rec.name, by=principal.name)
        headers = {"Content-Disposition": f'attachment; filename="{rec.name}.{rec.format}"'}
        if stored.size is not None:
            headers["Content-Length"] = str(stored.size)
        return Stream(stored.chunks(), media_type=stored.content_type, headers=headers)

    @delete("/{name:str}", guards=[requires("recordings.delete")], status_code=HTTP_200_OK, responses=documented(409))
    async def delete_recording(self, deps: Deps, principal: Caller, name: Id) -> DeletionAudit:
        """Delete the audio and mark the recording deleted, audited; refused (409) before the minimum keep time."""
        rec = await visible(deps, principal, name)
        if not can_delete(viewer(principal), rec):
            raise NotFound(f"no recording {name[:64]!r}")
        try:
            return await deps.delete_recording(rec, principal.name)
        except RetentionRefused as exc:
            raise Conflict(str(exc), [FieldProblem("name", exc.reason)]) from None


class CallRecordingController(Controller):
    """Start, stop, pause or resume a live call's recording (pause while a customer reads out a card number)."""

    path = "/calls"
    tags = ["calls", "recordings"]

    @post(
        "/{call_id:str}/recording",
        guards=[requires("recordings.control")],
        status_code=HTTP_202_ACCEPTED,
        responses=documented(409),
        sync_to_thread=False,
    )
    def control(self, deps: Deps, principal: Caller, call_id: Id, data: JSONBody[RecordingRequest]) -> CallView:
        call = find(deps, principal, call_id)
        request = RecordingControl(data.action)
        asked(deps, call, request)  # 409 when the call is not where its recording can change, or it does not apply
        deps.deliver(call.call_id, request)
        log.info("api.recording_control", call_id=call_id, action=data.action, by=principal.name)
        return view(call)
