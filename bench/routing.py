"""Routing: the ACD board's decision time as agents, queues and waiting calls grow. Pure: no I/O, no event loop.

Two decisions are timed, each in the state where it has work to do:
- `enqueue` with every agent busy: the call joins its queue's heap (the common case in a surge);
- `ready` with calls waiting: the agent takes the best call among its queues (pops the heap, reserves).
Each agent serves up to three queues, so with several queues `ready` compares the heads of three heaps.
"""

from __future__ import annotations

import gc
import math
import time
from dataclasses import dataclass
from typing import Any

from callcenter_ari.acd.board import AgentSpec, Board

OPS = 2000


@dataclass
class RoutingResult:
    agents: int
    queues: int
    waiting: int
    enqueue_us: float
    ready_us: float

    def row(self) -> dict[str, Any]:
        return {
            "agents": self.agents,
            "queues": self.queues,
            "waiting": self.waiting,
            "enqueue µs": self.enqueue_us,
            "ready µs": self.ready_us,
        }


def _board(agents: int, queues: int) -> Board:
    names = [f"q{i}" for i in range(queues)]
    specs = (
        AgentSpec(f"a{i}", f"PJSIP/a{i}", tuple(names[(i + k) % queues] for k in range(min(3, queues))))
        for i in range(agents)
    )
    return Board(specs)


def measure(agents: int, queues: int, waiting: int, ops: int = OPS) -> RoutingResult:
    """Median of five batches of `ops` decisions each, in microseconds per decision."""
    board = _board(agents, queues)
    now = 1_000.0
    for agent_id in board.agents:  # every agent logged in, then not ready: all busy, none idle
        board.log_in(agent_id, now)
        board.not_ready(agent_id, "busy", now)
    seq = 0

    def enqueue_one() -> None:
        nonlocal seq, now
        seq += 1
        now += 0.001
        board.enqueue(f"c{seq}", f"q{seq % queues}", seq % 3, now, now)

    enqueue_one()  # drains the idle heaps' stale entries once, outside the timing
    ops = min(ops, waiting)
    while seq < waiting + ops:
        enqueue_one()
    agent_ids = list(board.agents)
    enqueue_times: list[float] = []
    ready_times: list[float] = []
    gc.disable()
    try:
        for _ in range(5):
            # `ready`: `ops` agents each take a call (agents cycle; a reserved agent is put back to not ready).
            batch = [agent_ids[i % len(agent_ids)] for i in range(ops)]
            start = time.perf_counter()
            for agent_id in batch:
                if board.agents[agent_id].state != "not_ready":
                    board.agents[agent_id].state = "not_ready"
                board.ready(agent_id, now)
            ready_times.append((time.perf_counter() - start) / ops)
            # `enqueue`: put the same number back, so the waiting count stays where it was.
            start = time.perf_counter()
            for _ in range(ops):
                enqueue_one()
            enqueue_times.append((time.perf_counter() - start) / ops)
    finally:
        gc.enable()
    return RoutingResult(agents, queues, waiting, _median(enqueue_times) * 1e6, _median(ready_times) * 1e6)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def grid(quick: bool) -> list[tuple[int, int, int]]:
    if quick:
        return [(100, 1, 100), (1000, 1, 5000), (1000, 10, 5000), (10_000, 10, 50_000)]
    cases = [(1000, 1, w) for w in (100, 1000, 5000, 10_000, 50_000)]
    cases += [(a, 10, 5000) for a in (100, 1000, 10_000)]
    cases += [(1000, q, 5000) for q in (1, 10, 100)]
    cases += [(10_000, 100, 50_000)]
    return list(dict.fromkeys(cases))


def log_growth(results: list[RoutingResult]) -> tuple[float, float] | None:
    """(time ratio, log ratio) between the fewest and most waiting calls at 1,000 agents and one queue."""
    series = sorted((r for r in results if r.agents == 1000 and r.queues == 1), key=lambda r: r.waiting)
    if len(series) < 2:
        return None
    low, high = series[0], series[-1]
    ratio = max(high.enqueue_us / low.enqueue_us, high.ready_us / low.ready_us)
    return ratio, math.log(high.waiting) / math.log(low.waiting)


def run_routing(quick: bool) -> list[RoutingResult]:
    return [measure(agents, queues, waiting) for agents, queues, waiting in grid(quick)]
