"""What a live call shows to the outside (the API, an agent's screen pop): a frozen snapshot of its record.

The call machine alone holds and changes the record; whoever else wants to know about the call gets a snapshot,
taken on demand, which nothing can change and which does not change under them.
"""

from __future__ import annotations

import msgspec

from callcenter_ari.calls.records import CallPhase, CallRecord


class ConsultSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The consultation (or conference) under way: who is consulted, and whether they answered."""

    agent_id: str  # the agent consulted; "" for a destination
    destination: str  # the configured destination consulted; "" for an agent
    answered: bool


class CallSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    call_id: str
    channel_id: str  # the caller's
    caller: str
    caller_name: str
    did: str
    source: str  # the trunk it came in on
    phase: CallPhase
    queue: str
    priority: int
    agent_id: str
    persistent: bool  # the agent takes calls in a bridge of their own, on a line that outlives the call
    legs: tuple[str, ...]  # the legs the call dialled that are up now: the agent's, a consultation's, ring-all legs
    started_at: float
    answered_at: float | None
    enqueued_at: float | None
    connected_at: float | None
    on_hold: bool  # the caller hears music and is not heard (held by the agent, or during a consultation)
    hold_seconds: float  # on hold before now, in all
    # The screen pop: what the IVR learned about the caller.
    language: str
    skills: tuple[str, ...]
    ivr_path: tuple[str, ...]
    variables: dict[str, str]  # a copy
    consult: ConsultSnapshot | None


def snapshot(record: CallRecord) -> CallSnapshot:
    consult = None
    if record.consult_target:
        consult = ConsultSnapshot(
            agent_id=record.consult_agent,
            destination="" if record.consult_agent else record.consult_target,
            answered=record.consult_answered_at is not None,
        )
    return CallSnapshot(
        call_id=record.call_id,
        channel_id=record.channel_id,
        caller=record.caller,
        caller_name=record.caller_name,
        did=record.did,
        source=record.source,
        phase=record.phase,
        queue=record.queue,
        priority=record.priority,
        agent_id=record.agent_id,
        persistent=bool(record.agent_bridge),
        legs=tuple(record.dialled_legs()),
        started_at=record.started_at,
        answered_at=record.answered_at,
        enqueued_at=record.enqueued_at,
        connected_at=record.connected_at,
        on_hold=record.held_since is not None,
        hold_seconds=record.hold_seconds,
        language=record.language,
        skills=tuple(record.skills),
        ivr_path=tuple(record.ivr_path),
        variables=dict(record.variables),
        consult=consult,
    )
