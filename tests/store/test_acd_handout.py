"""The ACD service's hand-out against a real Redis: an agent whose offer nobody can take is never left reserved, and
an agent a call asks for by name is reserved as atomically as one routing offers."""

from __future__ import annotations

import random

import anyio
import pytest
from redis.asyncio import Redis

from callcenter_ari.acd.board import Board
from callcenter_ari.acd.errors import InvalidTransition, UnknownAgent
from callcenter_ari.acd.specs import AgentSpec, QueueSpec
from callcenter_ari.calls.messages import Input, Offered
from callcenter_ari.runtime.acd import AcdService, ReservedElsewhere
from callcenter_ari.runtime.clock import Clock
from callcenter_ari.runtime.timers import Timers
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.records import AgentRecord
from callcenter_ari.store.redis import Store


class GatedStore(Store):
    """The real store, but a reservation waits at a gate first: the test decides what happens meanwhile."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys)
        self.reserving = anyio.Event()
        self.gate = anyio.Event()

    async def reserve_agent(self, agent: AgentRecord) -> bool:
        self.reserving.set()
        await self.gate.wait()
        return await super().reserve_agent(agent)


def service(store: Store, *, strategy: str = "longest_idle", agents: tuple[str, ...] = ("a1",)) -> tuple:
    clock = Clock()
    board = Board(
        [AgentSpec(a, f"PJSIP/{a}", ("q",)) for a in agents],
        queues=[QueueSpec(name="q", strategy=strategy)],  # type: ignore[arg-type]
        rng=random.Random(7),
    )
    delivered: list[tuple[str, Input]] = []
    acd = AcdService(
        board,
        store,
        Timers(clock),
        clock,
        deliver=lambda call_id, message: delivered.append((call_id, message)),
        emit=lambda kind, fields: None,
    )
    return acd, delivered


async def test_an_agent_offered_a_caller_who_hangs_up_during_the_reservation_is_freed(redis: Redis, keys: Keys) -> None:
    """The caller abandons while Redis confirms the reservation: the agent is available again, not reserved for
    a call that is gone."""
    store = GatedStore(redis, keys)
    acd, delivered = service(store)
    store.gate.set()
    await acd.enqueue("c1", "q", 0, 1.0, first=True)  # nobody logged in: c1 waits
    store.gate = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(acd.log_in, "a1")  # a1 is offered c1; the reservation waits at the gate
        await store.reserving.wait()
        acd.remove("c1", "q")  # c1 hangs up meanwhile
        store.gate.set()
    assert delivered == []
    assert acd.board.agents["a1"].state == "available"
    await store.flush()
    assert [(a.state, a.call_id) for a in await store.agents()] == [("available", "")]


async def test_ring_all_never_leaves_the_agents_the_call_did_not_ring_reserved(redis: Redis, keys: Keys) -> None:
    """ring_all offers a call to every agent, but a call rings one at a time: the others go back to waiting."""
    store = Store(redis, keys)
    acd, delivered = service(store, strategy="ring_all", agents=("a1", "a2", "a3"))
    for agent_id in ("a1", "a2", "a3"):
        await acd.log_in(agent_id)
    await acd.enqueue("c1", "q", 0, 1.0, first=True)
    assert [type(message) for _, message in delivered] == [Offered]
    states = sorted(record.state for record in acd.board.agents.values())
    assert states == ["available", "available", "reserved"]


async def test_an_agent_another_process_reserved_first_is_busy_here_and_the_caller_keeps_waiting(
    redis: Redis, keys: Keys
) -> None:
    """Two processes share agent a1; the other one reserved a1 first. Here the offer is withdrawn, the change is
    told to the event stream, Redis keeps the other process's reservation, and c1 keeps its place in line."""
    clock = Clock()
    store = Store(redis, keys)
    board = Board([AgentSpec("a1", "PJSIP/a1", ("q",))], queues=[QueueSpec(name="q")], rng=random.Random(7))
    events: list[tuple[str, dict]] = []  # type: ignore[type-arg]
    delivered: list[tuple[str, Input]] = []
    acd = AcdService(
        board,
        store,
        Timers(clock),
        clock,
        deliver=lambda call_id, message: delivered.append((call_id, message)),
        emit=lambda kind, fields: events.append((kind, fields)),
    )
    await acd.log_in("a1")
    await store.flush()
    other = Store(redis, keys)
    assert await other.reserve_agent(AgentRecord(agent_id="a1", state="reserved", call_id="c9"))
    await acd.enqueue("c1", "q", 0, 1.0, first=True)
    await store.flush()
    assert delivered == []  # nobody was offered to c1
    assert ("agent.state", {"agent": "a1", "state": "not_ready", "reason": "reserved_elsewhere"}) in events
    [agent] = await other.agents()
    assert (agent.state, agent.call_id) == ("reserved", "c9")  # the other process's reservation stands
    assert [call for call, _ in await store.queue_entries("q")] == ["c1"]


class TestNamedReservation:
    """A transfer or consultation asks for an agent by name: the same atomic reservation as routing."""

    async def test_an_available_agent_is_reserved_in_redis_and_freed_after(self, redis: Redis, keys: Keys) -> None:
        store = Store(redis, keys)
        acd, _ = service(store, agents=("a1", "a2"))
        await acd.log_in("a2")
        assert await acd.reserve("a2", "c1", "q") == "PJSIP/a2"
        await store.flush()
        assert [(a.agent_id, a.state, a.call_id) for a in await store.agents()] == [("a2", "reserved", "c1")]
        await acd.free("a2", "c7", "consult_cancelled")  # another call's request: a2 is not its to free
        assert acd.board.agents["a2"].state == "reserved"
        await acd.free("a2", "c1", "consult_cancelled")
        assert acd.board.agents["a2"].state == "available"

    async def test_an_agent_another_process_holds_is_refused_and_not_double_booked(
        self, redis: Redis, keys: Keys
    ) -> None:
        store = Store(redis, keys)
        acd, _ = service(store)
        await acd.log_in("a1")
        await store.flush()
        other = Store(redis, keys)
        assert await other.reserve_agent(AgentRecord(agent_id="a1", state="reserved", call_id="c9"))
        with pytest.raises(ReservedElsewhere):
            await acd.reserve("a1", "c1", "q")
        assert acd.board.agents["a1"].state == "not_ready"
        [agent] = await other.agents()
        assert (agent.state, agent.call_id) == ("reserved", "c9")

    async def test_an_agent_who_is_not_available_is_refused_with_nothing_changed(
        self, redis: Redis, keys: Keys
    ) -> None:
        acd, _ = service(Store(redis, keys))
        with pytest.raises(InvalidTransition, match="logged_out"):
            await acd.reserve("a1", "c1", "q")
        with pytest.raises(UnknownAgent):
            await acd.reserve("a9", "c1", "q")
        assert acd.board.agents["a1"].state == "logged_out"
