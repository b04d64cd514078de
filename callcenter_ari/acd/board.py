"""The ACD board: waiting calls per queue, agents and their states, and the matching between them.

Theory of operation
-------------------
Invariant: after every public method returns, no queue has both a waiting call and an available agent that
serves it. So matching only ever needs to look at what just changed: a call that joined looks for the agent idle
the longest among its queue's available agents; an agent who became available takes the best waiting call among
its queues (higher priority first, then the longest wait). Both sides are heaps with lazy deletion, which keeps a
decision at O(log n) in the number of waiting calls and agents.

Agent states: logged_out -> available -> reserved -> talking -> wrapup -> available; not_ready (with a reason)
from anywhere but a call. An offer reserves the agent; a ring-no-answer puts the agent in not_ready so that the
next call does not ring the same empty desk. Illegal changes raise ``InvalidTransition`` and change nothing.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable

import msgspec

from callcenter_ari.store.records import AgentRecord, AgentState


class InvalidTransition(ValueError):
    pass


class AgentSpec(msgspec.Struct, frozen=True):
    agent_id: str
    endpoint: str
    queues: tuple[str, ...]


class Offer(msgspec.Struct, frozen=True):
    call_id: str
    agent_id: str
    endpoint: str
    queue: str


class _Waiting(msgspec.Struct):
    call_id: str
    queue: str
    key: tuple[int, float, int]
    active: bool = True


class Board:
    def __init__(self, agents: Iterable[AgentSpec], *, now: float = 0.0) -> None:
        self.specs = {spec.agent_id: spec for spec in agents}
        self.agents = {agent_id: AgentRecord(agent_id=agent_id, since=now) for agent_id in self.specs}
        self._seq = itertools.count()
        self._waiting: dict[str, list[tuple[tuple[int, float, int], _Waiting]]] = {}
        self._entries: dict[str, _Waiting] = {}
        self._idle: dict[str, list[tuple[float, int, str]]] = {}

    # ---- calls -------------------------------------------------------------------------------------------

    def enqueue(self, call_id: str, queue: str, priority: int, enqueued_at: float, now: float) -> list[Offer]:
        """Add a call; ``enqueued_at`` is its place in line (kept when it comes back after a failed offer)."""
        self.remove(call_id)
        agent_id = self._pop_idle(queue)
        if agent_id is not None:
            return [self._reserve(agent_id, call_id, queue, now)]
        entry = _Waiting(call_id, queue, (-priority, enqueued_at, next(self._seq)))
        self._entries[call_id] = entry
        heapq.heappush(self._waiting.setdefault(queue, []), (entry.key, entry))
        return []

    def remove(self, call_id: str) -> None:
        entry = self._entries.pop(call_id, None)
        if entry is not None:
            entry.active = False

    def waiting(self, queue: str) -> list[str]:
        """The queue's waiting calls in the order they will be served."""
        return [e.call_id for _, e in sorted(self._waiting.get(queue, ())) if e.active]

    def position(self, call_id: str) -> int | None:
        entry = self._entries.get(call_id)
        if entry is None:
            return None
        return self.waiting(entry.queue).index(call_id) + 1

    # ---- agents ------------------------------------------------------------------------------------------

    def log_in(self, agent_id: str, now: float) -> list[Offer]:
        self._require(agent_id, {"logged_out"})
        return self._make_available(agent_id, now)

    def log_out(self, agent_id: str, now: float) -> None:
        self._require(agent_id, {"available", "not_ready", "wrapup"})
        self._set(agent_id, "logged_out", now)

    def ready(self, agent_id: str, now: float) -> list[Offer]:
        self._require(agent_id, {"not_ready", "wrapup"})
        return self._make_available(agent_id, now)

    def not_ready(self, agent_id: str, reason: str, now: float) -> None:
        self._require(agent_id, {"available", "wrapup", "not_ready"})
        self._set(agent_id, "not_ready", now, reason=reason)

    def release(self, agent_id: str, reason: str, now: float) -> list[Offer]:
        """A reservation ended without a conversation."""
        self._require(agent_id, {"reserved"})
        if reason in ("ring_no_answer", "busy", "unavailable", "failed"):
            self._set(agent_id, "not_ready", now, reason=reason)
            return []
        return self._make_available(agent_id, now)

    def connected(self, agent_id: str, now: float) -> None:
        self._require(agent_id, {"reserved"})
        agent = self.agents[agent_id]
        self._set(agent_id, "talking", now, call_id=agent.call_id)

    def finished(self, agent_id: str, now: float) -> None:
        """The conversation ended; the agent is in wrap-up until ``ready``."""
        self._require(agent_id, {"talking"})
        agent = self.agents[agent_id]
        agent.calls += 1
        agent.talk_seconds += now - agent.since
        self._set(agent_id, "wrapup", now, call_id=agent.call_id)

    def restore(self, record: AgentRecord) -> None:
        """Take an agent's state from Redis after a restart (only agents still in the configuration)."""
        if record.agent_id not in self.specs:
            return
        self.agents[record.agent_id] = record
        if record.state == "available":
            self._push_idle(record.agent_id)

    # ---- internals ---------------------------------------------------------------------------------------

    def _make_available(self, agent_id: str, now: float) -> list[Offer]:
        self._set(agent_id, "available", now)
        best = self._best_call(self.specs[agent_id].queues)
        if best is None:
            self._push_idle(agent_id)
            return []
        self.remove(best.call_id)
        return [self._reserve(agent_id, best.call_id, best.queue, now)]

    def _best_call(self, queues: tuple[str, ...]) -> _Waiting | None:
        best: _Waiting | None = None
        for queue in queues:
            heap = self._waiting.get(queue)
            while heap and not heap[0][1].active:
                heapq.heappop(heap)
            if heap and (best is None or heap[0][0] < best.key):
                best = heap[0][1]
        return best

    def _pop_idle(self, queue: str) -> str | None:
        heap = self._idle.get(queue)
        while heap:
            since, _, agent_id = heapq.heappop(heap)
            agent = self.agents[agent_id]
            if agent.state == "available" and agent.since == since:
                return agent_id
        return None

    def _push_idle(self, agent_id: str) -> None:
        agent = self.agents[agent_id]
        for queue in self.specs[agent_id].queues:
            heapq.heappush(self._idle.setdefault(queue, []), (agent.since, next(self._seq), agent_id))

    def _reserve(self, agent_id: str, call_id: str, queue: str, now: float) -> Offer:
        self._set(agent_id, "reserved", now, call_id=call_id)
        return Offer(call_id, agent_id, self.specs[agent_id].endpoint, queue)

    def _require(self, agent_id: str, allowed: set[str]) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise InvalidTransition(f"unknown agent {agent_id!r}")
        if agent.state not in allowed:
            raise InvalidTransition(f"agent {agent_id} is {agent.state}")

    def _set(self, agent_id: str, state: AgentState, now: float, *, call_id: str = "", reason: str = "") -> None:
        agent = self.agents[agent_id]
        agent.state, agent.since, agent.call_id, agent.reason = state, now, call_id, reason
