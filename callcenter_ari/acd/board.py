"""The ACD board: waiting calls, agents and their states, and the skills-based matching between them.

Theory of operation
-------------------
Everything here is ``(input, now) -> decisions``: no clock, no I/O, randomness from an injected ``random.Random``.

*Buckets.* A call's skill need is a bucket (``buckets.py``): its queue, the effective requirement (the queue's
skills after the relaxation steps the call has reached, AND the call's own needs), the member queues reached
(the queue plus overflow queues) and its language. A bucket is built once, on first use, by testing the members
of its queues against it; each agent keeps the list of buckets it is eligible for. A bucket holds its waiting
calls in a sorted index keyed ``(-priority, enqueued_at, seq)`` and its available eligible agents in a pool
ordered by the queue's strategy (a sorted index, or a Fenwick tree for the random strategies).

*Invariant.* After every public method returns, no bucket has both a waiting call and an available agent. So
matching only looks at what just changed: a call that joins (or relaxes into a wider bucket) takes the front of
its bucket's agent pool; an agent who becomes available takes the best front call among its buckets (higher
priority, then longer wait) and otherwise joins its buckets' pools.

*Complexity* (A agents, n waiting calls, B_a buckets an agent is eligible for, B_q buckets of a queue):
a call joining with agents free: O(log A) (pool front, then removing the winner from its B_a pools:
O(B_a log A)); a call joining with none free: O(log n); an agent becoming available: O(B_a) to compare the
fronts plus O(B_a log A) to join the pools, independent of n; a relaxation step: O(log n + log A); position:
O(B_q (log n + n / 256)); the ring-all strategy offers to every available eligible agent, O(k log A) for k offers.
Building a bucket is O(members of its queues), once. Routing-audit "full" detail adds O(logged-in agents) to a
decision that makes no offer ("summary", the default, counts them from the buckets' counters in O(1)).

*Agent states.* logged_out -> available -> reserved (ringing, or joining a persistent agent) -> talking (on hold
is a flag of talking) -> wrapup -> available; not_ready with a reason from anywhere but a call. The allowed
"from" states of each request are the table ``_ALLOWED``; anything else raises ``InvalidTransition`` (or
``UnknownAgent``/``UnknownQueue``) before changing anything. ``AgentRecord`` in ``self.agents`` is what the
runtime persists, with everything a restart or another process needs (deadlines, hold, a pending order); the
board's own indexes per agent are ``_Agent``. Redis is the authority: when it refuses a write because another
process changed the agent first, the runtime hands the board what Redis holds (``adopt``), and the board
re-indexes the agent and, if they are now available, offers them a waiting call.

*Other processes' callers* (``global_order.py``). With more than one process running, the runtime hands the board
the callers waiting in other processes (``set_foreign``); an agent who becomes available while one of those is
ahead of this board's best call, and could take that agent, is *held back*: available, but out of the pools (the
one exception to the invariant), until the other process takes them, the callers ahead are gone, or ``DEFER``
runs out (a ``hold`` deadline; the callers waited for are then passed over for good).

*Time.* Relaxation steps, announcements, queue max wait, the end of wrap-up, break overruns and leave-when-empty
sweeps are deadlines; ``next_deadline()`` says when to call ``advance(now)``, which returns the decisions due.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from collections.abc import Iterable
from typing import Literal

import msgspec

from callcenter_ari.acd.buckets import Bucket, BucketKey, Call, WeightedPool
from callcenter_ari.acd.decisions import (
    AgentChanged,
    Announce,
    BreakDecision,
    Candidate,
    Decision,
    EndCall,
    EndReason,
    Forced,
    ForcedState,
    Ineligible,
    Joined,
    JoinRefused,
    Offer,
    OfferCallback,
    RoutingAudit,
    SupervisorAlert,
    Trigger,
)
from callcenter_ari.acd.errors import InUse, InvalidTransition, UnknownAgent, UnknownQueue, WrapupLimitExceeded
from callcenter_ari.acd.estimate import HandleTimes, estimate_wait
from callcenter_ari.acd.global_order import DEFER, Waiter, ahead
from callcenter_ari.acd.indexes import Deadlines, Key
from callcenter_ari.acd.records import AgentRecord, AgentState
from callcenter_ari.acd.skills import Requirement, both, lower, widen
from callcenter_ari.acd.specs import AgentSpec, QueueSpec, TeamSpec

__all__ = ["AgentSpec", "Board", "InvalidTransition", "Offer", "QueueSpec", "TeamSpec"]

# A reservation that ends with one of these reasons makes the agent not ready, so the next call does not ring the
# same empty desk; any other reason (the caller hung up, another agent answered a ring-all) makes them available.
NOT_READY_ON_RELEASE = frozenset({"ring_no_answer", "busy", "unavailable", "failed", "reserved_elsewhere"})

_ON_CALL: frozenset[str] = frozenset({"reserved", "talking"})
_ALLOWED: dict[str, frozenset[str]] = {
    "log_in": frozenset({"logged_out"}),
    "log_out": frozenset({"available", "not_ready", "wrapup"}),
    "ready": frozenset({"not_ready", "wrapup"}),
    "not_ready": frozenset({"available", "wrapup", "not_ready"}),
    "release": frozenset({"reserved"}),
    "reserve": frozenset({"available"}),
    "connected": frozenset({"reserved"}),
    "finished": frozenset({"talking"}),
    "hold": frozenset({"talking"}),
    "transfer": frozenset({"talking"}),
    "wrapup": frozenset({"wrapup"}),
}

AuditMode = Literal["off", "summary", "full"]


class _Agent:
    __slots__ = ("buckets", "order", "ring_call", "shadow", "spec")

    def __init__(self, spec: AgentSpec, order: int) -> None:
        self.spec = spec
        self.order = order
        self.buckets: list[Bucket] = []
        self.shadow: AgentState = "logged_out"  # the state the indexes hold the agent in
        self.ring_call = ""  # the call whose ``_ringing`` set holds the agent


class ChangeSet(set[str]):
    """The agents whose records changed since the runtime last wrote them, and the order of the changes: ``log``
    lets the runtime tell which agents one message changed (``since(mark)``), even one changed twice."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    def add(self, agent_id: str) -> None:
        super().add(agent_id)
        self.log.append(agent_id)

    def since(self, mark: int) -> set[str]:
        return set(self.log[mark:])


def _category(state: str) -> int:
    """0: logged out; 1: logged in but not ready; 2: present (available, on a call or in wrap-up)."""
    return 0 if state == "logged_out" else 1 if state == "not_ready" else 2


class Board:
    def __init__(
        self,
        agents: Iterable[AgentSpec],
        *,
        now: float = 0.0,
        queues: Iterable[QueueSpec] | None = None,
        teams: Iterable[TeamSpec] = (),
        rng: random.Random | None = None,
        audit: AuditMode = "summary",
        audit_top: int = 5,
        audit_log_size: int = 10_000,
        node: str = "",
    ) -> None:
        """``queues`` None: any queue name is accepted with default settings (the board before skills);
        given: an unknown queue raises ``UnknownQueue``. ``node``: written into the record of an agent reserved
        here, so that whoever reads it knows which node's call holds them."""
        self.specs: dict[str, AgentSpec] = {}
        self.agents: dict[str, AgentRecord] = {}
        self._a: dict[str, _Agent] = {}
        for order, spec in enumerate(agents):
            self.specs[spec.agent_id] = spec
            self.agents[spec.agent_id] = AgentRecord(agent_id=spec.agent_id, since=now)
            self._a[spec.agent_id] = _Agent(spec, order)
        self._strict = queues is not None
        self.queues: dict[str, QueueSpec] = {}
        for queue in queues or ():
            self.queues[queue.name] = _sorted_steps(queue)
        self.teams: dict[str, TeamSpec] = {team.name: team for team in teams}
        self._members: dict[str, list[str]] = {}
        self._team_members: dict[str, list[str]] = {}
        for spec in self.specs.values():
            for queue_name in spec.queues:
                self._queue(queue_name, create=True)
                self._members.setdefault(queue_name, []).append(spec.agent_id)
            for team in spec.teams:
                self.teams.setdefault(team, TeamSpec(name=team))
                self._team_members.setdefault(team, []).append(spec.agent_id)
        for queue in list(self.queues.values()):
            for step in queue.steps:
                if step.action == "overflow":
                    self._queue(step.queue)
        self._rng = rng or random.Random(0)
        self._audit_mode: AuditMode = audit
        self._audit_top = audit_top
        self.audit_log: deque[RoutingAudit] = deque(maxlen=audit_log_size)
        self._seq = itertools.count()
        self._buckets: dict[BucketKey, Bucket] = {}
        self._queue_buckets: dict[str, list[Bucket]] = {}
        self._stages: dict[str, list[tuple[Requirement | None, frozenset[str]]]] = {}
        self._calls: dict[str, Call] = {}
        self._by_seq: dict[int, str] = {}
        self._queue_len: dict[str, int] = {}
        self._ringing: dict[str, set[str]] = {}
        self._actions_done: dict[str, int] = {}
        self.round_robin: dict[str, int] = {}  # queue -> member order of the agent offered last (round_robin)
        self._handle: dict[str, HandleTimes] = {}
        self.handle_log: list[tuple[str, float]] = []  # (queue, seconds) measured since the last drain
        self.dirty = ChangeSet()  # agents whose records changed since the runtime last wrote them
        self.node = node
        self._deadlines = Deadlines()
        self._logged_in = 0
        self._orders = itertools.count(len(self._a))
        self._foreign: list[tuple[tuple[int, float], Waiter, Bucket]] = []  # other processes' callers, in order
        self._held: dict[str, tuple[float, frozenset[str]]] = {}  # agent -> (hold ends, the callers it waits for)
        self._passed: set[str] = set()  # other processes' callers a hold waited for in vain: not waited for again
        # The buckets of every queue's own stages are built now rather than on a first call: a call's language
        # or own needs may still add buckets later.
        for queue_spec in self.queues.values():
            for stage in range(len(queue_spec.steps) + 1):
                self._bucket(queue_spec, stage, "", None)

    # ---- calls -------------------------------------------------------------------------------------------

    def enqueue(
        self,
        call_id: str,
        queue: str,
        priority: int,
        enqueued_at: float,
        now: float,
        *,
        language: str = "",
        needs: Requirement | None = None,
    ) -> list[Offer]:
        """Put a call in line; ``enqueued_at`` is its place (kept when it comes back after a failed offer).
        Never refused: a first arrival that should obey ``max_length``/``join_empty`` goes through ``join``."""
        spec = self._queue(queue)
        self._unlink(call_id, keep_actions=True)
        call = Call(call_id, queue, priority, enqueued_at, next(self._seq), language, needs)
        waited = now - enqueued_at
        while call.stage < len(spec.steps) and spec.steps[call.stage].after <= waited:
            call.stage += 1
        # Steps that ask something of the caller (callback, end) and were passed while the call was away are
        # done once, at the next advance, unless they were already done.
        done = self._actions_done.get(call_id, 0)
        pending_action = next((i for i in range(done, call.stage) if spec.steps[i].action in ("callback", "end")), None)
        call.bucket = self._bucket(spec, call.stage, language, needs)
        offers = self._route_call(call, now, "call_joined")
        if offers:
            return offers
        self._link(call)
        if pending_action is not None:
            self._deadlines.set("action", call_id, now)
            self._actions_done[call_id] = pending_action
        self._schedule_call(call, spec, now)
        return offers

    def join(
        self,
        call_id: str,
        queue: str,
        priority: int,
        now: float,
        *,
        enqueued_at: float | None = None,
        language: str = "",
        needs: Requirement | None = None,
    ) -> Joined | JoinRefused:
        """A call's first arrival: refused when the queue is full or (with ``join_empty`` false) when no agent who
        could serve it is there; otherwise enqueued, with any offer, its position and estimated wait."""
        spec = self._queue(queue)
        if spec.max_length is not None and self._queue_len.get(queue, 0) >= spec.max_length:
            return JoinRefused(call_id, queue, "full")
        if not spec.join_empty and self._nobody_could_serve(spec, language, needs):
            return JoinRefused(call_id, queue, "empty")
        offers = self.enqueue(
            call_id, queue, priority, now if enqueued_at is None else enqueued_at, now, language=language, needs=needs
        )
        position = self.position(call_id)
        ewt = None if position is None else self._ewt(call_id, position)
        return Joined(call_id, queue, tuple(offers), position, ewt, spec.moh_class)

    def remove(self, call_id: str) -> None:
        """The call left for good (answered elsewhere, abandoned, timed out): forget it."""
        self._unlink(call_id)
        self._actions_done.pop(call_id, None)

    def waiting(self, queue: str) -> list[str]:
        """The queue's waiting calls in the order they will be served (across its buckets)."""
        if queue not in self.queues:
            if self._strict:
                raise UnknownQueue(f"unknown queue {queue!r}")
            return []
        merged = heapq.merge(*(b.calls for b in self._queue_buckets.get(queue, ())))
        return [self._by_seq[key[2]] for key in merged]

    def position(self, call_id: str) -> int | None:
        """1 for the next call to be served in its queue; None if the call is not waiting."""
        call = self._calls.get(call_id)
        if call is None:
            return None
        return 1 + sum(b.calls.rank(call.key) for b in self._queue_buckets.get(call.queue, ()))

    def queue_length(self, queue: str) -> int:
        return self._queue_len.get(queue, 0)

    def estimated_wait(self, call_id: str) -> float | None:
        position = self.position(call_id)
        return None if position is None else self._ewt(call_id, position)

    def record_handle_time(self, queue: str, seconds: float) -> None:
        """Feed the EWT estimator from outside (for example from history on start); the board also feeds it
        itself when an agent's wrap-up ends."""
        self._handle_times(queue).add(seconds)

    # ---- time --------------------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When ``advance`` has something to do next."""
        return self._deadlines.next()

    def advance(self, now: float) -> list[Decision]:
        """Take every step that is due by ``now``, in time order, and return what the runtime must do."""
        out: list[Decision] = []
        while (due := self._deadlines.pop_due(now)) is not None:
            at, kind, ident = due
            if kind == "relax":
                out += self._relax(ident, at)
            elif kind == "action":
                out += self._late_action(ident, at)
            elif kind == "announce":
                out += self._announce(ident, at)
            elif kind == "max_wait":
                out += self._end_call(ident, "max_wait", at)
            elif kind == "wrapup":
                out += self._wrapup_due(ident, at)
            elif kind == "break":
                out += self._break_due(ident, at)
            elif kind == "empty":
                out += self._leave_empty(ident, at)
            elif kind == "hold":
                out += self._hold_due(ident, at)
        return out

    # ---- other processes' callers ---------------------------------------------------------------------------

    def set_foreign(self, waiters: Iterable[Waiter], now: float) -> list[Offer]:
        """The callers waiting in other processes now (replacing the last view). Every held agent is looked at
        again: one whose callers ahead are gone takes this board's best call (the offers are returned)."""
        foreign: list[tuple[tuple[int, float], Waiter, Bucket]] = []
        for waiter in waiters:
            spec = self.queues.get(waiter.queue)
            if spec is None or waiter.call_id in self._calls:
                continue
            stage = 0
            while stage < len(spec.steps) and spec.steps[stage].after <= now - waiter.enqueued_at:
                stage += 1
            foreign.append((waiter.place, waiter, self._bucket(spec, stage, waiter.language, waiter.needs)))
        foreign.sort(key=lambda entry: (entry[0], entry[1].call_id))
        self._foreign = foreign
        self._passed &= {waiter.call_id for _, waiter, _ in foreign}
        offers: list[Offer] = []
        for agent_id in sorted(self._held):
            until, _ = self._held.pop(agent_id)
            self._deadlines.cancel("hold", agent_id)
            offers += self._take_front_or_wait(agent_id, now, hold_until=until)
        return offers

    @property
    def held(self) -> dict[str, frozenset[str]]:
        """Agents held back for other processes' callers, and the callers each waits for."""
        return {agent_id: callers for agent_id, (_, callers) in self._held.items()}

    def _ahead_for(self, agent_id: str, place: tuple[int, float]) -> frozenset[str]:
        """Other processes' callers ahead of ``place`` that this agent could take (not passed over)."""
        found = []
        for other, waiter, bucket in self._foreign:
            if not ahead(place, other):
                break
            if agent_id in bucket.eligible and waiter.call_id not in self._passed:
                found.append(waiter.call_id)
        return frozenset(found)

    def _hold_due(self, agent_id: str, at: float) -> list[Decision]:
        """A hold ran out: the callers it waited for are passed over, and the agent serves this board."""
        held = self._held.pop(agent_id, None)
        if held is None or self._a[agent_id].shadow != "available":
            return []
        self._passed |= held[1]
        return [*self._take_front_or_wait(agent_id, at, hold_until=at)]

    # ---- agents ------------------------------------------------------------------------------------------

    def log_in(self, agent_id: str, now: float) -> list[Offer]:
        self._require(agent_id, "log_in")
        return self._make_available(agent_id, now)

    def log_out(self, agent_id: str, now: float) -> None:
        self._require(agent_id, "log_out")
        self._set(agent_id, "logged_out", now)

    def ready(self, agent_id: str, now: float) -> list[Offer]:
        self._require(agent_id, "ready")
        return self._make_available(agent_id, now)

    def not_ready(self, agent_id: str, reason: str, now: float) -> None:
        """Not ready with a reason code, unpoliced (system and supervisor use); agents ask through
        ``request_break`` so that their team's break policy applies."""
        self._require(agent_id, "not_ready")
        self._set(agent_id, "not_ready", now, reason=reason)

    def request_break(self, agent_id: str, reason: str, now: float) -> BreakDecision:
        """An agent asks to go not ready with ``reason``. For a reason that a team of theirs polices, at most
        ``max_on_break`` members may be on such a break at once: beyond it the request is refused (nothing
        changes) or, in alert mode, granted with a supervisor alert. A granted policed break has a deadline, after
        which ``advance`` raises a ``break_overrun`` alert."""
        self._require(agent_id, "not_ready")
        policing = [self.teams[t] for t in self.specs[agent_id].teams if reason in self.teams[t].break_reasons]
        alert: SupervisorAlert | None = None
        for team in policing:
            on_break = sum(
                1
                for member in self._team_members[team.name]
                if member != agent_id
                and self.agents[member].state == "not_ready"
                and self.agents[member].reason in team.break_reasons
            )
            if on_break >= team.max_on_break:
                detail = f"{on_break} of {team.max_on_break} allowed already on a break"
                if team.over_limit == "refuse":
                    return BreakDecision(agent_id, reason, granted=False, team=team.name)
                alert = SupervisorAlert("break_limit", agent_id, team.name, now, detail)
        self._set(agent_id, "not_ready", now, reason=reason)
        if not policing:
            return BreakDecision(agent_id, reason, granted=True)
        strictest = min(policing, key=lambda t: t.break_minutes)
        deadline = now + strictest.break_minutes * 60.0
        self.agents[agent_id].until = deadline
        self._deadlines.set("break", agent_id, deadline)
        return BreakDecision(agent_id, reason, granted=True, deadline=deadline, team=strictest.name, alert=alert)

    def release(self, agent_id: str, reason: str, now: float) -> list[Offer]:
        """A reservation ended without a conversation. Ring-no-answer and other failures of the agent's side make
        them not ready; any other reason (caller gone, answered elsewhere) makes them available again."""
        self._require(agent_id, "release")
        if self._a[agent_id].spec.persistent and reason == "ring_no_answer":
            raise InvalidTransition(f"agent {agent_id} is persistent: calls are joined, never rung")
        if self.agents[agent_id].pending:
            return self._apply_pending(agent_id, now)
        if reason in NOT_READY_ON_RELEASE:
            self._set(agent_id, "not_ready", now, reason=reason)
            return []
        return self._make_available(agent_id, now)

    def reserve(self, agent_id: str, call_id: str, queue: str, now: float, *, joined: bool = False) -> Offer:
        """Reserve a named agent for a call that asks for them (a transfer or a consultation), outside routing:
        only an available agent, and one who can be rung (a persistent agent sits in a bridge of their own).
        ``joined``: the call will be joined into a persistent agent's bridge (the dialer's), so only those."""
        self._require(agent_id, "reserve")
        if joined and not self._a[agent_id].spec.persistent:
            raise InvalidTransition(f"agent {agent_id} is not persistent: a campaign call cannot be joined to them")
        if not joined and self._a[agent_id].spec.persistent:
            raise InvalidTransition(f"agent {agent_id} is persistent: calls are joined, never rung")
        return self._reserve(agent_id, call_id, queue, now)

    def connected(self, agent_id: str, now: float) -> list[Offer]:
        """The agent answered (or was joined). Other agents rung for the same call (ring-all) are released and
        may take other calls: the offers they get are returned."""
        self._require(agent_id, "connected")
        record = self.agents[agent_id]
        call_id = record.call_id
        others = sorted(self._ringing.pop(call_id, set()) - {agent_id})
        self._set(agent_id, "talking", now, call_id=call_id)
        record.handle_started = now
        self._actions_done.pop(call_id, None)
        offers: list[Offer] = []
        for other in others:
            if self.agents[other].state == "reserved" and self.agents[other].call_id == call_id:
                offers += self._make_available(other, now)
        return offers

    def hold(self, agent_id: str, now: float) -> None:
        self._require(agent_id, "hold")
        if self.agents[agent_id].held:
            raise InvalidTransition(f"agent {agent_id} is already on hold")
        self.agents[agent_id].held = True
        self.dirty.add(agent_id)

    def unhold(self, agent_id: str, now: float) -> None:
        self._require(agent_id, "hold")
        if not self.agents[agent_id].held:
            raise InvalidTransition(f"agent {agent_id} is not on hold")
        self.agents[agent_id].held = False
        self.dirty.add(agent_id)

    def transfer(self, agent_id: str, call_id: str, now: float) -> None:
        """The agent moved to another call (a transfer): still talking, with the new call id."""
        self._require(agent_id, "transfer")
        self.agents[agent_id].call_id = call_id
        self.agents[agent_id].held = False
        self.dirty.add(agent_id)

    def finished(self, agent_id: str, now: float) -> None:
        """The conversation ended; the agent is in wrap-up until ``ready``/``end_wrapup`` or the queue's wrap-up
        time runs out (a deadline that ``advance`` acts on)."""
        self._require(agent_id, "finished")
        record = self.agents[agent_id]
        record.calls += 1
        record.talk_seconds += now - record.since
        record.held = False
        self._set(agent_id, "wrapup", now, call_id=record.call_id)
        record.until = now + self._queue_spec(record.queue).wrapup_seconds
        self._deadlines.set("wrapup", agent_id, record.until)

    def end_wrapup(self, agent_id: str, now: float) -> list[Offer]:
        self._require(agent_id, "wrapup")
        return self._make_available(agent_id, now)

    def extend_wrapup(self, agent_id: str, seconds: float, now: float) -> float:
        """Add ``seconds`` of wrap-up; refused (``WrapupLimitExceeded``) past the queue's limit. Returns the new
        end of wrap-up."""
        self._require(agent_id, "wrapup")
        record = self.agents[agent_id]
        if seconds <= 0:
            raise InvalidTransition("a wrap-up extension must be positive")
        until = (now if record.until is None else record.until) + seconds
        limit = self._queue_spec(record.queue).wrapup_max_seconds
        if until - record.since > limit:
            raise WrapupLimitExceeded(
                f"agent {agent_id}: wrap-up would last {until - record.since:g} s, more than the {limit:g} s allowed"
            )
        record.until = until
        self.dirty.add(agent_id)
        self._deadlines.set("wrapup", agent_id, until)
        return until

    def force(self, agent_id: str, state: ForcedState, now: float, *, reason: str = "supervisor") -> Forced:
        """A supervisor sets an agent's state. On a call (reserved, talking), logged_out/not_ready wait until the
        call's wrap-up ends (``pending``); available cancels such a pending order."""
        self._require(agent_id, None)
        record = self.agents[agent_id]
        current = record.state
        if current in _ON_CALL:
            record.pending, record.pending_reason = ("", "") if state == "available" else (state, reason)
            self.dirty.add(agent_id)
            return Forced(agent_id, state, pending=bool(record.pending))
        if state == "logged_out":
            if current != "logged_out":
                self._set(agent_id, "logged_out", now)
            return Forced(agent_id, state, pending=False)
        if state == "not_ready":
            self._set(agent_id, "not_ready", now, reason=reason)
            return Forced(agent_id, state, pending=False)
        if current == "available":
            return Forced(agent_id, state, pending=False)
        return Forced(agent_id, state, pending=False, offers=tuple(self._make_available(agent_id, now)))

    def ringing(self, call_id: str) -> set[str]:
        """The agents reserved for this call (several with ring_all)."""
        return set(self._ringing.get(call_id, ()))

    def state(self, agent_id: str) -> str:
        """The agent's state as a supervisor sees it: the record's, with ``on_hold`` for a held call."""
        self._require(agent_id, None)
        record = self.agents[agent_id]
        return "on_hold" if record.state == "talking" and record.held else record.state

    def restore(self, record: AgentRecord) -> None:
        """Take an agent's state from Redis after a restart (only agents still in the configuration), with its
        deadlines: the end of wrap-up (extensions included) and a break's overrun."""
        self.adopt(record, record.since)

    def adopt(self, record: AgentRecord, now: float) -> list[Offer]:
        """Take what Redis holds for an agent (another process changed them, or a write of ours was refused):
        the record replaces ours, the indexes and deadlines follow, and an agent now available is offered the best
        waiting call, as after any change. An agent unknown here (not in the configuration) is ignored."""
        agent_id = record.agent_id
        if agent_id not in self.specs:
            return []
        self.agents[agent_id] = record
        self.dirty.discard(agent_id)
        agent = self._a[agent_id]
        if agent.ring_call and (record.state != "reserved" or record.call_id != agent.ring_call):
            ringing = self._ringing.get(agent.ring_call)
            if ringing is not None:
                ringing.discard(agent_id)
                if not ringing:
                    del self._ringing[agent.ring_call]
            agent.ring_call = ""
        self._deadlines.cancel("wrapup", agent_id)
        self._deadlines.cancel("break", agent_id)
        old = agent.shadow
        self._reindex(agent_id, old, record.state, now)
        if record.state == "reserved" and record.call_id:
            agent.ring_call = record.call_id
            self._ringing.setdefault(record.call_id, set()).add(agent_id)
        if record.state == "wrapup":
            until = record.until
            if until is None:  # written by a version that did not keep it
                until = record.since + self._queue_spec(record.queue).wrapup_seconds
            self._deadlines.set("wrapup", agent_id, until)
        elif record.state == "not_ready" and record.until is not None:
            self._deadlines.set("break", agent_id, record.until)
        if record.state == "available" and old != "available":
            return self._take_front_or_wait(agent_id, now)
        return []

    # ---- the directory: agents and queues changed at run time ---------------------------------------------

    def upsert_agent(self, spec: AgentSpec, now: float) -> list[Offer]:
        """Add an agent (logged out) or replace an agent's spec. State, call, wrap-up and place among the
        available (their ``since``) are kept; the buckets they are eligible for are worked out again. An available
        agent who now qualifies for a waiting call is offered it (the offer is returned)."""
        if self._strict:
            for queue in spec.queues:
                if queue not in self.queues:
                    raise UnknownQueue(f"unknown queue {queue!r}")
        agent_id = spec.agent_id
        agent = self._a.get(agent_id)
        if agent is None:
            agent = self._a[agent_id] = _Agent(spec, next(self._orders))
            self.agents[agent_id] = AgentRecord(agent_id=agent_id, since=now)
            self.dirty.add(agent_id)
        else:
            self._sync(agent_id)
            self._detach(agent_id, now)
            agent.spec = spec
        self.specs[agent_id] = spec
        self._attach(agent_id)
        return self._take_front_or_wait(agent_id, now) if agent.shadow == "available" else []

    def remove_agent(self, agent_id: str, now: float) -> None:
        """Forget an agent; only a logged-out one (``InvalidTransition`` otherwise)."""
        self._require(agent_id, None)
        state = self.agents[agent_id].state
        if state != "logged_out":
            raise InvalidTransition(f"agent {agent_id} is {state}: log them out first")
        self._detach(agent_id, now)
        for kind in ("wrapup", "break"):
            self._deadlines.cancel(kind, agent_id)
        del self._a[agent_id], self.specs[agent_id], self.agents[agent_id]

    def upsert_queue(self, spec: QueueSpec, now: float) -> list[Offer]:
        """Add a queue or replace a queue's rules. Its waiting calls keep their place (key) and are routed again
        under the new rules: relaxation steps already passed by their waiting time apply at once (their callback
        and end actions are not taken after the fact), deadlines follow the new times, and a call that an
        available agent now qualifies for is offered (the offers are returned)."""
        spec = _sorted_steps(spec)
        name = spec.name
        for step in spec.steps:
            if step.action == "overflow" and self._strict and step.queue not in self.queues and step.queue != name:
                raise UnknownQueue(f"unknown queue {step.queue!r}")
        calls = [self._calls[call_id] for call_id in self.waiting(name)] if name in self.queues else []
        for call in calls:
            self._unlink(call.call_id, keep_actions=True, keep_deadlines=True)
        self._drop_buckets(name)
        old = self.queues.get(name)
        self.queues[name] = spec
        if old is not None and old.handle_window != spec.handle_window and name in self._handle:
            self._handle[name] = self._handle[name].resized(spec.handle_window)
        for stage in range(len(spec.steps) + 1):
            self._bucket(spec, stage, "", None)
        offers: list[Offer] = []
        for call in calls:
            offers += self._requeue(call, spec, now)
        if spec.leave_empty and self._queue_len.get(name):
            self._deadlines.set("empty", name, now)
        return offers

    def remove_queue(self, name: str, now: float) -> None:
        """Forget a queue nobody waits in, no agent is a member of and no other queue overflows to (``InUse``
        names them otherwise)."""
        if name not in self.queues:
            raise UnknownQueue(f"unknown queue {name!r}")
        users = [f"agents.{agent_id}" for agent_id in self._members.get(name, ())]
        users += [
            f"queues.{other.name}.steps[{n}]"
            for other in self.queues.values()
            for n, step in enumerate(other.steps)
            if step.action == "overflow" and step.queue == name and other.name != name
        ]
        if self._queue_len.get(name):
            users.append(f"{self._queue_len[name]} calls waiting")
        if users:
            raise InUse(f"queue {name} is in use", tuple(users))
        self._drop_buckets(name)
        del self.queues[name]
        for table in (self._handle, self.round_robin, self._members, self._queue_len):
            table.pop(name, None)
        self._deadlines.cancel("empty", name)

    def _detach(self, agent_id: str, now: float) -> None:
        """Take the agent out of every index their spec put them in (buckets, pools, members, teams)."""
        agent = self._a[agent_id]
        category = _category(agent.shadow)
        emptied: set[str] = set()
        for bucket in agent.buckets:
            bucket.pool.discard(agent_id)
            del bucket.eligible[agent_id]
            bucket.logged_in -= category >= 1
            bucket.present -= category == 2
            if category and (bucket.logged_in == 0 or bucket.present == 0):
                emptied.add(bucket.queue)
        agent.buckets = []
        for queue in agent.spec.queues:
            self._members[queue].remove(agent_id)
        for team in agent.spec.teams:
            self._team_members[team].remove(agent_id)
        for queue in emptied:
            if self.queues[queue].leave_empty and self._queue_len.get(queue):
                self._deadlines.set("empty", queue, now)

    def _attach(self, agent_id: str) -> None:
        """Put the agent in the indexes their spec calls for; pools are the caller's business (an available agent
        first looks for a waiting call)."""
        agent = self._a[agent_id]
        spec = agent.spec
        for queue in spec.queues:
            self._queue(queue, create=True)
            self._members.setdefault(queue, []).append(agent_id)
        for team in spec.teams:
            self.teams.setdefault(team, TeamSpec(name=team))
            self._team_members.setdefault(team, []).append(agent_id)
        category = _category(agent.shadow)
        for bucket in self._buckets.values():
            if bucket.key.members.intersection(spec.queues) and bucket.admit(spec):
                agent.buckets.append(bucket)
                bucket.logged_in += category >= 1
                bucket.present += category == 2

    def _drop_buckets(self, queue: str) -> None:
        """Forget a queue's buckets (its calls are out of them); they are built again from its rules."""
        for bucket in self._queue_buckets.pop(queue, ()):
            del self._buckets[bucket.key]
            for agent_id in bucket.eligible:
                self._a[agent_id].buckets.remove(bucket)
        self._stages.pop(queue, None)

    def _requeue(self, call: Call, spec: QueueSpec, now: float) -> list[Offer]:
        """A waiting call, out of the indexes, back in line under its queue's new rules, keeping its key."""
        call_id = call.call_id
        call.stage = 0
        while call.stage < len(spec.steps) and spec.steps[call.stage].after <= now - call.enqueued_at:
            call.stage += 1
        self._actions_done[call_id] = call.stage
        for kind in ("relax", "max_wait", "action"):
            self._deadlines.cancel(kind, call_id)
        if spec.announce_every is None:
            self._deadlines.cancel("announce", call_id)
        call.bucket = self._bucket(spec, call.stage, call.language, call.needs)
        offers = self._route_call(call, now, "reconfigured")
        if offers:
            self._cancel_call_deadlines(call_id)
            return offers
        self._link(call)
        self._schedule_call(call, spec, now)
        return offers

    # ---- audit -------------------------------------------------------------------------------------------

    def drain_dirty(self) -> set[str]:
        """The agents whose records changed since the last drain: what the runtime must write."""
        dirty, self.dirty = self.dirty, ChangeSet()
        return set(dirty)

    def drain_handle_times(self) -> list[tuple[str, float]]:
        """Handle times measured since the last drain, as (queue, seconds)."""
        log, self.handle_log = self.handle_log, []
        return log

    def drain_audit(self) -> list[RoutingAudit]:
        """The routing audit records since the last drain, oldest first (the log keeps the newest
        ``audit_log_size`` if nobody drains it)."""
        records = list(self.audit_log)
        self.audit_log.clear()
        return records

    def explain(self, call_id: str, now: float) -> RoutingAudit:
        """Why the waiting call has not been offered: every logged-in agent and the reason."""
        call = self._calls.get(call_id)
        if call is None or call.bucket is None:
            raise InvalidTransition(f"call {call_id!r} is not waiting")
        return self._no_offer_audit(call, now, "explain", full=True)

    # ---- routing -----------------------------------------------------------------------------------------

    def _route_call(self, call: Call, now: float, trigger: Trigger) -> list[Offer]:
        """Offer the call to the best available agent(s) of its bucket, if any."""
        bucket = call.bucket
        assert bucket is not None
        pool = bucket.pool
        if not len(pool):
            if self._audit_mode != "off":
                self.audit_log.append(self._no_offer_audit(call, now, trigger, full=self._audit_mode == "full"))
            return []
        strategy = bucket.strategy
        candidates = pool.head(self._audit_top)
        winners: list[str]
        if isinstance(pool, WeightedPool):
            winner, point, total = pool.draw(self._rng)
            winners = [winner]
            rule = f"{strategy}: drew {point} of total weight {total}"
        elif strategy == "ring_all":
            winners = pool.all()
            rule = "ring_all: every available eligible agent"
        elif strategy == "round_robin":
            last = self.round_robin.get(bucket.queue, -1)
            winners = [pool.first_after((last + 1,)) or pool.first() or ""]
            self.round_robin[bucket.queue] = self._a[winners[0]].order
            rule = f"round_robin: first in member order after position {last}, wrapping"
        else:
            winners = [pool.first() or ""]
            rule = _RULES[strategy]
        if self._audit_mode != "off":
            self.audit_log.append(
                RoutingAudit(
                    at=now,
                    call_id=call.call_id,
                    queue=call.queue,
                    trigger=trigger,
                    strategy=strategy,
                    rule=rule,
                    requirement=bucket.describe(),
                    step=call.stage,
                    considered=len(pool),
                    candidates=tuple(Candidate(a, s) for a, s in candidates),
                    winners=tuple(winners),
                )
            )
        return [self._reserve(agent_id, call.call_id, call.queue, now) for agent_id in winners]

    def _make_available(self, agent_id: str, now: float) -> list[Offer]:
        if self.agents[agent_id].pending:
            return self._apply_pending(agent_id, now)
        self._set(agent_id, "available", now)
        return self._take_front_or_wait(agent_id, now)

    def _take_front_or_wait(self, agent_id: str, now: float, *, hold_until: float | None = None) -> list[Offer]:
        """An available agent takes the best front call of their buckets, or waits in their buckets' pools; or
        is held back (until ``hold_until``, else ``DEFER`` from now) for another process's caller ahead."""
        agent = self._a[agent_id]
        best: Call | None = None
        fronts: list[tuple[str, Key]] = []
        for bucket in agent.buckets:
            key = bucket.calls.first()
            if key is None:
                continue
            fronts.append((self._by_seq[key[2]], key))
            if best is None or key < best.key:
                best = self._calls[self._by_seq[key[2]]]
        if best is None:
            self._pool_add(agent_id)
            return []
        if self._foreign:
            callers = self._ahead_for(agent_id, (best.key[0], best.key[1]))
            until = now + DEFER if hold_until is None else hold_until
            if callers and now < until:
                self._held[agent_id] = (until, callers)
                self._deadlines.set("hold", agent_id, until)
                return []
            self._passed |= callers
        self._unlink(best.call_id, keep_actions=True)
        if self._audit_mode != "off":
            assert best.bucket is not None
            fronts.sort(key=lambda f: f[1])
            self.audit_log.append(
                RoutingAudit(
                    at=now,
                    call_id=best.call_id,
                    queue=best.queue,
                    trigger="agent_available",
                    strategy=best.bucket.strategy,
                    rule="best front call of the agent's buckets: priority, then wait",
                    requirement=best.bucket.describe(),
                    step=best.stage,
                    considered=len(fronts),
                    candidates=tuple(Candidate(c, k[:2]) for c, k in fronts[: self._audit_top]),
                    winners=(agent_id,),
                )
            )
        return [self._reserve(agent_id, best.call_id, best.queue, now)]

    def _reserve(self, agent_id: str, call_id: str, queue: str, now: float) -> Offer:
        agent = self._a[agent_id]
        self._set(agent_id, "reserved", now, call_id=call_id)
        record = self.agents[agent_id]
        record.queue, record.node = queue, self.node
        agent.ring_call = call_id
        self._ringing.setdefault(call_id, set()).add(agent_id)
        spec = agent.spec
        return Offer(call_id, agent_id, spec.endpoint, queue, spec.persistent)

    def _apply_pending(self, agent_id: str, now: float) -> list[Offer]:
        record = self.agents[agent_id]
        state, reason = record.pending, record.pending_reason
        record.pending, record.pending_reason = "", ""
        if state == "logged_out":
            self._set(agent_id, "logged_out", now)
        else:
            self._set(agent_id, "not_ready", now, reason=reason)
        return []

    def _no_offer_audit(self, call: Call, now: float, trigger: Trigger, *, full: bool) -> RoutingAudit:
        bucket = call.bucket
        assert bucket is not None
        ineligible: list[Ineligible] = []
        if full:
            for agent_id, record in self.agents.items():
                if record.state == "logged_out":
                    continue
                why = bucket.why_not(self.specs[agent_id])
                if not why:
                    why = self.state(agent_id)
                    if record.state == "not_ready":
                        why = f"not_ready ({record.reason})"
                    elif record.state == "reserved":
                        why = f"reserved for {record.call_id}"
                ineligible.append(Ineligible(agent_id, why))
        return RoutingAudit(
            at=now,
            call_id=call.call_id,
            queue=call.queue,
            trigger=trigger,
            strategy=bucket.strategy,
            rule="no available eligible agent",
            requirement=bucket.describe(),
            step=call.stage,
            considered=0,
            candidates=(),
            winners=(),
            not_offered={
                "eligible_busy": bucket.present - len(bucket.pool),
                "eligible_not_ready": bucket.logged_in - bucket.present,
                "not_eligible": self._logged_in - bucket.logged_in,
            },
            ineligible=tuple(ineligible),
        )

    # ---- deadlines ---------------------------------------------------------------------------------------

    def _schedule_call(self, call: Call, spec: QueueSpec, now: float) -> None:
        if call.stage < len(spec.steps):
            self._deadlines.set("relax", call.call_id, call.enqueued_at + spec.steps[call.stage].after)
        if spec.max_wait_seconds is not None:
            self._deadlines.set("max_wait", call.call_id, call.enqueued_at + spec.max_wait_seconds)
        if spec.announce_every is not None and self._deadlines.get("announce", call.call_id) is None:
            self._deadlines.set("announce", call.call_id, now + spec.announce_every)

    def _relax(self, call_id: str, at: float) -> list[Decision]:
        call = self._calls.get(call_id)
        if call is None:
            return []
        spec = self.queues[call.queue]
        step = spec.steps[call.stage]
        call.stage += 1
        out: list[Decision] = []
        if step.action in ("callback", "end"):
            self._actions_done[call_id] = call.stage
            if step.action == "end":
                return self._end_call(call_id, "relaxation", at, message=step.message)
            out.append(OfferCallback(call_id, call.queue, at - call.enqueued_at))
        else:
            bucket = self._bucket(spec, call.stage, call.language, call.needs)
            if bucket is not call.bucket:
                self._unlink(call_id, keep_actions=True, keep_deadlines=True)
                call.bucket = bucket
                offers = self._route_call(call, at, "relaxed")
                if offers:
                    self._cancel_call_deadlines(call_id)
                    return [*offers]
                self._link(call)
        if call.stage < len(spec.steps):
            self._deadlines.set("relax", call_id, call.enqueued_at + spec.steps[call.stage].after)
        return out

    def _late_action(self, call_id: str, at: float) -> list[Decision]:
        """A callback/end step that came due while the call was with an agent who did not answer."""
        call = self._calls.get(call_id)
        if call is None:
            return []
        spec = self.queues[call.queue]
        index = self._actions_done.get(call_id, 0)
        step = spec.steps[index]
        self._actions_done[call_id] = index + 1
        if step.action == "end":
            return self._end_call(call_id, "relaxation", at, message=step.message)
        more = next((i for i in range(index + 1, call.stage) if spec.steps[i].action in ("callback", "end")), None)
        if more is not None:
            self._actions_done[call_id] = more
            self._deadlines.set("action", call_id, at)
        return [OfferCallback(call_id, call.queue, at - call.enqueued_at)]

    def _announce(self, call_id: str, at: float) -> list[Decision]:
        call = self._calls.get(call_id)
        if call is None:
            return []
        every = self.queues[call.queue].announce_every
        if every is not None:
            self._deadlines.set("announce", call_id, at + every)
        position = self.position(call_id) or 0
        return [Announce(call_id, call.queue, position, self._ewt(call_id, position))]

    def _end_call(self, call_id: str, reason: EndReason, at: float, *, message: str = "") -> list[Decision]:
        call = self._calls.get(call_id)
        if call is None:
            return []
        position = self.position(call_id) or 0
        self.remove(call_id)
        return [EndCall(call_id, call.queue, reason, at - call.enqueued_at, position, message)]

    def _wrapup_due(self, agent_id: str, at: float) -> list[Decision]:
        if self.agents[agent_id].state != "wrapup" or self._a[agent_id].shadow != "wrapup":
            return []
        offers = self._make_available(agent_id, at)
        record = self.agents[agent_id]
        return [AgentChanged(agent_id, record.state, record.reason), *offers]

    def _break_due(self, agent_id: str, at: float) -> list[Decision]:
        record = self.agents[agent_id]
        teams = [t for t in self.specs[agent_id].teams if record.reason in self.teams[t].break_reasons]
        if record.state != "not_ready" or not teams:
            return []
        minutes = (at - record.since) / 60.0
        detail = f"on {record.reason} for {minutes:.0f} min since {record.since:g}"
        return [SupervisorAlert("break_overrun", agent_id, teams[0], at, detail)]

    def _leave_empty(self, queue: str, at: float) -> list[Decision]:
        spec = self.queues[queue]
        out: list[Decision] = []
        for call_id in self.waiting(queue):
            call = self._calls[call_id]
            if self._nobody_could_serve(spec, call.language, call.needs):
                out += self._end_call(call_id, "leave_empty", at)
        return out

    def _cancel_call_deadlines(self, call_id: str) -> None:
        for kind in ("relax", "max_wait", "announce", "action"):
            self._deadlines.cancel(kind, call_id)

    # ---- indexes -----------------------------------------------------------------------------------------

    def _link(self, call: Call) -> None:
        assert call.bucket is not None
        self._calls[call.call_id] = call
        self._by_seq[call.key[2]] = call.call_id
        call.bucket.calls.add(call.key)
        self._queue_len[call.queue] = self._queue_len.get(call.queue, 0) + 1

    def _unlink(self, call_id: str, *, keep_actions: bool = False, keep_deadlines: bool = False) -> None:
        call = self._calls.pop(call_id, None)
        if call is None:
            return
        assert call.bucket is not None
        call.bucket.calls.remove(call.key)
        del self._by_seq[call.key[2]]
        self._queue_len[call.queue] -= 1
        if not keep_deadlines:
            self._cancel_call_deadlines(call_id)
        if not keep_actions:
            self._actions_done.pop(call_id, None)

    def _stages_of(self, spec: QueueSpec) -> list[tuple[Requirement | None, frozenset[str]]]:
        """The requirement and member queues after each number of steps taken (0..len(steps))."""
        stages = self._stages.get(spec.name)
        if stages is None:
            req, members = spec.skills, frozenset((spec.name,))
            stages = [(req, members)]
            for step in spec.steps:
                if step.action == "lower_level":
                    req = lower(req, step.by)
                elif step.action == "widen" and step.skills is not None:
                    req = widen(req, step.skills)
                elif step.action == "overflow":
                    members = members | {step.queue}
                stages.append((req, members))
            self._stages[spec.name] = stages
        return stages

    def _bucket(self, spec: QueueSpec, stage: int, language: str, needs: Requirement | None) -> Bucket:
        req, members = self._stages_of(spec)[stage]
        key = BucketKey(spec.name, both(req, needs), members, language)
        bucket = self._buckets.get(key)
        if bucket is not None:
            return bucket
        bucket = self._buckets[key] = Bucket(key, spec.strategy)
        self._queue_buckets.setdefault(spec.name, []).append(bucket)
        admitted: list[str] = []
        for queue in sorted(members):
            for agent_id in self._members.get(queue, ()):
                if agent_id not in bucket.eligible and bucket.admit(self.specs[agent_id]):
                    admitted.append(agent_id)
        if isinstance(bucket.pool, WeightedPool):
            bucket.pool.reserve(admitted)
        for agent_id in admitted:
            agent = self._a[agent_id]
            agent.buckets.append(bucket)
            category = _category(agent.shadow)
            bucket.logged_in += category >= 1
            bucket.present += category == 2
            if agent.shadow == "available" and agent_id not in self._held:
                self._pool_add_one(bucket, agent_id)
        return bucket

    def _nobody_could_serve(self, spec: QueueSpec, language: str, needs: Requirement | None) -> bool:
        widest = self._bucket(spec, len(spec.steps), language, needs)
        return (widest.present if spec.empty_means == "none_ready" else widest.logged_in) == 0

    def _pool_add(self, agent_id: str) -> None:
        for bucket in self._a[agent_id].buckets:
            self._pool_add_one(bucket, agent_id)

    def _pool_add_one(self, bucket: Bucket, agent_id: str) -> None:
        record, agent = self.agents[agent_id], self._a[agent_id]
        strategy = bucket.strategy
        pool = bucket.pool
        if isinstance(pool, WeightedPool):
            pool.add(agent_id, 1 if strategy == "random" else max(1, bucket.eligible[agent_id]))
            return
        key: Key
        if strategy == "fewest_calls":
            key = (record.calls, record.since, agent_id)
        elif strategy == "least_talk_time":
            key = (record.talk_seconds, record.since, agent_id)
        elif strategy == "best_skill":
            key = (-bucket.eligible[agent_id], record.since, agent_id)
        elif strategy in ("linear", "round_robin", "ring_all"):
            key = (agent.order, agent_id)
        else:
            key = (record.since, agent_id)
        pool.add(agent_id, key)

    # ---- state changes -----------------------------------------------------------------------------------

    def _set(self, agent_id: str, state: AgentState, now: float, *, call_id: str = "", reason: str = "") -> None:
        agent, record = self._a[agent_id], self.agents[agent_id]
        old = agent.shadow
        if old == "wrapup" and state != "wrapup":
            if record.handle_started is not None:
                seconds = now - record.handle_started
                self._handle_times(record.queue).add(seconds)
                self.handle_log.append((record.queue, seconds))
            self._deadlines.cancel("wrapup", agent_id)
        if old == "not_ready":
            self._deadlines.cancel("break", agent_id)
        self._reindex(agent_id, old, state, now)
        record.state, record.since, record.call_id, record.reason = state, now, call_id, reason
        record.until = None
        self.dirty.add(agent_id)
        if state not in ("reserved", "talking", "wrapup"):
            record.queue, record.node, record.handle_started, record.held = "", "", None, False

    def _reindex(self, agent_id: str, old: AgentState, new: AgentState, now: float) -> None:
        """Move the agent between the indexes for a change of state from ``old`` to ``new``."""
        agent = self._a[agent_id]
        if old == "available" and new != "available":
            for bucket in agent.buckets:
                bucket.pool.discard(agent_id)
            if self._held.pop(agent_id, None) is not None:
                self._deadlines.cancel("hold", agent_id)
        if old == "reserved" and new != "reserved" and agent.ring_call:
            ringing = self._ringing.get(agent.ring_call)
            if ringing is not None:
                ringing.discard(agent_id)
                if not ringing:
                    del self._ringing[agent.ring_call]
            agent.ring_call = ""
        before, after = _category(old), _category(new)
        if before != after:
            self._logged_in += (after >= 1) - (before >= 1)
            emptied: set[str] = set()
            for bucket in agent.buckets:
                bucket.logged_in += (after >= 1) - (before >= 1)
                bucket.present += (after == 2) - (before == 2)
                if after < before and (bucket.logged_in == 0 or bucket.present == 0):
                    emptied.add(bucket.queue)
            for queue in emptied:
                if self.queues[queue].leave_empty and self._queue_len.get(queue):
                    self._deadlines.set("empty", queue, now)
        agent.shadow = new

    def _sync(self, agent_id: str) -> None:
        """Adopt a state the runtime wrote into the record directly (or a restored record)."""
        agent, record = self._a[agent_id], self.agents[agent_id]
        if record.state == agent.shadow:
            return
        self._reindex(agent_id, agent.shadow, record.state, record.since)
        if record.state == "available":
            self._pool_add(agent_id)

    def _require(self, agent_id: str, request: str | None) -> None:
        if agent_id not in self.agents:
            raise UnknownAgent(f"unknown agent {agent_id!r}")
        self._sync(agent_id)
        if request is None:
            return
        state = self.agents[agent_id].state
        if state not in _ALLOWED[request]:
            raise InvalidTransition(f"agent {agent_id} is {state}: cannot {request.replace('_', ' ')}")

    def _queue(self, name: str, *, create: bool = False) -> QueueSpec:
        spec = self.queues.get(name)
        if spec is None:
            if self._strict and not create:
                raise UnknownQueue(f"unknown queue {name!r}")
            if self._strict:
                raise UnknownQueue(f"agent is a member of unknown queue {name!r}")
            spec = self.queues[name] = QueueSpec(name=name)
        return spec

    def _queue_spec(self, name: str) -> QueueSpec:
        return self.queues.get(name) or QueueSpec(name=name)

    def _handle_times(self, queue: str) -> HandleTimes:
        times = self._handle.get(queue)
        if times is None:
            times = self._handle[queue] = HandleTimes(self._queue_spec(queue).handle_window)
        return times

    def _ewt(self, call_id: str, position: int) -> float | None:
        call = self._calls[call_id]
        assert call.bucket is not None
        return estimate_wait(position, self._handle_times(call.queue).average(), call.bucket.present)


_RULES = {
    "longest_idle": "longest_idle: the agent available since the earliest time",
    "fewest_calls": "fewest_calls: the fewest calls answered, then longest idle",
    "least_talk_time": "least_talk_time: the least talk time, then longest idle",
    "best_skill": "best_skill: the highest skill score for the requirement, then longest idle",
    "linear": "linear: the first available agent in member order",
}


def _sorted_steps(spec: QueueSpec) -> QueueSpec:
    ordered = tuple(sorted(spec.steps, key=lambda s: s.after))
    return spec if ordered == spec.steps else msgspec.structs.replace(spec, steps=ordered)
