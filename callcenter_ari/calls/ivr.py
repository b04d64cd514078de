"""What the call does with its IVR session's commands: passes them on, all but its result and its events' ids.

The session speaks the call's own vocabulary (callcenter_ari/messages.py) and plays on the caller's channel, which
its context names. Two things are the call's to add: events carry the call's id (the session's id is only the
prefix of its prompt and timer ids: ``<call>-s`` for a survey, ``<call>-r`` for a flow walked again after a
restart), and each node entered joins the path the agent's screen pop shows.
"""

from __future__ import annotations

from callcenter_ari import ivr
from callcenter_ari.calls.messages import Command, Emit
from callcenter_ari.calls.records import CallRecord

MAX_PATH = 64  # nodes kept for the screen pop; a caller looping in a menu must not grow the record without end


def from_session(commands: list[ivr.Command], record: CallRecord) -> tuple[list[Command], ivr.Result | None]:
    """The session's commands for the runtime, and its result once it has finished."""
    out: list[Command] = []
    result: ivr.Result | None = None
    for command in commands:
        match command:
            case ivr.Finished(result=finished):
                result = finished
            case Emit(kind=kind, fields=fields):
                if kind == "ivr.node" and len(record.ivr_path) < MAX_PATH:
                    record.ivr_path.append(str(fields.get("node", "")))
                out.append(Emit(kind, {**fields, "call_id": record.call_id}))
            case _:
                out.append(command)
    return out, result
