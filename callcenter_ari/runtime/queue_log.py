"""The Asterisk queue_log file, written from our event stream so that existing queue-report tools read it.

An observer turns events into lines (the formats are in acd/queue_log.py); a task appends them to the file in
batches, off the event loop, so a slow disk never holds up a call. Fields Asterisk has and we do not track (a
caller's position when abandoning, an agent's ring time) are written as 0; docs/ACD.md lists the mapping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import structlog
from anyio.abc import TaskStatus

from callcenter_ari.acd import queue_log as ql

log = structlog.get_logger(__name__)

FLUSH_SECONDS = 1.0


class QueueLog:
    def __init__(self, path: str | Path, now: Any) -> None:
        self._path = Path(path)
        self._now = now
        self._lines: list[str] = []
        self._state: dict[str, str] = {}  # agent -> last state, for PAUSE/UNPAUSE and logins
        self._since: dict[str, float] = {}  # agent -> logged in at

    def __call__(self, kind: str, fields: dict[str, Any]) -> None:
        at = float(fields.get("at") or self._now())
        line = self._line(kind, fields, at)
        if line:
            self._lines.append(line)

    def _line(self, kind: str, f: dict[str, Any], at: float) -> str:
        call, queue, agent = f.get("call_id", ""), f.get("queue", ""), f.get("agent", "")
        match kind:
            case "call.queued":
                return ql.enter_queue(at, call, queue, caller_id=f.get("caller", ""))
            case "call.answered":
                return ql.connect(at, call, queue, agent, float(f.get("wait", 0.0)), f.get("leg", ""), 0.0)
            case "call.agent_failed":
                return ql.ring_no_answer(at, call, queue, agent, 0.0)
            case "call.ended" if queue:
                return self._ended(f, at)
            case "agent.state":
                return self._agent(agent, f.get("state", ""), f.get("reason", ""), at)
        return ""

    def _ended(self, f: dict[str, Any], at: float) -> str:
        call, queue, agent, outcome = f["call_id"], f["queue"], f.get("agent", ""), f.get("outcome", "")
        wait = float(f.get("wait", 0.0))
        if agent and "talk" in f:
            complete = ql.complete_agent if f.get("released_by") == "agent" else ql.complete_caller
            return complete(at, call, queue, agent, wait, float(f["talk"]), 0)
        if outcome == "abandoned":
            return ql.abandon(at, call, queue, 0, 0, wait)
        if outcome == "max_wait":
            return ql.exit_with_timeout(at, call, queue, 0, 0, wait)
        if outcome == "leave_empty":
            return ql.exit_empty(at, call, queue, 0, 0, wait)
        return ""

    def _agent(self, agent: str, state: str, reason: str, at: float) -> str:
        before = self._state.get(agent, "logged_out")
        self._state[agent] = state
        if before == "logged_out" and state != "logged_out":
            self._since[agent] = at
            return ql.agent_login(at, agent, agent)
        if state == "logged_out" and before != "logged_out":
            return ql.agent_logoff(at, agent, agent, at - self._since.pop(agent, at))
        if state == "not_ready" and before != "not_ready":
            return ql.pause(at, "", agent, reason)
        if before == "not_ready" and state != "not_ready":
            return ql.unpause(at, "", agent, reason)
        return ""

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        try:
            while True:
                await anyio.sleep(FLUSH_SECONDS)
                await self.flush()
        finally:
            with anyio.CancelScope(shield=True):
                await self.flush()

    async def flush(self) -> None:
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        try:
            await anyio.to_thread.run_sync(self._append, lines)
        except OSError as exc:
            log.error("queue_log.write_failed", path=str(self._path), error=repr(exc), lines=len(lines))
            self._lines = lines + self._lines

    def _append(self, lines: list[str]) -> None:
        with self._path.open("a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
