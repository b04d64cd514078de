"""The ACD service against a real Redis, the authority on agents: an agent whose offer nobody can take is never
left reserved; an agent another process changed is adopted as Redis has them, never overwritten; an agent a call
asks for by name is reserved as atomically as one routing offers; ring_all reservations; persistent agents and
their standing lines."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import anyio
import msgspec
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
from callcenter_ari.store.agents import AgentStore, Outcome
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import FLUSH_GATHER, Store


class GatedAgents(AgentStore):
    """The real agent store, but a write waits at a gate first: the test decides what happens meanwhile."""

    def __init__(self, store: Store, origin: str) -> None:
        super().__init__(store, origin=origin, seat_limit=None)
        self.writing = anyio.Event()
        self.gate = anyio.Event()
        self.gate.set()

    async def write(self, records: Sequence[AgentRecord]) -> list[Outcome]:
        self.writing.set()
        await self.gate.wait()
        return await super().write(records)


class Harness:
    def __init__(
        self, redis: Redis, keys: Keys, board: Board, *, origin: str = "p1", gather: float = FLUSH_GATHER
    ) -> None:
        clock = WallClock()
        self.store = Store(redis, keys, now=clock.now, gather=gather)
        self.agents = GatedAgents(self.store, origin)
        self.delivered: list[tuple[str, Input]] = []
        self.events: list[tuple[str, dict]] = []  # type: ignore[type-arg]
        self.acd = AcdService(
            board,
            self.store,
            self.agents,
            Timers(clock),
            clock,
            deliver=lambda call_id, message: self.delivered.append((call_id, message)),
            emit=lambda kind, fields: self.events.append((kind, fields)),
        )

    async def redis_states(self) -> dict[str, tuple[str, str]]:
        await self.store.flush()
        return {a.agent_id: (a.state, a.call_id) for a in await self.agents.read_all()}


def make_board(
    *, strategy: str = "longest_idle", agents: tuple[str, ...] = ("a1",), persistent: tuple[str, ...] = ()
) -> Board:
    return Board(
        [AgentSpec(a, f"PJSIP/{a}", ("q",)) for a in agents]
        + [AgentSpec(a, f"PJSIP/{a}", ("q",), persistent=True) for a in persistent],
        queues=[QueueSpec(name="q", strategy=strategy)],  # type: ignore[arg-type]
        rng=random.Random(7),
    )


@asynccontextmanager
async def running(
    redis: Redis, keys: Keys, board: Board, *, origin: str = "p1", watch: bool = True, gather: float = FLUSH_GATHER
) -> AsyncIterator[Harness]:
    """The service's task, its watch of other processes' changes (``watch``: without it, this process learns of
    them only when Redis refuses a write), and its store's flusher, running."""
    harness = Harness(redis, keys, board, origin=origin, gather=gather)
    async with anyio.create_task_group() as tg:
        await tg.start(harness.store.run_flusher)
        await tg.start(harness.acd.run)
        if watch:
            await tg.start(harness.acd.watch, await harness.agents.head())
        try:
            yield harness
        finally:
            tg.cancel_scope.cancel()


async def other_process_writes(redis: Redis, keys: Keys, **fields: object) -> AgentRecord:
    """What another process does to agent a1: read it from Redis and write it changed, over its version."""
    store = Store(redis, keys, now=WallClock().now)
    agents = AgentStore(store, origin="p2", seat_limit=None)
    [current] = [a for a in await agents.read_all() if a.agent_id == "a1"]
    changed = msgspec.structs.replace(current, **fields)  # type: ignore[arg-type]
    [outcome] = await agents.write([changed])
    assert outcome.__class__.__name__ == "Written"
    return changed


async def test_an_agent_offered_a_caller_who_hangs_up_during_the_reservation_is_freed(redis: Redis, keys: Keys) -> None:
    """The caller abandons while Redis confirms the reservation: the offer reaches a call that is gone (and is
    dropped there), and the call's leaving frees the agent: available again, not reserved for nobody."""
    async with running(redis, keys, make_board()) as h:
        h.acd.enqueue("c1", "q", 0, 1.0, first=True)  # nobody logged in: c1 waits
        await h.acd.barrier()
        h.agents.gate, h.agents.writing = anyio.Event(), anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(h.acd.log_in, "a1")  # a1 is offered c1; the write waits at the gate
            await h.agents.writing.wait()
            h.acd.remove("c1", "q")  # c1 hangs up meanwhile
            h.agents.gate.set()
        await h.acd.barrier()
        assert h.acd.board.agents["a1"].state == "available"
        assert await h.redis_states() == {"a1": ("available", "")}


async def test_ring_all_reserves_every_available_agent_and_the_call_rings_them_together(
    redis: Redis, keys: Keys
) -> None:
    """ring_all: each agent is reserved in Redis (none can be offered a second call), and the call hears of them in
    one RingAll."""
    async with running(redis, keys, make_board(strategy="ring_all", agents=("a1", "a2", "a3"))) as h:
        for agent_id in ("a1", "a2", "a3"):
            await h.acd.log_in(agent_id)
        h.acd.enqueue("c1", "q", 0, 1.0, first=True)
        await h.acd.barrier()
        [(call_id, message)] = h.delivered
        assert call_id == "c1" and isinstance(message, RingAll)
        assert sorted(agent for agent, _ in message.agents) == ["a1", "a2", "a3"]
        assert await h.redis_states() == {a: ("reserved", "c1") for a in ("a1", "a2", "a3")}


async def test_ring_all_winner_connected_frees_the_others_in_redis_too(redis: Redis, keys: Keys) -> None:
    """The first to answer talks; the others are available again on the board, in Redis and in the stream."""
    async with running(redis, keys, make_board(strategy="ring_all", agents=("a1", "a2", "a3"))) as h:
        for agent_id in ("a1", "a2", "a3"):
            await h.acd.log_in(agent_id)
        h.acd.enqueue("c1", "q", 0, 1.0, first=True)
        await h.acd.barrier()
        h.acd.connected("a2")
        h.acd.release("a1", "ring_no_answer", call_id="c1")  # a late failure of a losing leg: moot
        await h.acd.barrier()
        assert await h.redis_states() == {"a1": ("available", ""), "a2": ("talking", "c1"), "a3": ("available", "")}
        states = [(f["agent"], f["state"]) for kind, f in h.events if kind == "agent.state"]
        assert states[-3:] == [("a2", "talking"), ("a1", "available"), ("a3", "available")]


async def test_ring_all_rings_those_whose_reservation_held(redis: Redis, keys: Keys) -> None:
    """Another process has a2 and this one has not heard yet: the call rings a1 and a3 only, and a2 is shown as
    Redis has them (reserved for the other process's call), not made not ready."""
    async with running(redis, keys, make_board(strategy="ring_all", agents=("a1", "a2", "a3"))) as h:
        for agent_id in ("a1", "a2", "a3"):
            await h.acd.log_in(agent_id)
        await h.acd.barrier()
        h.agents.gate = anyio.Event()  # hold this process's writes while the other one reserves a2
        store = Store(redis, keys, now=WallClock().now)
        other = AgentStore(store, origin="p2", seat_limit=None)
        [a2] = [a for a in await other.read_all() if a.agent_id == "a2"]
        await other.write([msgspec.structs.replace(a2, state="reserved", call_id="c9")])
        h.acd.enqueue("c1", "q", 0, 1.0, first=True)
        await anyio.sleep(0.05)
        h.agents.gate.set()
        await h.acd.barrier()
        [(_, message)] = h.delivered
        assert isinstance(message, RingAll) and sorted(a for a, _ in message.agents) == ["a1", "a3"]
        assert (h.acd.board.agents["a2"].state, h.acd.board.agents["a2"].call_id) == ("reserved", "c9")
        assert (await h.redis_states())["a2"] == ("reserved", "c9")


async def test_an_agent_another_process_reserved_first_keeps_the_caller_waiting_until_they_are_free(
    redis: Redis, keys: Keys
) -> None:
    """Two processes share agent a1; the other one reserved a1 first. Here the offer is withdrawn, Redis keeps the
    other process's reservation, and c1 keeps its place in line; when the other process frees a1, this one hears
    of it and offers a1 to c1."""
    async with running(redis, keys, make_board()) as h:
        await h.acd.log_in("a1")
        await h.acd.barrier()
        h.agents.gate = anyio.Event()
        await other_process_writes(redis, keys, state="reserved", call_id="c9", node="other")
        h.acd.enqueue("c1", "q", 0, 1.0, first=True)
        await anyio.sleep(0.05)
        h.agents.gate.set()
        await h.acd.barrier()
        assert h.delivered == []  # nobody was offered to c1
        assert await h.redis_states() == {"a1": ("reserved", "c9")}  # the other process's reservation stands
        assert [call for call, _ in await h.store.queue_entries("q")] == ["c1"]
        await other_process_writes(redis, keys, state="available", call_id="", node="")
        with anyio.fail_after(5):
            while not h.delivered:
                await anyio.sleep(0.01)
        assert h.delivered == [("c1", Offered("a1", "PJSIP/a1"))]
        assert await h.redis_states() == {"a1": ("reserved", "c1")}


async def test_an_offer_redis_refuses_is_withdrawn_and_the_agent_shown_as_redis_has_them(
    redis: Redis, keys: Keys
) -> None:
    """This process has not heard that the other one reserved a1 (no change stream): it offers a1 to c1, Redis
    refuses the write, and the offer is withdrawn before c1 hears of it; a1 is as Redis has them, not not-ready."""
    async with running(redis, keys, make_board(), watch=False) as h:
        await h.acd.log_in("a1")
        await h.acd.barrier()
        await other_process_writes(redis, keys, state="reserved", call_id="c9", node="other")
        h.acd.enqueue("c1", "q", 0, 1.0, first=True)
        await h.acd.barrier()
        assert h.delivered == [] and h.acd.conflicts == 1
        assert (h.acd.board.agents["a1"].state, h.acd.board.agents["a1"].call_id) == ("reserved", "c9")
        assert await h.redis_states() == {"a1": ("reserved", "c9")}
        assert [call for call, _ in await h.store.queue_entries("q")] == ["c1"]


async def test_a_change_made_elsewhere_is_adopted_never_overwritten(redis: Redis, keys: Keys) -> None:
    """A supervisor set a1 not ready through the other process; a ready here afterwards starts from that state,
    and Redis sees one change after another, never an older state written over a newer one."""
    async with running(redis, keys, make_board()) as h:
        await h.acd.log_in("a1")
        await h.acd.barrier()
        await other_process_writes(redis, keys, state="not_ready", reason="lunch")
        with anyio.fail_after(5):
            while h.acd.board.agents["a1"].state != "not_ready":
                await anyio.sleep(0.01)
        await h.acd.ready("a1")
        record = h.acd.board.agents["a1"]
        assert (record.state, record.version) == ("available", 3)
        assert await h.redis_states() == {"a1": ("available", "")}


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
        async with running(redis, keys, make_board(persistent=("p1",))) as h:
            h.acd.lines = lines = FakeLines()
            await h.acd.log_in("p1")
            assert lines.connecting == ["p1"] and h.acd.board.agents["p1"].state == "logged_out"
            lines.up["p1"] = Line("p1", "line-p1", "line-p1-agent")
            await h.acd.log_in("p1")  # what the lines service does once the line is up
            assert h.acd.board.agents["p1"].state == "available"

    async def test_an_offer_to_a_persistent_agent_carries_their_line(self, redis: Redis, keys: Keys) -> None:
        async with running(redis, keys, make_board(persistent=("p1",))) as h:
            h.acd.lines = FakeLines(("p1",))
            await h.acd.log_in("p1")
            h.acd.enqueue("c1", "q", 0, 1.0, first=True)
            await h.acd.barrier()
            assert h.delivered == [("c1", Offered("p1", "PJSIP/p1", line="line-p1", bridge="line-p1-agent"))]

    async def test_ring_all_with_a_persistent_agent_joins_them_and_rings_nobody(self, redis: Redis, keys: Keys) -> None:
        """A persistent agent takes the call at once; the others, never rung, stay available."""
        board = make_board(strategy="ring_all", agents=("a1", "a2"), persistent=("p1",))
        async with running(redis, keys, board) as h:
            h.acd.lines = FakeLines(("p1",))
            for agent_id in ("a1", "a2", "p1"):
                await h.acd.log_in(agent_id)
            h.acd.enqueue("c1", "q", 0, 1.0, first=True)
            await h.acd.barrier()
            assert h.delivered == [("c1", Offered("p1", "PJSIP/p1", line="line-p1", bridge="line-p1-agent"))]
            assert {a: r.state for a, r in h.acd.board.agents.items()} == {
                "a1": "available",
                "a2": "available",
                "p1": "reserved",
            }
            assert (await h.redis_states())["a1"] == ("available", "")

    async def test_logging_out_hangs_the_line_up(self, redis: Redis, keys: Keys) -> None:
        async with running(redis, keys, make_board(persistent=("p1",))) as h:
            h.acd.lines = lines = FakeLines(("p1",))
            await h.acd.log_in("p1")
            await h.acd.log_out("p1")
            assert lines.hung_up == ["p1"]

    @pytest.mark.parametrize("joined", [True, False], ids=["talking", "being_joined"])
    async def test_a_line_down_on_a_call_logs_the_agent_out_when_the_call_lets_them_go(
        self, redis: Redis, keys: Keys, joined: bool
    ) -> None:
        """Not available for a moment, not in wrap-up: logged out straight from the call (the conversation over,
        or the join given up), and never offered the call waiting meanwhile."""
        async with running(redis, keys, make_board(persistent=("p1",))) as h:
            h.acd.lines = lines = FakeLines(("p1",))
            await h.acd.log_in("p1")
            h.acd.enqueue("c1", "q", 0, 1.0, first=True)
            await h.acd.barrier()
            if joined:
                h.acd.connected("p1")
            h.acd.enqueue("c2", "q", 0, 2.0, first=True)  # waiting: p1 must not get it
            await h.acd.barrier()
            del lines.up["p1"]
            h.acd.line_down("p1")
            await h.acd.barrier()
            assert h.acd.board.agents["p1"].state == ("talking" if joined else "reserved")
            if joined:
                h.acd.finished("p1")
            else:
                h.acd.release("p1", "unavailable", call_id="c1")
            await h.acd.barrier()
            assert h.acd.board.agents["p1"].state == "logged_out"
            assert [call_id for call_id, _ in h.delivered] == ["c1"]


class TestNamedReservation:
    """A transfer or consultation asks for an agent by name: the same atomic reservation as routing."""

    async def test_an_available_agent_is_reserved_in_redis_and_freed_after(self, redis: Redis, keys: Keys) -> None:
        async with running(redis, keys, make_board(agents=("a1", "a2"))) as h:
            await h.acd.log_in("a2")
            assert await h.acd.reserve("a2", "c1", "q") == "PJSIP/a2"
            assert (await h.redis_states())["a2"] == ("reserved", "c1")
            h.acd.free("a2", "c7", "consult_cancelled")  # another call's request: a2 is not its to free
            await h.acd.barrier()
            assert h.acd.board.agents["a2"].state == "reserved"
            h.acd.free("a2", "c1", "consult_cancelled")
            await h.acd.barrier()
            assert h.acd.board.agents["a2"].state == "available"

    async def test_an_agent_another_process_holds_is_refused_and_not_double_booked(
        self, redis: Redis, keys: Keys
    ) -> None:
        async with running(redis, keys, make_board(), watch=False) as h:
            await h.acd.log_in("a1")
            await h.acd.barrier()
            await other_process_writes(redis, keys, state="reserved", call_id="c9", node="other")
            with pytest.raises(ReservedElsewhere):
                await h.acd.reserve("a1", "c1", "q")
            assert h.acd.board.agents["a1"].state == "reserved"
            assert await h.redis_states() == {"a1": ("reserved", "c9")}

    async def test_an_agent_who_is_not_available_is_refused_with_nothing_changed(
        self, redis: Redis, keys: Keys
    ) -> None:
        async with running(redis, keys, make_board()) as h:
            with pytest.raises(InvalidTransition, match="logged_out"):
                await h.acd.reserve("a1", "c1", "q")
            with pytest.raises(UnknownAgent):
                await h.acd.reserve("a9", "c1", "q")
            assert h.acd.board.agents["a1"].state == "logged_out"


async def test_handle_times_are_kept_for_the_window_without_a_trim_per_call(redis: Redis, keys: Keys) -> None:
    """Each call's handle time is pushed; the list is cut back to the queue's window once a window's worth came
    in, so it holds at most two windows and its last ``window`` entries are the latest calls'."""
    board = Board(
        [AgentSpec("a1", "PJSIP/a1", ("q",))],
        queues=[QueueSpec(name="q", handle_window=3)],
        rng=random.Random(7),
    )
    async with running(redis, keys, board) as h:
        await h.acd.log_in("a1")
        for n in range(7):
            h.acd.enqueue(f"c{n}", "q", 0, float(n), first=True)
            await h.acd.barrier()
            h.acd.connected("a1", call_id=f"c{n}")
            h.acd.finished("a1", call_id=f"c{n}")
            await h.acd.ready("a1")  # wrap-up ended: the handle time is measured
            await h.acd.barrier()
        await h.store.flush()
    key = keys.handle_times("q")
    assert await redis.llen(key) == 4  # cut back to 3 after the third and the sixth, then one more
    assert len(await redis.lrange(key, -3, -1)) == 3


async def test_agent_changes_that_follow_closely_share_the_stores_round_trips(redis: Redis, keys: Keys) -> None:
    """A call after a quiet spell is offered at once; the rounds of calls that keep coming go with the flusher's
    batches (``Store.execute_later``), so several offers and the staged writes share one round trip."""
    agents = tuple(f"a{n}" for n in range(1, 31))
    async with running(redis, keys, make_board(agents=agents), gather=0.05) as h:
        for agent in agents:
            await h.acd.log_in(agent)
        await anyio.sleep(0.1)
        trips, started = h.store.round_trips, anyio.current_time()
        h.acd.enqueue("c0", "q", 0, 0.0, first=True)
        with anyio.fail_after(0.04):  # well inside the interval: nothing waits before a lone change
            while not h.delivered:
                await anyio.sleep(0.001)
        for n in range(1, 30):  # a call every 5 ms for about 0.15 s
            await anyio.sleep(0.005)
            h.acd.enqueue(f"c{n}", "q", 0, float(n), first=True)
        await anyio.sleep(0.15)
        elapsed = anyio.current_time() - started
        offered = {call_id for call_id, message in h.delivered if isinstance(message, Offered)}
        assert offered == {f"c{n}" for n in range(30)}
        assert h.store.round_trips - trips <= elapsed / 0.05 + 2, (h.store.round_trips - trips, elapsed)
