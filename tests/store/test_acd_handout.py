"""The ACD service against a real Redis: an agent whose offer nobody can take is never left reserved; an agent a
call asks for by name is reserved as atomically as one routing offers; ring_all reservations; persistent agents and
their standing lines."""

from __future__ import annotations

import random

import anyio
import pytest
from redis.asyncio import Redis

from callcenter_ari.acd.board import Board
from callcenter_ari.acd.errors import InvalidTransition, UnknownAgent
from callcenter_ari.acd.records import AgentRecord
from callcenter_ari.acd.specs import AgentSpec, QueueSpec
from callcenter_ari.calls.messages import Input, Offered, RingAll
from callcenter_ari.clock import WallClock
from callcenter_ari.runtime.acd import AcdService, Line, ReservedElsewhere
from callcenter_ari.runtime.timers import Timers
from callcenter_ari.store.keys import Keys
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


def service(
    store: Store,
    *,
    strategy: str = "longest_idle",
    agents: tuple[str, ...] = ("a1",),
    persistent: tuple[str, ...] = (),
    events: list | None = None,  # type: ignore[type-arg]
) -> tuple:
    clock = WallClock()
    board = Board(
        [AgentSpec(a, f"PJSIP/{a}", ("q",)) for a in agents]
        + [AgentSpec(a, f"PJSIP/{a}", ("q",), persistent=True) for a in persistent],
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
        emit=lambda kind, fields: None if events is None else events.append((kind, fields)),
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


async def test_ring_all_reserves_every_available_agent_and_the_call_rings_them_together(
    redis: Redis, keys: Keys
) -> None:
    """ring_all: each agent is reserved in Redis (none can be offered a second call), and the call hears of them in
    one RingAll."""
    store = Store(redis, keys)
    acd, delivered = service(store, strategy="ring_all", agents=("a1", "a2", "a3"))
    for agent_id in ("a1", "a2", "a3"):
        await acd.log_in(agent_id)
    await acd.enqueue("c1", "q", 0, 1.0, first=True)
    [(call_id, message)] = delivered
    assert call_id == "c1" and isinstance(message, RingAll)
    assert sorted(agent for agent, _ in message.agents) == ["a1", "a2", "a3"]
    await store.flush()
    assert sorted((a.state, a.call_id) for a in await store.agents()) == [("reserved", "c1")] * 3


async def test_ring_all_winner_connected_frees_the_others_in_redis_too(redis: Redis, keys: Keys) -> None:
    """The first to answer talks; the others are available again on the board, in Redis and in the stream."""
    store = Store(redis, keys)
    events: list[tuple[str, dict]] = []  # type: ignore[type-arg]
    acd, _ = service(store, strategy="ring_all", agents=("a1", "a2", "a3"), events=events)
    for agent_id in ("a1", "a2", "a3"):
        await acd.log_in(agent_id)
    await acd.enqueue("c1", "q", 0, 1.0, first=True)
    await acd.connected("a2")
    await acd.release("a1", "ring_no_answer", call_id="c1")  # a late failure of a losing leg: moot
    await store.flush()
    assert {a.agent_id: a.state for a in await store.agents()} == {
        "a1": "available",
        "a2": "talking",
        "a3": "available",
    }
    states = [(f["agent"], f["state"]) for kind, f in events if kind == "agent.state"]
    assert states[-3:] == [("a2", "talking"), ("a1", "available"), ("a3", "available")]


async def test_ring_all_rings_those_whose_reservation_held(redis: Redis, keys: Keys) -> None:
    """Another process has a2: the call rings a1 and a3 only, and a2 is busy here."""
    store = Store(redis, keys)
    acd, delivered = service(store, strategy="ring_all", agents=("a1", "a2", "a3"))
    for agent_id in ("a1", "a2", "a3"):
        await acd.log_in(agent_id)
    await store.flush()
    assert await Store(redis, keys).reserve_agent(AgentRecord(agent_id="a2", state="reserved", call_id="c9"))
    await acd.enqueue("c1", "q", 0, 1.0, first=True)
    [(_, message)] = delivered
    assert isinstance(message, RingAll) and sorted(a for a, _ in message.agents) == ["a1", "a3"]
    assert acd.board.agents["a2"].state == "not_ready"


class FakeLines:
    """Standing lines as the runtime keeps them, without the phones: the agents listed have one up."""

    def __init__(self, up: tuple[str, ...] = ()) -> None:
        self.up = {agent: Line(agent, f"line-{agent}", f"line-{agent}-agent") for agent in up}
        self.connecting: list[str] = []
        self.hung_up: list[str] = []

    def line(self, agent_id: str) -> Line | None:
        return self.up.get(agent_id)

    def connect(self, agent_id: str) -> None:
        self.connecting.append(agent_id)

    def hang_up(self, agent_id: str) -> None:
        self.hung_up.append(agent_id)
        self.up.pop(agent_id, None)


class TestPersistentAgents:
    async def test_logging_in_sets_the_line_up_first(self, redis: Redis, keys: Keys) -> None:
        """Not on the board until the line is up: no call can be offered to an agent who is not there yet."""
        acd, _ = service(Store(redis, keys), persistent=("p1",))
        acd.lines = lines = FakeLines()
        await acd.log_in("p1")
        assert lines.connecting == ["p1"] and acd.board.agents["p1"].state == "logged_out"
        lines.up["p1"] = Line("p1", "line-p1", "line-p1-agent")
        await acd.log_in("p1")  # what the lines service does once the line is up
        assert acd.board.agents["p1"].state == "available"

    async def test_an_offer_to_a_persistent_agent_carries_their_line(self, redis: Redis, keys: Keys) -> None:
        acd, delivered = service(Store(redis, keys), persistent=("p1",))
        acd.lines = FakeLines(("p1",))
        await acd.log_in("p1")
        await acd.enqueue("c1", "q", 0, 1.0, first=True)
        assert delivered == [("c1", Offered("p1", "PJSIP/p1", line="line-p1", bridge="line-p1-agent"))]

    async def test_ring_all_with_a_persistent_agent_joins_them_and_rings_nobody(self, redis: Redis, keys: Keys) -> None:
        """A persistent agent takes the call at once; the others, never rung, stay available."""
        store = Store(redis, keys)
        acd, delivered = service(store, strategy="ring_all", agents=("a1", "a2"), persistent=("p1",))
        acd.lines = FakeLines(("p1",))
        for agent_id in ("a1", "a2", "p1"):
            await acd.log_in(agent_id)
        await acd.enqueue("c1", "q", 0, 1.0, first=True)
        assert delivered == [("c1", Offered("p1", "PJSIP/p1", line="line-p1", bridge="line-p1-agent"))]
        assert {a: r.state for a, r in acd.board.agents.items()} == {
            "a1": "available",
            "a2": "available",
            "p1": "reserved",
        }
        await store.flush()
        assert {a.agent_id: a.state for a in await store.agents()}["a1"] == "available"

    async def test_logging_out_hangs_the_line_up(self, redis: Redis, keys: Keys) -> None:
        acd, _ = service(Store(redis, keys), persistent=("p1",))
        acd.lines = lines = FakeLines(("p1",))
        await acd.log_in("p1")
        acd.log_out("p1")
        assert lines.hung_up == ["p1"]

    @pytest.mark.parametrize("joined", [True, False], ids=["talking", "being_joined"])
    async def test_a_line_down_on_a_call_logs_the_agent_out_when_the_call_lets_them_go(
        self, redis: Redis, keys: Keys, joined: bool
    ) -> None:
        """Not available for a moment, not in wrap-up: logged out straight from the call (the conversation over,
        or the join given up), and never offered the call waiting meanwhile."""
        acd, delivered = service(Store(redis, keys), persistent=("p1",))
        acd.lines = lines = FakeLines(("p1",))
        await acd.log_in("p1")
        await acd.enqueue("c1", "q", 0, 1.0, first=True)
        if joined:
            await acd.connected("p1")
        await acd.enqueue("c2", "q", 0, 2.0, first=True)  # waiting: p1 must not get it
        del lines.up["p1"]
        acd.line_down("p1")
        assert acd.board.agents["p1"].state == ("talking" if joined else "reserved")
        if joined:
            acd.finished("p1")
        else:
            await acd.release("p1", "unavailable", call_id="c1")
        assert acd.board.agents["p1"].state == "logged_out"
        assert [call_id for call_id, _ in delivered] == ["c1"]


async def test_an_agent_another_process_reserved_first_is_busy_here_and_the_caller_keeps_waiting(
    redis: Redis, keys: Keys
) -> None:
    """Two processes share agent a1; the other one reserved a1 first. Here the offer is withdrawn, the change is
    told to the event stream, Redis keeps the other process's reservation, and c1 keeps its place in line."""
    clock = WallClock()
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
