"""The ACD service: runs the pure board, persists agents and queue entries, and hands offers to the calls.

Every offer is confirmed in Redis by an atomic reservation before the call hears of it, so that an agent shared
with another process is never offered two calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from callcenter_ari.acd.board import Board, Offer
from callcenter_ari.calls.messages import Input, Offered
from callcenter_ari.runtime.clock import Clock
from callcenter_ari.runtime.timers import Timers
from callcenter_ari.store.records import AgentRecord
from callcenter_ari.store.redis import Store, queue_score

log = structlog.get_logger(__name__)

Deliver = Callable[[str, Input], None]


class AcdService:
    def __init__(
        self,
        board: Board,
        store: Store,
        timers: Timers,
        clock: Clock,
        *,
        wrapup_seconds: Mapping[str, float],
        deliver: Deliver,
    ) -> None:
        self.board = board
        self._store = store
        self._timers = timers
        self._clock = clock
        self._wrapup = wrapup_seconds
        self._deliver = deliver

    # ---- calls -------------------------------------------------------------------------------------------

    async def enqueue(self, call_id: str, queue: str, priority: int, enqueued_at: float) -> None:
        offers = self.board.enqueue(call_id, queue, priority, enqueued_at, self._clock.now())
        if not offers:
            self._store.queue_add(queue, call_id, queue_score(priority, enqueued_at))
        await self._hand_out(offers)

    def remove(self, call_id: str, queue: str) -> None:
        self.board.remove(call_id)
        self._store.queue_remove(queue, call_id)

    # ---- agents ------------------------------------------------------------------------------------------

    async def log_in(self, agent_id: str) -> None:
        offers = self.board.log_in(agent_id, self._clock.now())
        self._save(agent_id)
        await self._hand_out(offers)

    async def release(self, agent_id: str, reason: str) -> None:
        offers = self.board.release(agent_id, reason, self._clock.now())
        self._save(agent_id)
        log.info("agent.released", agent=agent_id, reason=reason, state=self.board.agents[agent_id].state)
        await self._hand_out(offers)

    def connected(self, agent_id: str) -> None:
        self.board.connected(agent_id, self._clock.now())
        self._save(agent_id)

    def finished(self, agent_id: str, queue: str) -> None:
        now = self._clock.now()
        self.board.finished(agent_id, now)
        self._save(agent_id)
        self._timers.set(("acd", agent_id), now + self._wrapup.get(queue, 0.0), lambda: self._wrapup_over(agent_id))

    def _wrapup_over(self, agent_id: str) -> None:
        if self.board.agents[agent_id].state != "wrapup":
            return
        offers = self.board.ready(agent_id, self._clock.now())
        self._save(agent_id)
        if offers:
            # Timers fire synchronously; the reservation needs Redis, so it runs as its own short task.
            self._spawn(self._hand_out, offers)

    _spawn: Callable[..., None]

    def bind(self, spawn: Callable[..., None]) -> None:
        """Give the service a way to start tasks in the application's task group."""
        self._spawn = spawn

    def restore(self, records: Iterable[AgentRecord], live_calls: set[str]) -> None:
        """Adopt agents' states from Redis after a restart; a call that ended while we were down frees its agent."""
        now = self._clock.now()
        for record in records:
            if record.state in ("reserved", "talking", "wrapup") and record.call_id not in live_calls:
                record.state, record.call_id, record.since = "available", "", now
            self.board.restore(record)

    async def _hand_out(self, offers: list[Offer]) -> None:
        while offers:
            offer = offers.pop()
            agent = self.board.agents[offer.agent_id]
            if await self._store.reserve_agent(agent):
                self._deliver(offer.call_id, Offered(offer.agent_id, offer.endpoint))
                continue
            # Another process reserved this agent first: treat the agent as busy here and offer the call again.
            log.warning("agent.reserved_elsewhere", agent=offer.agent_id, call_id=offer.call_id)
            agent.state, agent.call_id, agent.reason = "not_ready", "", "reserved_elsewhere"
            offers += self.board.enqueue(offer.call_id, offer.queue, 0, self._clock.now(), self._clock.now())

    def _save(self, agent_id: str) -> None:
        self._store.save_agent(self.board.agents[agent_id])


class BoardCollector(Collector):
    """Agents by state and calls waiting per queue, computed when Prometheus scrapes, not on every change."""

    def __init__(self, board: Board, queues: Iterable[str]) -> None:
        self._board = board
        self._queues = tuple(queues)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        agents = GaugeMetricFamily("callcenter_agents", "Agents by state", labels=["state"])
        counts: dict[str, int] = {}
        for agent in self._board.agents.values():
            counts[agent.state] = counts.get(agent.state, 0) + 1
        for state, count in sorted(counts.items()):
            agents.add_metric([state], count)
        waiting = GaugeMetricFamily("callcenter_calls_waiting", "Calls waiting in a queue", labels=["queue"])
        for queue in self._queues:
            waiting.add_metric([queue], len(self._board.waiting(queue)))
        yield agents
        yield waiting
