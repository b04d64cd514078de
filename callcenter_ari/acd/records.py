"""What is kept in Redis about an agent, as a msgspec Struct: the board's record of each agent (acd/board.py).

Redis is the authority on an agent's state. Every write names the ``version`` it replaces and is refused if Redis
has moved on (another process changed the agent meanwhile); the board then adopts what Redis holds. So everything
a restart or another process needs to carry on is in the record: the deadlines (``until``), the hold flag, the
queue whose wrap-up rules apply, a supervisor's order waiting for the call to end, and when handling began.

New fields must get defaults, so that a record written by an older version still decodes after an upgrade.
"""

from __future__ import annotations

from typing import Literal

import msgspec

AgentState = Literal["logged_out", "available", "reserved", "talking", "wrapup", "not_ready"]
PendingState = Literal["", "logged_out", "not_ready"]


class AgentRecord(msgspec.Struct, kw_only=True):
    agent_id: str
    state: AgentState = "logged_out"
    since: float = 0.0
    call_id: str = ""
    reason: str = ""
    calls: int = 0
    talk_seconds: float = 0.0
    version: int = 0  # the version in Redis this record was read at, or written as
    held: bool = False  # talking, with the caller on hold
    queue: str = ""  # the queue of the call reserved for, talked on or wrapped up (its wrap-up rules apply)
    until: float | None = None  # wrap-up ends, or a policed break is overdue, at this time
    pending: PendingState = ""  # a supervisor's order that takes effect when the call's wrap-up ends
    pending_reason: str = ""
    handle_started: float | None = None  # connected at: a handle time runs from here to the end of wrap-up
    node: str = ""  # the node serving the call the agent is on (reserved, talking, wrap-up); "" when free
