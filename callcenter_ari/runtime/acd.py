"""The ACD service: runs the pure board, persists agents and queue entries, and hands offers to the calls.

The board owns every ACD deadline (wrap-up ends, relaxation steps, announcements, break limits); the service keeps
one timer armed at ``board.next_deadline()`` and turns what ``board.advance`` decides into call inputs, saved
agents and events. Every offer is confirmed in Redis by an atomic reservation before the call hears of it, so an
agent shared with another process is never offered two calls.

Persistent agents are logged in only while their standing line (a call from their phone into the application,
parked in a bridge of their own, runtime/standing.py) is up: logging one in asks ``lines`` to set the line up, and
the agent is on the board once it is; logging one out hangs it up. A ring_all decision is handed to the call as one
``RingAll`` with every agent whose reservation held, or, when a persistent agent is among them, as an ``Offered``
joining that agent at once (the others are released without being rung).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import msgspec
import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from callcenter_ari.acd.board import Board
from callcenter_ari.acd.decisions import (
    AgentChanged,
    Announce,
    EndCall,
    JoinRefused,
    Offer,
    OfferCallback,
    SupervisorAlert,
)
from callcenter_ari.acd.errors import InvalidTransition
from callcenter_ari.acd.records import AgentRecord
from callcenter_ari.acd.skills import Requirement
from callcenter_ari.acd.skills import parse as parse_skills
from callcenter_ari.acd.specs import AgentSpec, QueueSpec
from callcenter_ari.calls import messages as call
from callcenter_ari.clock import Clock
from callcenter_ari.runtime.timers import Timers
from callcenter_ari.store.redis import Store, queue_score

log = structlog.get_logger(__name__)

Deliver = Callable[[str, call.Input], None]
Emit = Callable[[str, dict[str, Any]], None]
_DEADLINE = ("acd", "deadline")


class SeatLimitReached(InvalidTransition):
    """Every licensed seat is taken: one more agent may log in only when another logs out."""

    def __init__(self, limit: int) -> None:
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


class AcdService:
    def __init__(
        self, board: Board, store: Store, timers: Timers, clock: Clock, *, deliver: Deliver, emit: Emit
    ) -> None:
        self.board = board
        self._store = store
        self._timers = timers
        self._clock = clock
        self._deliver = deliver
        self._emit = emit
        self._waiting: dict[str, _Waiting] = {}
        self._armed: float | None = None
        self._spawn: Callable[..., None]
        self.lines: Lines = NoLines()
        self._line_lost: set[str] = set()  # persistent agents whose line went down while on a call

    def bind(self, spawn: Callable[..., None]) -> None:
        """Give the service a way to start tasks in the application's task group."""
        self._spawn = spawn

    # ---- calls -------------------------------------------------------------------------------------------

    async def enqueue(
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
            offers = list(joined.offers)
        else:
            offers = self.board.enqueue(call_id, queue, priority, enqueued_at, now, language=language, needs=needs)
        if not offers:
            self._store.queue_add(queue, call_id, queue_score(priority, enqueued_at))
        await self._after(offers)

    def remove(self, call_id: str, queue: str) -> None:
        self.board.remove(call_id)
        self._waiting.pop(call_id, None)
        self._store.queue_remove(queue, call_id)
        self._rearm()

    async def call_failed(self, call_id: str, queue: str) -> None:
        """A call failed safe (back to the dialplan): take it out of line and free every agent still tied to it
        (the record's agent id may already be cleared, or never set, when the failure struck mid-step)."""
        if queue:
            self.remove(call_id, queue)
        for agent_id in list(self.board.agents):
            await self.free(agent_id, call_id, "call_failed")

    async def reserve(self, agent_id: str, call_id: str, queue: str) -> str:
        """Reserve a named agent for this call (a transfer or a consultation) and return the endpoint to ring.

        The board refuses an agent who is not available (``InvalidTransition``, ``UnknownAgent``); then the same
        Redis script as routing confirms it, so another process cannot have them at once (``ReservedElsewhere``).
        """
        offer = self.board.reserve(agent_id, call_id, queue, self._clock.now())
        agent = self.board.agents[agent_id]
        if await self._store.reserve_agent(agent):
            self._emit("agent.state", {"agent": agent_id, "state": agent.state, "reason": "", "call_id": call_id})
            return offer.endpoint
        log.warning("agent.reserved_elsewhere", agent=agent_id, call_id=call_id)
        offers = self.board.release(agent_id, "reserved_elsewhere", self._clock.now())
        state = self.board.state(agent_id)
        self._emit("agent.state", {"agent": agent_id, "state": state, "reason": "reserved_elsewhere"})
        await self._after(offers)
        raise ReservedElsewhere(f"agent {agent_id} is on another call")

    async def free(self, agent_id: str, call_id: str, reason: str) -> None:
        """Done with an agent this call held: released for ``reason`` if still reserved for it, to wrap-up if talking
        on it; an agent already freed, or on another call by now, is left alone."""
        record = self.board.agents.get(agent_id)
        if record is None or record.call_id != call_id:
            return
        if record.state == "reserved":
            await self.release(agent_id, reason)
        elif record.state == "talking":
            self.finished(agent_id)

    # ---- agents ------------------------------------------------------------------------------------------

    async def log_in(self, agent_id: str, *, seat_limit: int | None = None) -> None:
        """Log in, within the tenant's seat limit (counted on this process's board). Nothing is awaited between
        the count and the change, so two requests at once cannot both take the last seat."""
        record = self.board.agents.get(agent_id)
        if seat_limit is not None and record is not None and record.state == "logged_out":
            if self.logged_in() >= seat_limit:
                raise SeatLimitReached(seat_limit)
        if self._needs_line(agent_id) and self.board.state(agent_id) == "logged_out":
            self.lines.connect(agent_id)  # logged in once their phone is up in their bridge: log_in comes again
            return
        offers = self.board.log_in(agent_id, self._clock.now())
        self._changed(agent_id)
        await self._after(offers)

    def logged_in(self) -> int:
        return sum(1 for record in self.board.agents.values() if record.state != "logged_out")

    def log_out(self, agent_id: str) -> None:
        self.board.log_out(agent_id, self._clock.now())
        self._changed(agent_id)
        self._rearm()  # a wrap-up or break deadline may be gone

    async def ready(self, agent_id: str) -> None:
        """Available again (from not ready, or ending wrap-up early); a waiting call may be offered at once."""
        offers = self.board.ready(agent_id, self._clock.now())
        self._changed(agent_id)
        await self._after(offers)

    def extend_wrapup(self, agent_id: str, seconds: float) -> float:
        """More time to finish the work order; refused past the queue's ``wrapup_max_seconds``. Returns the new end
        of wrap-up (``ready`` ends it early)."""
        until = self.board.extend_wrapup(agent_id, seconds, self._clock.now())
        self._emit("agent.wrapup_extended", {"at": self._clock.now(), "agent": agent_id, "until": round(until, 3)})
        self._rearm()
        return until

    def not_ready(self, agent_id: str, reason: str, *, policed: bool) -> None:
        """Not ready with a reason. ``policed``: the agents ask for themselves, so their team's break policy
        applies (a refusal raises InvalidTransition); a supervisor's order is not policed."""
        now = self._clock.now()
        if policed:
            decision = self.board.request_break(agent_id, reason, now)
            if not decision.granted:
                raise InvalidTransition(f"break refused: team {decision.team} has its maximum on {reason!r} already")
            if decision.alert is not None:
                self._emit("acd.alert", msgspec.to_builtins(decision.alert))
        else:
            self.board.not_ready(agent_id, reason, now)
        self._changed(agent_id)
        self._rearm()  # a policed break has an overrun deadline

    async def release(self, agent_id: str, reason: str, *, call_id: str = "") -> None:
        """The reservation ended without a conversation. With ``call_id``: only a reservation for that call (the
        agent may be free already, released with the other ring-all agents, and even reserved for another call)."""
        record = self.board.agents[agent_id]
        if call_id and (record.state != "reserved" or record.call_id != call_id):
            log.info("agent.release_moot", agent=agent_id, call_id=call_id, state=record.state)
            return
        if agent_id in self._line_lost:
            self._let_go(agent_id)
            return
        offers = self.board.release(agent_id, reason, self._clock.now())
        self._changed(agent_id)
        log.info("agent.released", agent=agent_id, reason=reason, state=self.board.state(agent_id))
        await self._after(offers)

    async def connected(self, agent_id: str) -> None:
        """The agent took the call; the others rung for it (ring_all) are available again."""
        others = self.board.ringing(self.board.agents[agent_id].call_id) - {agent_id}
        offers = self.board.connected(agent_id, self._clock.now())
        self._changed(agent_id)
        for other in sorted(others):
            self._changed(other)
        await self._after(offers)

    def line_down(self, agent_id: str) -> None:
        """A persistent agent's standing line went down: logged out now, or, on a call, when the call lets
        them go (the call hears of it from the line and ends as released by the agent)."""
        state = self.board.state(agent_id)
        if state in ("reserved", "talking", "on_hold"):
            self._line_lost.add(agent_id)
        elif state != "logged_out":
            self.log_out(agent_id)

    def _let_go(self, agent_id: str) -> None:
        """A persistent agent without a line leaves their call: logged out, never offered another."""
        self._line_lost.discard(agent_id)
        now = self._clock.now()
        if self.board.agents[agent_id].state == "reserved":
            self.board.release(agent_id, "unavailable", now)  # not ready: no offer can slip in before the log-out
        if self.board.agents[agent_id].state != "logged_out":
            self.board.log_out(agent_id, now)
        self._changed(agent_id)
        self._rearm()

    def _needs_line(self, agent_id: str) -> bool:
        spec = self.board.specs.get(agent_id)
        return spec is not None and spec.persistent and self.lines.line(agent_id) is None

    def hold(self, agent_id: str, held: bool) -> None:
        now = self._clock.now()
        if held:
            self.board.hold(agent_id, now)
        else:
            self.board.unhold(agent_id, now)
        self._changed(agent_id)

    def finished(self, agent_id: str) -> None:
        """The conversation ended: wrap-up, whose end the board schedules (the agent may end or extend it)."""
        self.board.finished(agent_id, self._clock.now())
        if agent_id in self._line_lost:
            self._let_go(agent_id)
            return
        self._changed(agent_id)
        self._rearm()

    # ---- the directory (agents and queues changed through the API) ------------------------------------------

    async def configure_agent(self, spec: AgentSpec) -> None:
        """Add an agent (logged out) or apply their new spec; an available agent may be offered a call at once."""
        created = spec.agent_id not in self.board.agents
        offers = self.board.upsert_agent(spec, self._clock.now())
        if created:
            self._store.save_agent(self.board.agents[spec.agent_id])
        await self._after(offers)

    def remove_agent(self, agent_id: str) -> None:
        """Forget a logged-out agent (``InvalidTransition`` otherwise) and their record."""
        self.board.remove_agent(agent_id, self._clock.now())
        self._store.drop_agent(agent_id)
        self._rearm()

    async def configure_queue(self, spec: QueueSpec) -> None:
        """Add a queue or apply its new rules; its waiting calls are routed again and may be offered at once."""
        offers = self.board.upsert_queue(spec, self._clock.now())
        await self._after(offers)

    def remove_queue(self, queue: str) -> None:
        """Forget a queue nobody waits in and nothing refers to (``InUse`` otherwise)."""
        self.board.remove_queue(queue, self._clock.now())
        self._rearm()

    def restore(self, records: Iterable[AgentRecord], live_calls: set[str]) -> None:
        """Adopt agents' states from Redis after a restart; a call that ended while we were down frees its agent."""
        now = self._clock.now()
        for record in records:
            if record.state in ("reserved", "talking", "wrapup") and record.call_id not in live_calls:
                record.state, record.call_id, record.since = "available", "", now
            self.board.restore(record)
        self._rearm()

    # ---- decisions ---------------------------------------------------------------------------------------

    async def _after(self, offers: list[Offer]) -> None:
        """After every change: the audit to the stream, the deadline timer re-armed, the offers handed out."""
        self._drain_audit()
        self._rearm()
        await self._hand_out(offers)

    def _rearm(self) -> None:
        deadline = self.board.next_deadline()
        if deadline == self._armed:
            return
        self._armed = deadline
        if deadline is None:
            self._timers.cancel(_DEADLINE)
        else:
            self._timers.set(_DEADLINE, deadline, self._on_deadline)

    def _on_deadline(self) -> None:
        self._armed = None
        offers: list[Offer] = []
        for decision in self.board.advance(self._clock.now()):
            match decision:
                case Offer():
                    offers.append(decision)
                case AgentChanged(agent_id=agent_id):
                    self._changed(agent_id)
                case EndCall(call_id=call_id, reason=reason, message=message, queue=queue):
                    self._waiting.pop(call_id, None)
                    self._store.queue_remove(queue, call_id)
                    self._deliver(call_id, call.QueueEnded(reason, message))
                case Announce(call_id=call_id, position=position, ewt=ewt):
                    self._deliver(call_id, call.Announce(position, ewt))
                case OfferCallback(call_id=call_id, queue=queue, waited=waited):
                    # Scheduling callbacks is a service of its own; until it exists the offer is recorded.
                    self._emit("acd.callback_offered", {"call_id": call_id, "queue": queue, "waited": waited})
                case SupervisorAlert():
                    self._emit("acd.alert", msgspec.to_builtins(decision))
        self._drain_audit()
        self._rearm()
        if offers:
            # Timers fire synchronously; the reservation needs Redis, so it runs as its own short task.
            self._spawn(self._hand_out, offers)

    async def _hand_out(self, offers: list[Offer]) -> None:
        while offers:
            # One call at a time: ring_all decides for several agents at once, and the call hears of them together.
            call_id = offers[-1].call_id
            group = [offer for offer in offers if offer.call_id == call_id]
            offers[:] = [offer for offer in offers if offer.call_id != call_id]
            group, freed = self._persistent_first(group)
            offers += freed
            reserved: list[Offer] = []
            for offer in group:
                if await self._store.reserve_agent(self.board.agents[offer.agent_id]):
                    reserved.append(offer)
                else:
                    offers += self._reserved_elsewhere(offer)
            # Redis answered; meanwhile the call may have left, or a persistent agent's line gone down.
            reserved = [offer for offer in reserved if self._still_reserved(offer)]
            if not reserved:
                offers += self._back_in_line(call_id)
            elif self._waiting.pop(call_id, None) is not None:
                self._store.queue_remove(reserved[0].queue, call_id)
                self._deliver(call_id, self._offer_message(reserved))
            else:
                # The call left while Redis answered (hung up, timed out): nobody would ever release these agents.
                for offer in reserved:
                    offers += self.board.release(offer.agent_id, "call_gone", self._clock.now())
                    self._changed(offer.agent_id)
        # A call back in line has deadlines (relaxation steps, announcements) the timer must be armed for.
        self._drain_audit()
        self._rearm()

    def _persistent_first(self, group: list[Offer]) -> tuple[list[Offer], list[Offer]]:
        """Decide before acting. A persistent agent whose line is down cannot take the call (logged out); one
        whose line is up takes it at once, so the others of a ring_all group are released without a ring.
        Returns the offers to carry out and the offers the released agents got."""
        now = self._clock.now()
        kept: list[Offer] = []
        for offer in group:
            if offer.persistent and self.lines.line(offer.agent_id) is None:
                self._let_go(offer.agent_id)
            else:
                kept.append(offer)
        joined = next((offer for offer in kept if offer.persistent), None)
        if joined is None or len(kept) == 1:
            return kept, []
        freed: list[Offer] = []
        for offer in kept:
            if offer is not joined:
                freed += self.board.release(offer.agent_id, "answered_elsewhere", now)
                self._changed(offer.agent_id)
        return [joined], freed

    def _still_reserved(self, offer: Offer) -> bool:
        record = self.board.agents[offer.agent_id]
        if record.state != "reserved" or record.call_id != offer.call_id:
            return False
        if offer.persistent and self.lines.line(offer.agent_id) is None:
            self._let_go(offer.agent_id)
            return False
        return True

    def _offer_message(self, reserved: list[Offer]) -> call.Input:
        if len(reserved) > 1:
            return call.RingAll(tuple((offer.agent_id, offer.endpoint) for offer in reserved))
        offer = reserved[0]
        line = self.lines.line(offer.agent_id) if offer.persistent else None
        if line is None:
            return call.Offered(offer.agent_id, offer.endpoint)
        return call.Offered(offer.agent_id, offer.endpoint, line=line.channel, bridge=line.bridge)

    def _reserved_elsewhere(self, offer: Offer) -> list[Offer]:
        """Another process reserved this agent first: the agent is busy here (the call keeps its place)."""
        log.warning("agent.reserved_elsewhere", agent=offer.agent_id, call_id=offer.call_id)
        offers = self.board.release(offer.agent_id, "reserved_elsewhere", self._clock.now())
        # Told to the stream, not written to Redis: there the other process's reservation is the truth.
        state = self.board.state(offer.agent_id)
        self._emit("agent.state", {"agent": offer.agent_id, "state": state, "reason": "reserved_elsewhere"})
        return offers

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
            self._store.queue_add(waiting.queue, call_id, queue_score(waiting.priority, waiting.enqueued_at))
        return again

    def _changed(self, agent_id: str) -> None:
        agent = self.board.agents[agent_id]
        if agent.state == "logged_out" and self.board.specs[agent_id].persistent:
            self.lines.hang_up(agent_id)  # however they were logged out: API, feature code, supervisor
        self._store.save_agent(agent)
        state = self.board.state(agent_id)  # "on_hold" while holding a caller, where the record says "talking"
        self._emit("agent.state", {"agent": agent_id, "state": state, "reason": agent.reason})

    def _drain_audit(self) -> None:
        for audit in self.board.drain_audit():
            self._emit("acd.routed", msgspec.to_builtins(audit))


class BoardCollector(Collector):
    """Agents by state and calls waiting per queue, computed when Prometheus scrapes, not on every change."""

    def __init__(self, acd: AcdService) -> None:
        self._acd = acd  # its board and queues as they are now (the directory may change both)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        agents = GaugeMetricFamily("callcenter_agents", "Agents by state", labels=["state"])
        board = self._acd.board
        counts: dict[str, int] = {}
        for agent_id in board.agents:
            state = board.state(agent_id)
            counts[state] = counts.get(state, 0) + 1
        for state, count in sorted(counts.items()):
            agents.add_metric([state], count)
        waiting = GaugeMetricFamily("callcenter_calls_waiting", "Calls waiting in a queue", labels=["queue"])
        for queue in sorted(board.queues):
            waiting.add_metric([queue], board.queue_length(queue))
        yield agents
        yield waiting
