"""What is kept in Redis about an agent, as a msgspec Struct: the board's record of each agent (acd/board.py).

New fields must get defaults, so that a record written by an older version still decodes after an upgrade.
"""

from __future__ import annotations

from typing import Literal

import msgspec

AgentState = Literal["logged_out", "available", "reserved", "talking", "wrapup", "not_ready"]


class AgentRecord(msgspec.Struct, kw_only=True):
    agent_id: str
    state: AgentState = "logged_out"
    since: float = 0.0
    call_id: str = ""
    reason: str = ""
    calls: int = 0
    talk_seconds: float = 0.0
