"""The ACD service: one task with one inbox that runs the pure board against Redis, the authority on agents.

Theory of operation
-------------------
Calls, people (the API, feature codes, persistent lines) and other processes send the service messages; nothing
else touches the board. The task takes every message waiting, lets the board decide each one synchronously, then
writes every agent the decisions changed in one Redis round trip (``store/agents.py``): each write names the
version it replaces. Only then does anything leave the service: offers reach their calls, ``agent.state`` events
reach the stream, requests get their answers. A write Redis refuses (another process changed the agent first) is
not an error: the board adopts what Redis holds, an offer that rested on the old state is withdrawn and its call
goes back to its place, and a request is tried again on the new state. So no call's step reserves agents for
other calls, nothing re-checks the board after an await, and an agent is never on two calls, whichever process
offered them.

Other processes' writes arrive through the agents' change stream (``watch``) as messages like any other: an agent
freed anywhere is offered calls everywhere.

The board owns every ACD deadline (wrap-up ends, relaxation steps, announcements, break limits); the service keeps
one timer armed at ``board.next_deadline()``, whose firing is another message. The deadlines an agent's record
carries (``until``) are in Redis, so a restart, or another process, picks them up.

*The global order.* Each process's board holds only its own calls; every caller's place, and what serving them
takes, is also in Redis (``store/waiters.py``). While more than one process of the tenant runs (the count comes
with every presence beat, so a process alone pays nothing), each round of decisions first reads the callers at the
front of the queues who wait elsewhere (one round trip) and hands them to the board, which holds an agent freed
here back for an earlier caller of another process that could take them (``acd/global_order.py``): that process
sees the agent available through the change stream and takes them. While an agent is held the service looks again
every ``LOOK_EVERY`` seconds; a hold never lasts more than ``DEFER``.

Persistent agents are logged in only while their standing line (a call from their phone into the application,
parked in a bridge of their own, runtime/standing.py) is up: logging one in asks ``lines`` to set the line up, and
the agent is on the board once it is; logging one out hangs it up. A ring_all decision is handed to the call as one
``RingAll`` with every agent whose reservation held, or, when a persistent agent is among them, as an ``Offered``
joining that agent at once (the others are released without being rung).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import anyio
import msgspec
import structlog
from anyio.abc import TaskStatus
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from callcenter_ari.acd.board import Board
from callcenter_ari.acd.decisions import (
    AgentChanged,
    Announce,
    EndCall,
    ForcedState,
    JoinRefused,
    Offer,
    OfferCallback,
    SupervisorAlert,
)
from callcenter_ari.acd.errors import InvalidTransition
from callcenter_ari.acd.global_order import Waiter
from callcenter_ari.acd.records import AgentRecord
from callcenter_ari.acd.skills import Requirement
from callcenter_ari.acd.skills import parse as parse_skills
from callcenter_ari.acd.specs import AgentSpec, QueueSpec
from callcenter_ari.calls import messages as call
from callcenter_ari.clock import Clock
from callcenter_ari.runtime.timers import Timers
from callcenter_ari.store.agents import AgentStore, Refused, Written
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.store.redis import Store
from callcenter_ari.store.waiters import Waiters
from callcenter_ari.trunks.dialstring import Unreachable, agent_device

log = structlog.get_logger(__name__)

Deliver = Callable[[str, call.Input], None]
Emit = Callable[[str, dict[str, Any]], None]
_DEADLINE = ("acd", "deadline")
_LOOK = ("acd", "look")
LOOK_EVERY = 0.25  # seconds between reads of the other processes' callers while an agent is held back for one
REQUEST_TIMEOUT = 10.0  # an API request waits this long for Redis before it is answered as unavailable
RETRIES = 3  # a request refused because another process changed the agent is tried again this often
WATCH_BLOCK_MS = 2_000
WATCH_GATHER_SECONDS = 0.05


class SeatLimitReached(InvalidTransition):
    """Every licensed seat is taken: one more agent may log in only when another logs out."""

    def __init__(self, limit: int | None) -> None:
        super().__init__(f"seat limit reached: {limit} agents are logged in already")
        self.limit = limit


class ReservedElsewhere(InvalidTransition):
    """Another process holds the agent for another call (Redis refused the reservation)."""


class Line(msgspec.Struct, frozen=True):
    """A persistent agent's standing line: their phone's channel, and the bridge it waits in for callers."""

    agent_id: str
    channel: str
    bridge: str


class Lines(Protocol):
    """Persistent agents' standing lines (runtime/standing.py)."""

    def line(self, agent_id: str) -> Line | None:
        """The agent's line if it is up, in its bridge."""

    def connect(self, agent_id: str) -> None:
        """Call the agent's phone into their bridge; they are logged in when it is up."""

    def hang_up(self, agent_id: str) -> None:
        """The agent logged out: end their line, if they have one."""


class NoLines:
    """For an ACD without a runtime around it: no persistent agent can log in."""

    def line(self, agent_id: str) -> Line | None:
        return None

    def connect(self, agent_id: str) -> None:
        raise InvalidTransition(f"agent {agent_id} is persistent: logging in needs their standing line")

    def hang_up(self, agent_id: str) -> None:
        pass


class _Waiting(msgspec.Struct, frozen=True):
    """What the service needs to put a call back in line if a reservation fails."""

    queue: str
    priority: int
    enqueued_at: float
    language: str
    needs: Requirement | None


class _Reply:
    """The answer to one request, once the writes it made are in Redis."""

    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    def set(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error
        self.done.set()


class _Request:
    """A change asked for by a person or a call (log in, ready, reserve a named agent...): ``apply`` runs it on the
    board; its answer waits for the write of ``agent_id``. Tried again if another process changed the agent."""

    __slots__ = ("agent_id", "apply", "conflicted", "reply", "tries")

    def __init__(self, agent_id: str, apply: Callable[[], Any]) -> None:
        self.agent_id = agent_id
        self.apply = apply
        self.reply = _Reply()
        self.tries = 0
        self.conflicted = False


class _Adopt(msgspec.Struct, frozen=True):
    """Another process wrote this agent."""

    record: AgentRecord


class _Tick(msgspec.Struct, frozen=True):
    """A board deadline is due."""


class _FromCall:
    """A call's message: ``apply`` runs it on the board, with the call's id bound to what it logs."""

    __slots__ = ("apply", "call_id", "replays")

    def __init__(self, call_id: str, apply: Callable[[], None]) -> None:
        self.call_id = call_id
        self.apply = apply
        self.replays = 0  # times applied again after Redis refused the write it made


Message = _FromCall | _Request | _Adopt | _Tick


class AcdService:
    def __init__(
        self,
        board: Board,
        store: Store,
        agents: AgentStore,
        timers: Timers,
        clock: Clock,
        *,
        deliver: Deliver,
        emit: Emit,
        lines: Lines | None = None,
        instance: str = "",
        peer_trunks: Mapping[str, str] | None = None,
    ) -> None:
        self.board = board
        # Each agent as Redis last confirmed them: what people see (the API, metrics, the demo), never a change the
        # board decided that Redis has not accepted yet.
        self.confirmed: dict[str, AgentRecord] = {a: msgspec.structs.replace(r) for a, r in board.agents.items()}
        self._store = store
        self._agents = agents
        self._timers = timers
        self._clock = clock
        self._deliver = deliver
        self._emit = emit
        self.lines: Lines = lines or NoLines()
        self._waiters = Waiters(store, instance)
        self.peer_trunks: Mapping[str, str] = peer_trunks or {}  # server (node) -> the trunk that reaches it
        self.running = 1  # processes of the tenant running (presence tells): above 1, the order is global
        self.foreign_reads = 0  # reads of the other processes' callers (for the benchmarks)
        self._looking = False
        self._inbox: deque[Message] = deque()
        self._wakeup = anyio.Event()
        self._waiting: dict[str, _Waiting] = {}
        self._offers: list[Offer] = []
        self._awaiting: dict[str, list[_Request]] = {}  # agent id -> requests answered once it is written
        self._retry: list[_Request] = []
        self._answered: list[_Request] = []  # answered once this round's offers are out
        # A call's messages that changed each agent since their last write: applied again if Redis refuses the write
        # (the call's change still stands on what another process did meanwhile, a deferred order say).
        self._applied: dict[str, list[_FromCall]] = {}
        self._events: list[tuple[str, dict[str, Any]]] = []  # (agent id, agent.state event), sent once written
        self._armed: float | None = None
        self._line_lost: set[str] = set()  # persistent agents whose line went down while on a call
        self._round_robin: dict[str, int] = {}  # as last written to Redis
        self._untrimmed: dict[str, int] = {}  # handle times pushed per queue since its list was last cut back
        self.writes = 0  # agent writes sent to Redis (for the benchmarks)
        self.conflicts = 0  # of which Redis refused because another process had changed the agent

    # ---- the task ----------------------------------------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Take the messages waiting, decide each on the board, write, then act; forever. Each round's write goes
        with the store's next batch (``AgentStore.write``), so rounds come at most as often as the flusher's: the
        messages that arrive while one is written are the next round's (a round trip per agent change before)."""
        task_status.started()
        while True:
            await self._wakeup.wait()
            self._wakeup = anyio.Event()
            await self._settle()

    async def _settle(self) -> None:
        """Handle every message waiting and write until nothing is left to write (one round trip a round)."""
        while self._inbox or self._retry or self.board.dirty or self._offers:
            batch, self._inbox = self._inbox, deque()
            retry, self._retry = self._retry, []
            if self.running > 1:
                await self._look_around()
            for request in retry:
                self._handle(request)
            for message in batch:
                self._handle(message)
            self._decide_offers()
            await self._write()
            self._hand_out()
            answered, self._answered = self._answered, []
            for request in answered:
                request.reply.set(request.reply.value)
        self._drain_audit()
        self._rearm()

    async def _look_around(self) -> None:
        """Hand the board the callers waiting in the other processes now (none if Redis cannot say: then every
        process serves its own callers, as each would alone)."""
        try:
            waiters = await self._waiters.fronts(sorted(self.board.queues))
        except StoreUnavailable as exc:
            log.warning("acd.order_unknown", error=str(exc))
            waiters = []
        self.foreign_reads += 1
        self._offers += self.board.set_foreign(waiters, self._clock.now())

    def set_running(self, count: int) -> None:
        """How many processes of the tenant run now (from the presence beat). Back to one: nothing is held."""
        was, self.running = self.running, count
        if was > 1 and count <= 1:
            self._send(_FromCall("", lambda: self._offers.extend(self.board.set_foreign([], self._clock.now()))))

    def _look_again(self) -> None:
        self._looking = False
        self._send(_Tick())

    def _send(self, message: Message) -> None:
        self._inbox.append(message)
        self._wakeup.set()

    async def _ask(self, agent_id: str, apply: Callable[[], Any]) -> Any:
        """Send a request and wait for its answer (raising what it raised)."""
        request = _Request(agent_id, apply)
        self._send(request)
        try:
            with anyio.fail_after(REQUEST_TIMEOUT):
                await request.reply.done.wait()
        except TimeoutError:
            raise StoreUnavailable("the ACD could not write to Redis in time") from None
        if request.reply.error is not None:
            raise request.reply.error
        return request.reply.value

    def _handle(self, message: Message) -> None:
        match message:
            case _Request():
                self._run_request(message)
            case _Adopt(record=record):
                self._adopt(record)
            case _Tick():
                self._advance()
            case _FromCall(call_id=call_id, apply=apply):
                mark = len(self.board.dirty.log)
                with structlog.contextvars.bound_contextvars(call_id=call_id):
                    try:
                        apply()
                    except InvalidTransition as exc:  # a late or stale message from a call: nothing to do
                        log.info("acd.message_moot", detail=str(exc))
                    except Exception:  # one message's bug must never stop the ACD for every other call
                        log.exception("acd.message_failed")
                for agent_id in self.board.dirty.since(mark):
                    self._applied.setdefault(agent_id, []).append(message)

    def _run_request(self, request: _Request) -> None:
        request.tries += 1
        try:
            value = request.apply()
        except InvalidTransition as exc:
            if request.conflicted and not isinstance(exc, ReservedElsewhere):
                exc = ReservedElsewhere(f"agent {request.agent_id} changed elsewhere: {exc}")
            request.reply.set(error=exc)
            return
        except Exception as exc:  # a request's own bug answers that request, never stops the ACD
            log.exception("acd.request_failed", agent=request.agent_id)
            request.reply.set(error=exc)
            return
        request.reply.value = value
        if request.agent_id in self.board.dirty:
            self._awaiting.setdefault(request.agent_id, []).append(request)
        else:
            self._answered.append(request)

    # ---- writing -----------------------------------------------------------------------------------------

    async def _write(self) -> None:
        dirty = sorted(self.board.drain_dirty())
        self._stage_handle_times(self.board.drain_handle_times())
        for queue, position in self.board.round_robin.items():
            if self._round_robin.get(queue) != position:
                self._round_robin[queue] = position
                self._store.stage("hset", self._store.keys.round_robin, queue, position)
        if not dirty:
            return
        records = [self.board.agents[agent_id] for agent_id in dirty if agent_id in self.board.agents]
        self.writes += len(records)
        applied, self._applied = self._applied, {}
        outcomes = await self._agents.write(records)
        written = {outcome.agent_id for outcome in outcomes if isinstance(outcome, Written)}
        events, self._events = self._events, []
        for agent_id, fields in events:  # in the order the changes were made; a change Redis refused never was
            if agent_id in written:
                self._emit("agent.state", fields)
        for outcome in outcomes:
            match outcome:
                case Written(agent_id=agent_id):
                    self._written(agent_id)
                case Refused(agent_id=agent_id, why="seat_limit", current=current):
                    self._seat_refused(agent_id, current)
                case Refused(agent_id=agent_id, current=current):
                    self.conflicts += 1
                    self._conflict(agent_id, current)
                    self._replay(applied.get(agent_id, ()))

    def _replay(self, messages: Iterable[_FromCall]) -> None:
        """Apply a call's messages again on what Redis holds: each checks the agent's state itself (a stale one is
        moot), and none is applied more than ``RETRIES`` times."""
        again = []
        for message in messages:
            if message.replays < RETRIES:
                message.replays += 1
                again.append(message)
            else:
                log.warning("acd.message_dropped", call_id=message.call_id, replays=message.replays)
        self._inbox.extendleft(reversed(again))  # before anything the calls sent since, in their order

    def _stage_handle_times(self, handled: list[tuple[str, float]]) -> None:
        """Each queue's new handle times in one RPUSH; the list is cut back to its window once a window's worth was
        pushed since (so it never holds more than two windows; the readers take the last ``window`` entries, so the
        longer list changes nothing): not an RPUSH and an LTRIM per call."""
        by_queue: dict[str, list[float]] = {}
        for queue, seconds in handled:
            if queue:
                by_queue.setdefault(queue, []).append(round(seconds, 3))
        for queue, times in by_queue.items():
            key = self._store.keys.handle_times(queue)
            self._store.stage("rpush", key, *times)
            window = self._window(queue)
            pushed = self._untrimmed.get(queue, 0) + len(times)
            if pushed >= window:
                self._store.stage("ltrim", key, -window, -1)
                pushed = 0
            self._untrimmed[queue] = pushed

    def _window(self, queue: str) -> int:
        spec = self.board.queues.get(queue)
        return spec.handle_window if spec is not None else 50

    def _written(self, agent_id: str) -> None:
        self._confirm(agent_id)
        self._answered += self._awaiting.pop(agent_id, ())
        record = self.board.agents.get(agent_id)
        if record is not None and record.state == "logged_out" and self.board.specs[agent_id].persistent:
            self.lines.hang_up(agent_id)  # however they were logged out: API, feature code, supervisor

    def _conflict(self, agent_id: str, current: AgentRecord | None) -> None:
        """Redis holds something newer than what this write replaced: adopt it, withdraw what rested on ours."""
        if current is None:
            # Redis holds no record at all: it lost its data (or never had this agent). Ours is written back.
            record = self.board.agents.get(agent_id)
            if record is not None:
                record.version = 0
                self.board.dirty.add(agent_id)
            return
        log.info("agent.changed_elsewhere", agent=agent_id, state=current.state, version=current.version)
        self._adopt(current, forced=True)

    def _seat_refused(self, agent_id: str, current: AgentRecord | None) -> None:
        record = current or AgentRecord(agent_id=agent_id, since=self._clock.now())
        self._withdraw(agent_id)
        self._offers += self.board.adopt(record, self._clock.now())
        self.confirmed[agent_id] = msgspec.structs.replace(record)
        self.board.dirty.discard(agent_id)
        for request in self._awaiting.pop(agent_id, ()):
            request.reply.set(error=SeatLimitReached(self._agents.seat_limit))

    def _adopt(self, record: AgentRecord, *, forced: bool = False) -> None:
        agent_id = record.agent_id
        mine = self.board.agents.get(agent_id)
        if mine is None or (not forced and record.version <= mine.version):
            return  # an agent not configured here, or a change we already have
        self._events = [(a, fields) for a, fields in self._events if a != agent_id]
        self._withdraw(agent_id)
        self._offers += self.board.adopt(record, self._clock.now())
        self.confirmed[agent_id] = msgspec.structs.replace(record)
        for request in self._awaiting.pop(agent_id, ()):
            request.conflicted = True
            if request.tries < RETRIES:
                self._retry.append(request)
            else:
                request.reply.set(error=ReservedElsewhere(f"agent {agent_id} keeps changing elsewhere"))

    def _confirm(self, agent_id: str) -> None:
        record = self.board.agents.get(agent_id)
        if record is None:
            self.confirmed.pop(agent_id, None)
        else:
            self.confirmed[agent_id] = msgspec.structs.replace(record)

    def shown_state(self, agent_id: str) -> str:
        """The agent's confirmed state as a supervisor sees it: ``on_hold`` for a held call."""
        record = self.confirmed[agent_id]
        return "on_hold" if record.state == "talking" and record.held else record.state

    def use_lines(self, lines: Lines) -> None:
        """Persistent agents' lines (runtime/standing.py), which need this service as much as it needs them."""
        self.lines = lines

    def use_board(self, board: Board) -> None:
        """Serve this board (built from the configuration and the directory at start), before anything runs."""
        self.board = board
        self.confirmed = {a: msgspec.structs.replace(r) for a, r in board.agents.items()}

    def _withdraw(self, agent_id: str) -> None:
        """Offers to this agent rested on a state Redis does not have: their calls go back to their place."""
        withdrawn = [offer for offer in self._offers if offer.agent_id == agent_id]
        if not withdrawn:
            return
        self._offers = [offer for offer in self._offers if offer.agent_id != agent_id]
        for offer in withdrawn:
            if not any(other.call_id == offer.call_id for other in self._offers):
                self._offers += self._back_in_line(offer.call_id)

    # ---- calls: messages ---------------------------------------------------------------------------------

    def enqueue(
        self,
        call_id: str,
        queue: str,
        priority: int,
        enqueued_at: float,
        *,
        first: bool = False,
        language: str = "",
        skills: tuple[str, ...] = (),
    ) -> None:
        """Put a call in line (``first``: its arrival, which a full or empty queue may refuse with
        ``QueueRefused``); it hears ``Offered``/``RingAll`` when an agent is reserved for it."""

        def apply() -> None:
            now = self._clock.now()
            needs = parse_skills(" & ".join(skills)) if skills else None
            self._waiting[call_id] = _Waiting(queue, priority, enqueued_at, language, needs)
            if first:
                joined = self.board.join(
                    call_id, queue, priority, now, enqueued_at=enqueued_at, language=language, needs=needs
                )
                if isinstance(joined, JoinRefused):
                    self._waiting.pop(call_id, None)
                    self._deliver(call_id, call.QueueRefused(joined.reason))
                    return
                self._waiters.joined(call_id)
                offers = list(joined.offers)
            else:
                offers = self.board.enqueue(call_id, queue, priority, enqueued_at, now, language=language, needs=needs)
            if not offers:
                self._waiters.add(_waiter(call_id, self._waiting[call_id], self._waiters.instance))
            self._offers += offers

        self._send(_FromCall(call_id, apply))

    def remove(self, call_id: str, queue: str) -> None:
        """The call left the line for good (hung up, timed out, taken out). An agent still reserved for it was
        offered it too late (the offer crossed the call's end on the way): nobody else would ever free them."""

        def apply() -> None:
            self.board.remove(call_id)
            self._waiting.pop(call_id, None)
            self._waiters.remove(queue, call_id)
            for agent_id in sorted(self.board.ringing(call_id)):
                self._release(agent_id, "call_gone", call_id)

        self._send(_FromCall(call_id, apply))

    def call_failed(self, call_id: str, queue: str) -> None:
        """A call failed safe (back to the dialplan): out of line, and every agent still tied to it freed (the
        record's agent id may already be cleared, or never set, when the failure struck mid-step)."""

        def apply() -> None:
            if queue:
                self.board.remove(call_id)
                self._waiting.pop(call_id, None)
                self._waiters.remove(queue, call_id)
            for agent_id, record in self.board.agents.items():
                if record.call_id == call_id:
                    self._free(agent_id, call_id, "call_failed")

        self._send(_FromCall(call_id, apply))

    def free(self, agent_id: str, call_id: str, reason: str) -> None:
        """Done with an agent this call held: released for ``reason`` if still reserved for it, to wrap-up if
        talking on it; an agent already freed, or on another call by now, is left alone."""
        self._send(_FromCall(call_id, lambda: self._free(agent_id, call_id, reason)))

    def release(self, agent_id: str, reason: str, *, call_id: str = "") -> None:
        """The reservation ended without a conversation. With ``call_id``: only a reservation for that call (the
        agent may be free already, released with the other ring-all agents, and even reserved for another call)."""
        self._send(_FromCall(call_id, lambda: self._release(agent_id, reason, call_id)))

    def connected(self, agent_id: str, *, call_id: str = "") -> None:
        """The agent took the call; the others rung for it (ring_all) are available again."""

        def apply() -> None:
            call = self.board.agents[agent_id].call_id
            others = self.board.ringing(call) - {agent_id}
            self._offers += self.board.connected(agent_id, self._clock.now())
            self._touch(agent_id)
            for other in sorted(others):
                record = self.board.agents[other]
                if not (record.state == "reserved" and record.call_id == call):
                    self._touch(other)  # released: another answered

        self._send(_FromCall(call_id, apply))

    def finished(self, agent_id: str, *, call_id: str = "") -> None:
        """The conversation ended: wrap-up, whose end the board schedules (the agent may end or extend it)."""
        self._send(_FromCall(call_id, lambda: self._finished(agent_id)))

    def hold(self, agent_id: str, held: bool, *, call_id: str = "") -> None:
        def apply() -> None:
            now = self._clock.now()
            if held:
                self.board.hold(agent_id, now)
            else:
                self.board.unhold(agent_id, now)
            self._touch(agent_id)

        self._send(_FromCall(call_id, apply))

    def line_down(self, agent_id: str) -> None:
        """A persistent agent's standing line went down: logged out now, or, on a call, when the call lets
        them go (the call hears of it from the line and ends as released by the agent)."""

        def apply() -> None:
            state = self.board.state(agent_id)
            if state in ("reserved", "talking", "on_hold"):
                self._line_lost.add(agent_id)
            elif state != "logged_out":
                self.board.log_out(agent_id, self._clock.now())
                self._touch(agent_id)

        self._send(_FromCall("", apply))

    async def reserve(self, agent_id: str, call_id: str, queue: str, *, joined: bool = False) -> str:
        """Reserve a named agent for this call (a transfer or a consultation) and return the endpoint to ring;
        ``joined``: a persistent agent, for a call to be joined into their bridge (a campaign's).

        The board refuses an agent who is not available (``InvalidTransition``, ``UnknownAgent``); Redis confirms
        it, so another process cannot have them at once (``ReservedElsewhere`` if one did).
        """

        def apply() -> str:
            offer = self.board.reserve(agent_id, call_id, queue, self._clock.now(), joined=joined)
            self._touch(agent_id)
            return self._device(offer)

        endpoint: str = await self._ask(agent_id, apply)
        return endpoint

    # ---- agents: requests --------------------------------------------------------------------------------

    async def log_in(self, agent_id: str) -> None:
        """Log in, within the tenant's seat limit (counted in Redis across processes: ``SeatLimitReached``)."""
        if self._needs_line(agent_id):
            if self.board.state(agent_id) != "logged_out":
                return
            limit = self._agents.seat_limit
            if limit is not None and await self.seats_taken() >= limit:
                raise SeatLimitReached(limit)  # refused before their phone rings; the write decides in the end
            self.lines.connect(agent_id)  # logged in once their phone is up in their bridge: log_in comes again
            return

        def apply() -> None:
            self._offers += self.board.log_in(agent_id, self._clock.now())
            self._touch(agent_id)

        await self._ask(agent_id, apply)

    async def log_out(self, agent_id: str) -> None:
        def apply() -> None:
            self.board.log_out(agent_id, self._clock.now())
            self._touch(agent_id)

        await self._ask(agent_id, apply)

    async def ready(self, agent_id: str) -> None:
        """Available again (from not ready, or ending wrap-up early); a waiting call may be offered at once."""

        def apply() -> None:
            self._offers += self.board.ready(agent_id, self._clock.now())
            self._touch(agent_id)

        await self._ask(agent_id, apply)

    async def not_ready(self, agent_id: str, reason: str, *, policed: bool) -> None:
        """Not ready with a reason. ``policed``: the agents ask for themselves, so their team's break policy
        applies (a refusal raises InvalidTransition); a supervisor's order is not policed."""

        def apply() -> None:
            now = self._clock.now()
            if policed:
                decision = self.board.request_break(agent_id, reason, now)
                if not decision.granted:
                    raise InvalidTransition(
                        f"break refused: team {decision.team} has its maximum on {reason!r} already"
                    )
                if decision.alert is not None:
                    self._emit("acd.alert", msgspec.to_builtins(decision.alert))
            else:
                self.board.not_ready(agent_id, reason, now)
            self._touch(agent_id)

        await self._ask(agent_id, apply)

    async def extend_wrapup(self, agent_id: str, seconds: float) -> float:
        """More time to finish the work order; refused past the queue's ``wrapup_max_seconds``. Returns the new end
        of wrap-up (``ready`` ends it early)."""

        def apply() -> float:
            now = self._clock.now()
            until = self.board.extend_wrapup(agent_id, seconds, now)
            self._emit("agent.wrapup_extended", {"at": now, "agent": agent_id, "until": round(until, 3)})
            return until

        until: float = await self._ask(agent_id, apply)
        return until

    async def force(self, agent_id: str, state: ForcedState, reason: str = "supervisor") -> bool:
        """A supervisor sets the agent's state; on a call, logged_out/not_ready wait for the end of its wrap-up.
        Returns whether the order is pending."""

        def apply() -> bool:
            forced = self.board.force(agent_id, state, self._clock.now(), reason=reason)
            self._offers += forced.offers
            self._touch(agent_id)
            return forced.pending

        pending: bool = await self._ask(agent_id, apply)
        return pending

    async def seats_taken(self) -> int:
        """Seats held in Redis now, by this process's agents and every other's."""
        return await self._agents.seats_taken()

    async def write_back(self) -> None:
        """Redis lost its data: every agent is written again over no version (another process that wrote one back
        first wins, and is adopted), and every waiting call's place in line goes back."""

        def apply() -> None:
            for agent_id, record in self.board.agents.items():
                record.version = 0
                self.board.dirty.add(agent_id)
            for call_id, waiting in self._waiting.items():
                self._waiters.add(_waiter(call_id, waiting, self._waiters.instance))
            self._round_robin = {}

        await self._ask("", apply)

    async def barrier(self) -> None:
        """Return once every message sent before this call is handled and its writes are in Redis."""
        await self._ask("", lambda: None)

    def logged_in(self) -> int:
        return sum(1 for record in self.confirmed.values() if record.state != "logged_out")

    # ---- the directory (agents and queues changed through the API) ------------------------------------------

    async def configure_agent(self, spec: AgentSpec) -> None:
        """Add an agent (logged out) or apply their new spec; an available agent may be offered a call at once."""

        def apply() -> None:
            self._offers += self.board.upsert_agent(spec, self._clock.now())

        await self._ask(spec.agent_id, apply)

    async def remove_agent(self, agent_id: str) -> None:
        """Forget a logged-out agent (``InvalidTransition`` otherwise) and their record."""

        def apply() -> None:
            self.board.remove_agent(agent_id, self._clock.now())
            self.confirmed.pop(agent_id, None)
            self._store.drop_agent(agent_id)

        await self._ask(agent_id, apply)

    async def configure_queue(self, spec: QueueSpec) -> None:
        """Add a queue or apply its new rules; its waiting calls are routed again and may be offered at once."""

        def apply() -> None:
            self._offers += self.board.upsert_queue(spec, self._clock.now())

        await self._ask("", apply)

    async def remove_queue(self, queue: str) -> None:
        """Forget a queue nobody waits in and nothing refers to (``InUse`` otherwise)."""
        await self._ask("", lambda: self.board.remove_queue(queue, self._clock.now()))

    # ---- other processes, restarts, seats ------------------------------------------------------------------

    async def recover(self, live_calls: set[str]) -> list[AgentRecord]:
        """Adopt every agent as Redis holds them (their deadlines with them). An agent reserved for, or talking
        on, a call of this node that is no longer live is freed (to wrap-up if they were talking: the work order
        is still theirs to write). Returns the records read."""
        records = await self._agents.read_all()
        windows = {queue: spec.handle_window for queue, spec in self.board.queues.items()}
        positions, handle_times = await self._agents.read_figures(windows)
        node = self.board.node

        def apply() -> None:
            for queue, position in positions.items():
                if queue in self.board.queues:
                    self.board.round_robin[queue] = position
            self._round_robin = dict(self.board.round_robin)
            for queue, times in handle_times.items():
                for seconds in times:
                    self.board.record_handle_time(queue, seconds)
            for record in records:
                if record.agent_id not in self.board.agents:
                    continue
                self._offers += self.board.adopt(record, self._clock.now())
                self.confirmed[record.agent_id] = msgspec.structs.replace(record)
                if record.state in ("reserved", "talking") and record.node in (node, "") and record.call_id:
                    if record.call_id not in live_calls:
                        log.info("recovery.agent_freed", agent=record.agent_id, call_id=record.call_id)
                        self._free(record.agent_id, record.call_id, "call_gone")

        await self._ask("", apply)
        return records

    async def watch(self, after: str, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Follow other processes' agent writes from stream id ``after`` (read before ``recover``, so that none
        written meanwhile is missed)."""
        task_status.started()
        origin = self._agents.origin
        while True:
            try:
                after, changes = await self._agents.changes(after, block_ms=WATCH_BLOCK_MS)
            except StoreUnavailable as exc:
                log.warning("acd.watch_failed", error=str(exc))
                await anyio.sleep(1.0)
                continue
            for change in changes:
                if change.origin != origin:
                    self._send(_Adopt(change.record))
            if changes:
                # Let changes gather (this process's own among them, read back and skipped): under load one read
                # carries many instead of one each; another process's change is seen this much later at most.
                await anyio.sleep(WATCH_GATHER_SECONDS)

    async def renew_seats(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Keep the seats of the agents logged in here leased; an agent whose seat went to another meanwhile (every
        process was down long enough for their lease to run out) is logged out."""
        task_status.started()
        while True:
            ids = [agent_id for agent_id, record in self.board.agents.items() if record.state != "logged_out"]
            try:
                refused = await self._agents.renew_seats(ids)
            except StoreUnavailable as exc:
                log.warning("acd.seat_renewal_failed", error=str(exc))
                refused = []
            for agent_id in refused:
                log.warning("agent.seat_lost", agent=agent_id)
                self._send(_FromCall("", functools.partial(self._lose_seat, agent_id)))
            await anyio.sleep(self._agents.lease / 3)

    def _lose_seat(self, agent_id: str) -> None:
        now = self._clock.now()
        state = self.board.agents[agent_id].state
        if state in ("available", "not_ready", "wrapup"):
            self.board.log_out(agent_id, now)
            self._touch(agent_id, reason="seat_limit")
        elif state != "logged_out":
            self.board.force(agent_id, "logged_out", now, reason="seat_limit")

    def tick(self) -> None:
        """A board deadline is due (the timer's callback)."""
        self._armed = None
        self._send(_Tick())

    # ---- decisions ---------------------------------------------------------------------------------------

    def _free(self, agent_id: str, call_id: str, reason: str) -> None:
        record = self.board.agents.get(agent_id)
        if record is None or record.call_id != call_id:
            return
        if record.state == "reserved":
            self._release(agent_id, reason, "")
        elif record.state == "talking":
            self._finished(agent_id)

    def _release(self, agent_id: str, reason: str, call_id: str) -> None:
        record = self.board.agents[agent_id]
        if call_id and (record.state != "reserved" or record.call_id != call_id):
            log.info("agent.release_moot", agent=agent_id, call_id=call_id, state=record.state)
            return
        if agent_id in self._line_lost:
            self._let_go(agent_id)
            return
        self._offers += self.board.release(agent_id, reason, self._clock.now())
        self._touch(agent_id)
        log.info("agent.released", agent=agent_id, reason=reason, state=self.board.state(agent_id))

    def _finished(self, agent_id: str) -> None:
        self.board.finished(agent_id, self._clock.now())
        if agent_id in self._line_lost:
            self._let_go(agent_id)
            return
        self._touch(agent_id)

    def _advance(self) -> None:
        for decision in self.board.advance(self._clock.now()):
            match decision:
                case Offer():
                    self._offers.append(decision)
                case AgentChanged(agent_id=agent_id):
                    self._touch(agent_id)
                case EndCall(call_id=call_id, reason=reason, message=message, queue=queue):
                    self._waiting.pop(call_id, None)
                    self._waiters.remove(queue, call_id)
                    self._deliver(call_id, call.QueueEnded(reason, message))
                case Announce(call_id=call_id, position=position, ewt=ewt):
                    self._deliver(call_id, call.Announce(position, ewt))
                case OfferCallback(call_id=call_id, queue=queue, waited=waited):
                    # The caller hears the offer; a callback already in line (not a call) has nothing to offer.
                    self._emit("acd.callback_offered", {"call_id": call_id, "queue": queue, "waited": waited})
                    self._deliver(call_id, call.CallbackOffer())
                case SupervisorAlert():
                    self._emit("acd.alert", msgspec.to_builtins(decision))

    def _decide_offers(self) -> None:
        """Before writing: a persistent agent whose line is down cannot take a call; one whose line is up takes a
        ring_all call at once, so the others of its group are released without a ring."""
        now = self._clock.now()
        kept: list[Offer] = []
        for offer in self._offers:
            if offer.persistent and self.lines.line(offer.agent_id) is None:
                self._let_go(offer.agent_id)
                kept += self._back_in_line(offer.call_id) if not _others(self._offers, offer) else []
            else:
                kept.append(offer)
        freed: list[Offer] = []
        for call_id in dict.fromkeys(offer.call_id for offer in kept):
            group = [offer for offer in kept if offer.call_id == call_id]
            joined = next((offer for offer in group if offer.persistent), None)
            if joined is None or len(group) == 1:
                continue
            for offer in group:
                if offer is not joined:
                    kept.remove(offer)
                    freed += self.board.release(offer.agent_id, "answered_elsewhere", now)
                    self._touch(offer.agent_id)
        self._offers = kept + freed

    def _hand_out(self) -> None:
        """After writing: every offer whose agent Redis confirmed goes to its call, one message per call."""
        offers, self._offers = self._offers, []
        pending = self.board.dirty  # agents a refused write left to write again: their offers wait a round
        later: list[Offer] = []
        for call_id in dict.fromkeys(offer.call_id for offer in offers):
            group = [offer for offer in offers if offer.call_id == call_id]
            if any(offer.agent_id in pending for offer in group):
                later += group
                continue
            held = [offer for offer in group if self._still_reserved(offer)]
            if not held:
                self._offers += self._back_in_line(call_id)
            elif (waiting := self._waiting.pop(call_id, None)) is not None:
                self._waiters.remove(waiting.queue, call_id)
                self._deliver(call_id, self._offer_message(held))
            else:
                # The call left meanwhile (hung up, timed out): nobody would ever release these agents.
                for offer in held:
                    self._offers += self.board.release(offer.agent_id, "call_gone", self._clock.now())
                    self._touch(offer.agent_id)
        self._offers += later

    def _still_reserved(self, offer: Offer) -> bool:
        record = self.board.agents.get(offer.agent_id)
        if record is None or record.state != "reserved" or record.call_id != offer.call_id:
            return False
        if offer.persistent and self.lines.line(offer.agent_id) is None:
            self._let_go(offer.agent_id)
            return False
        return True

    def _offer_message(self, reserved: list[Offer]) -> call.Input:
        if len(reserved) > 1:
            return call.RingAll(tuple((offer.agent_id, self._device(offer)) for offer in reserved))
        offer = reserved[0]
        line = self.lines.line(offer.agent_id) if offer.persistent else None
        if line is None:
            return call.Offered(offer.agent_id, self._device(offer))
        return call.Offered(offer.agent_id, offer.endpoint, line=line.channel, bridge=line.bridge)

    def _device(self, offer: Offer) -> str:
        """What to ring for the offered agent from this server: their phone, or through the peer trunk to the
        server their phone is on (``servers`` in the configuration)."""
        spec = self.board.specs.get(offer.agent_id)
        if spec is None or not spec.server:
            return offer.endpoint
        try:
            return agent_device(offer.endpoint, spec.server, self.board.node, self.peer_trunks)
        except Unreachable as exc:  # the configuration check refuses this; rung as configured if it slips through
            log.error("agent.unreachable", agent=offer.agent_id, detail=str(exc))
            return offer.endpoint

    def _back_in_line(self, call_id: str) -> list[Offer]:
        """No agent could be reserved for a call still waiting: it goes back to its place (and may be offered to
        someone else at once)."""
        waiting = self._waiting.get(call_id)
        if waiting is None:
            return []
        again = self.board.enqueue(
            call_id,
            waiting.queue,
            waiting.priority,
            waiting.enqueued_at,
            self._clock.now(),
            language=waiting.language,
            needs=waiting.needs,
        )
        if not again:
            self._waiters.add(_waiter(call_id, waiting, self._waiters.instance))
        return again

    def _let_go(self, agent_id: str) -> None:
        """A persistent agent without a line leaves their call: logged out, never offered another."""
        self._line_lost.discard(agent_id)
        now = self._clock.now()
        if self.board.agents[agent_id].state == "reserved":
            self.board.release(agent_id, "unavailable", now)  # not ready: no offer can slip in before the log-out
        if self.board.agents[agent_id].state != "logged_out":
            self.board.log_out(agent_id, now)
        self._touch(agent_id)

    def _needs_line(self, agent_id: str) -> bool:
        spec = self.board.specs.get(agent_id)
        return spec is not None and spec.persistent and self.lines.line(agent_id) is None

    def _touch(self, agent_id: str, *, reason: str | None = None) -> None:
        """The agent changed: an ``agent.state`` event goes out once their record is written."""
        record = self.board.agents[agent_id]
        state = self.board.state(agent_id)  # "on_hold" while holding a caller, where the record says "talking"
        fields: dict[str, Any] = {
            "agent": agent_id,
            "state": state,
            "reason": record.reason if reason is None else reason,
        }
        if record.state == "reserved":
            fields["call_id"] = record.call_id
        self._events.append((agent_id, fields))
        self.board.dirty.add(agent_id)

    def _drain_audit(self) -> None:
        for audit in self.board.drain_audit():
            self._emit("acd.routed", msgspec.to_builtins(audit))

    def _rearm(self) -> None:
        if self.board.held and self.running > 1 and not self._looking:
            self._looking = True
            self._timers.set(_LOOK, self._clock.now() + LOOK_EVERY, self._look_again)
        deadline = self.board.next_deadline()
        if deadline == self._armed:
            return
        self._armed = deadline
        if deadline is None:
            self._timers.cancel(_DEADLINE)
        else:
            self._timers.set(_DEADLINE, deadline, self.tick)


def _waiter(call_id: str, waiting: _Waiting, instance: str) -> Waiter:
    return Waiter(
        call_id,
        waiting.queue,
        waiting.priority,
        waiting.enqueued_at,
        instance=instance,
        language=waiting.language,
        needs=waiting.needs,
    )


def _others(offers: list[Offer], offer: Offer) -> bool:
    return any(other.call_id == offer.call_id and other is not offer for other in offers)


class BoardCollector(Collector):
    """Agents by state and calls waiting per queue, computed when Prometheus scrapes, not on every change."""

    def __init__(self, acd: AcdService) -> None:
        self._acd = acd  # its board and queues as they are now (the directory may change both)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        agents = GaugeMetricFamily("callcenter_agents", "Agents by state", labels=["state"])
        board = self._acd.board
        counts: dict[str, int] = {}
        for agent_id in self._acd.confirmed:
            state = self._acd.shown_state(agent_id)
            counts[state] = counts.get(state, 0) + 1
        for state, count in sorted(counts.items()):
            agents.add_metric([state], count)
        waiting = GaugeMetricFamily("callcenter_calls_waiting", "Calls waiting in a queue", labels=["queue"])
        for queue in sorted(board.queues):
            waiting.add_metric([queue], board.queue_length(queue))
        held = GaugeMetricFamily(
            "callcenter_agents_held_back", "Agents held back for an earlier caller of another process"
        )
        held.add_metric([], len(board.held))
        yield agents
        yield waiting
        yield held
