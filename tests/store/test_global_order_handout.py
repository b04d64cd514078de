"""The global order between two ACD services of one tenant against a real Redis (each with its own board and
calls, as two processes serving two Asterisks): an agent freed in one goes to the earlier caller of the other, if
that caller could take them; a process that does not take its caller holds nobody for longer than ``DEFER``."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from redis.asyncio import Redis

from callcenter_ari.acd.board import Board
from callcenter_ari.acd.specs import AgentSpec, QueueSpec
from callcenter_ari.calls.messages import Input, Offered
from callcenter_ari.clock import WallClock
from callcenter_ari.runtime.acd import AcdService
from callcenter_ari.runtime.timers import Timers
from callcenter_ari.store.agents import AgentStore
from callcenter_ari.store.instances import Instances
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store


class Process:
    """One process's ACD: its store, board, service and the offers its calls heard."""

    def __init__(self, redis: Redis, keys: Keys, instance: str, agents: list[AgentSpec]) -> None:
        clock = WallClock()
        self.instance = instance
        self.store = Store(redis, keys, now=clock.now, node=instance)
        self.agents = AgentStore(self.store, origin=instance, seat_limit=None)
        self.timers = Timers(clock)
        board = Board(agents, queues=[QueueSpec(name="q")], rng=random.Random(7), node=instance)
        self.delivered: list[tuple[str, Input]] = []
        self.acd = AcdService(
            board,
            self.store,
            self.agents,
            self.timers,
            clock,
            deliver=lambda call_id, message: self.delivered.append((call_id, message)),
            emit=lambda kind, fields: None,
            instance=instance,
        )
        self.acd.running = 2

    async def offered(self, timeout: float = 5.0) -> list[tuple[str, Input]]:
        with anyio.fail_after(timeout):
            while not self.delivered:
                await anyio.sleep(0.01)
        return self.delivered


@asynccontextmanager
async def two_processes(
    redis: Redis, keys: Keys, agents: list[AgentSpec], *, second_runs: bool = True
) -> AsyncIterator[tuple[Process, Process]]:
    first, second = Process(redis, keys, "east.1", agents), Process(redis, keys, "west.1", agents)
    for process in (first, second):
        await Instances(process.store).renew(process.instance, 30.0)
    async with anyio.create_task_group() as tg:
        for process in (first, second) if second_runs else (first,):
            await tg.start(process.store.run_flusher)
            await tg.start(process.timers.run)
            await tg.start(process.acd.run)
            await tg.start(process.acd.watch, await process.agents.head())
        try:
            yield first, second
        finally:
            tg.cancel_scope.cancel()


def agent(agent_id: str, **fields: object) -> AgentSpec:
    return AgentSpec(agent_id, f"PJSIP/{agent_id}", ("q",), **fields)  # type: ignore[arg-type]


async def test_an_agent_freed_in_one_process_goes_to_the_earlier_caller_of_the_other(redis: Redis, keys: Keys) -> None:
    async with two_processes(redis, keys, [agent("a1")]) as (east, west):
        west.acd.enqueue("early", "q", 0, 100.0, first=True)
        await west.acd.barrier()
        await west.store.flush()
        east.acd.enqueue("late", "q", 0, 200.0, first=True)
        await east.acd.log_in("a1")  # logged in on east, where "late" waits
        assert await west.offered() == [("early", Offered("a1", "PJSIP/a1"))]
        await east.acd.barrier()
        assert east.delivered == []
        assert east.acd.board.waiting("q") == ["late"]
        assert {a.agent_id: (a.state, a.call_id) for a in await east.agents.read_all()} == {"a1": ("reserved", "early")}


async def test_an_earlier_caller_elsewhere_who_needs_a_skill_the_agent_lacks_holds_nobody(
    redis: Redis, keys: Keys
) -> None:
    async with two_processes(redis, keys, [agent("a1", languages=("en",))]) as (east, west):
        west.acd.enqueue("french", "q", 0, 100.0, first=True, language="fr")
        await west.acd.barrier()
        await west.store.flush()
        east.acd.enqueue("late", "q", 0, 200.0, first=True)
        await east.acd.log_in("a1")
        assert await east.offered() == [("late", Offered("a1", "PJSIP/a1"))]
        assert west.delivered == []


async def test_a_process_that_does_not_take_its_caller_holds_the_agent_back_only_for_a_while(
    redis: Redis, keys: Keys
) -> None:
    """West's lease runs but its ACD is stalled (not running): east holds a1 back for DEFER, then serves its own
    caller; west's caller keeps its place for when west comes back."""
    async with two_processes(redis, keys, [agent("a1")], second_runs=False) as (east, west):
        west.acd.enqueue("stuck", "q", 0, 100.0, first=True)
        await west.acd._settle()  # one round by hand: the caller's place is written, then west stalls
        await west.store.flush()
        east.acd.enqueue("late", "q", 0, 200.0, first=True)
        await east.acd.log_in("a1")
        await east.acd.barrier()
        assert east.delivered == [] and east.acd.board.held == {"a1": frozenset({"stuck"})}
        assert await east.offered(timeout=10.0) == [("late", Offered("a1", "PJSIP/a1"))]
        await east.store.flush()
        assert [call for call, _ in await east.store.queue_entries("q")] == ["stuck"]


async def test_a_process_alone_reads_nothing_for_the_global_order(redis: Redis, keys: Keys) -> None:
    """With one process running (as presence counts them) a hand-out makes no read of other processes' callers;
    once presence counts two, every round reads them."""
    async with two_processes(redis, keys, [agent("a1"), agent("a2")], second_runs=False) as (east, _):
        east.acd.running = 1
        east.acd.enqueue("c1", "q", 0, 100.0, first=True)
        await east.acd.log_in("a1")
        assert await east.offered() == [("c1", Offered("a1", "PJSIP/a1"))]
        assert east.acd.foreign_reads == 0
        east.acd.set_running(2)
        east.acd.enqueue("c2", "q", 0, 200.0, first=True)
        await east.acd.log_in("a2")
        assert east.delivered[-1] == ("c2", Offered("a2", "PJSIP/a2"))
        assert east.acd.foreign_reads > 0
