"""Queue and agent statistics: a pure accumulator fed with timed events, giving live and per-interval figures.

Feed it ``(event)`` records in time order (each carries ``at``); ask ``live(now)`` for the figures since the
start with open states counted up to ``now``, or ``interval(start)`` for one interval (15 minutes by default).
The formulas are in docs/ACD.md and on the ``QueueFigures`` fields.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import msgspec

# ---- events ------------------------------------------------------------------------------------------------


class CallJoined(msgspec.Struct, frozen=True, tag=True):
    at: float
    call_id: str
    queue: str


class CallAnswered(msgspec.Struct, frozen=True, tag=True):
    at: float
    call_id: str
    queue: str
    agent_id: str


class CallAbandoned(msgspec.Struct, frozen=True, tag=True):
    """The caller hung up while waiting (or while an agent was being rung)."""

    at: float
    call_id: str
    queue: str


class CallExited(msgspec.Struct, frozen=True, tag=True):
    """The call left the queue without an agent or an abandon: max wait, leave-when-empty, an end-with-message
    step, a callback taken instead of waiting."""

    at: float
    call_id: str
    queue: str
    reason: str


class CallHungUp(msgspec.Struct, frozen=True, tag=True):
    """A supervisor hung up a waiting caller (spam, a duplicate, a caller in the wrong queue): neither the
    caller's abandon nor the queue's doing, so it is counted apart and kept out of the service level."""

    at: float
    call_id: str
    queue: str


class CallEnded(msgspec.Struct, frozen=True, tag=True):
    """The conversation of an answered call ended (the agent goes to wrap-up)."""

    at: float
    call_id: str
    agent_id: str


class AgentStateChanged(msgspec.Struct, frozen=True, tag=True):
    """``state`` is the board's state with ``on_hold`` for a held call; ``reason`` is the not-ready reason."""

    at: float
    agent_id: str
    state: str
    reason: str = ""


StatsEvent = CallJoined | CallAnswered | CallAbandoned | CallExited | CallHungUp | CallEnded | AgentStateChanged

# ---- figures -----------------------------------------------------------------------------------------------


class QueueFigures(msgspec.Struct, kw_only=True):
    """Calls are counted in the interval in which their wait ended (answered, abandoned or exited).

    handled_in_queue N = answered + abandoned + exited (short abandons are not in ``abandoned``, callers hung up by
                         a supervisor are in ``hung_up_by_supervisor``: neither is in N)
    service_level  = answered_in_sl / N            (answered within ``sla_seconds`` of joining)
    abandon_rate   = abandoned / N
    asa            = wait_seconds / answered
    aht            = handle_seconds / handled      (talk incl. hold + wrap-up, counted when wrap-up ends)
    """

    entered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    exited: int = 0
    hung_up_by_supervisor: int = 0
    wait_seconds: float = 0.0
    longest_wait: float = 0.0
    handled: int = 0
    handle_seconds: float = 0.0
    service_level: float | None = None
    abandon_rate: float | None = None
    asa: float | None = None
    aht: float | None = None

    def _finish(self) -> QueueFigures:
        total = self.answered + self.abandoned + self.exited
        self.service_level = self.answered_in_sl / total if total else None
        self.abandon_rate = self.abandoned / total if total else None
        self.asa = self.wait_seconds / self.answered if self.answered else None
        self.aht = self.handle_seconds / self.handled if self.handled else None
        return self


class AgentFigures(msgspec.Struct, kw_only=True):
    """Seconds per state; ``talk`` excludes hold; ``not_ready`` is split by reason code."""

    calls: int = 0
    logged_in: float = 0.0
    available: float = 0.0
    reserved: float = 0.0
    talk: float = 0.0
    hold: float = 0.0
    wrapup: float = 0.0
    not_ready: dict[str, float] = {}


class LiveQueue(msgspec.Struct, kw_only=True):
    waiting: int
    longest_wait: float
    agents: dict[str, int]
    today: QueueFigures


class Live(msgspec.Struct, kw_only=True):
    at: float
    queues: dict[str, LiveQueue]
    agents: dict[str, AgentFigures]


class Interval(msgspec.Struct, kw_only=True):
    start: float
    end: float
    queues: dict[str, QueueFigures]
    agents: dict[str, AgentFigures]


# ---- accumulator -------------------------------------------------------------------------------------------


class _Handling:
    __slots__ = ("answered_at", "ended_at", "queue", "wrap_from")

    def __init__(self, queue: str, answered_at: float) -> None:
        self.queue = queue
        self.answered_at = answered_at
        self.ended_at: float | None = None
        self.wrap_from: float | None = None


class Stats:
    def __init__(
        self,
        *,
        interval: float = 900.0,
        sla_seconds: Mapping[str, float] | float = 20.0,
        short_abandon_seconds: Mapping[str, float] | float = 5.0,
        members: Mapping[str, Iterable[str]] | None = None,
        origin: float = 0.0,
    ) -> None:
        """``members`` (queue -> agent ids) lets ``live`` count agents by state per queue; intervals are aligned
        on ``origin`` (0: the epoch, so 15-minute intervals start at :00, :15, :30, :45 UTC)."""
        self._length = interval
        self._origin = origin
        self._sla = sla_seconds
        self._short = short_abandon_seconds
        self._members = {q: tuple(agents) for q, agents in (members or {}).items()}
        self._queues: dict[tuple[float | None, str], QueueFigures] = {}
        self._agents: dict[tuple[float | None, str], AgentFigures] = {}
        self._waiting: dict[str, tuple[str, float]] = {}
        self._handling: dict[str, _Handling] = {}
        self._by_agent: dict[str, str] = {}
        self._state: dict[str, tuple[str, str, float]] = {}

    def configure(
        self,
        *,
        sla_seconds: Mapping[str, float],
        short_abandon_seconds: Mapping[str, float],
        members: Mapping[str, Iterable[str]],
    ) -> None:
        """Queues and agents changed at run time: new thresholds count from the next call that ends its wait, the
        new members in ``live``; the figures so far are kept (a removed queue's included)."""
        self._sla = dict(sla_seconds)
        self._short = dict(short_abandon_seconds)
        self._members = {q: tuple(agents) for q, agents in members.items()}

    def feed(self, event: StatsEvent) -> None:
        match event:
            case CallJoined(at, call_id, queue):
                self._waiting[call_id] = (queue, at)
                for q in self._queue(at, queue):
                    q.entered += 1
            case CallAnswered(at, call_id, queue, agent_id):
                wait = self._end_wait(call_id, queue, at)
                in_sl = wait <= _per_queue(self._sla, queue)
                for q in self._queue(at, queue):
                    q.answered += 1
                    q.answered_in_sl += in_sl
                    q.wait_seconds += wait
                for a in self._agent(at, agent_id):
                    a.calls += 1
                self._handling[call_id] = _Handling(queue, at)
                self._by_agent[agent_id] = call_id
            case CallAbandoned(at, call_id, queue):
                wait = self._end_wait(call_id, queue, at)
                short = wait < _per_queue(self._short, queue)
                for q in self._queue(at, queue):
                    q.short_abandoned += short
                    q.abandoned += not short
            case CallExited(at, call_id, queue, _):
                self._end_wait(call_id, queue, at)
                for q in self._queue(at, queue):
                    q.exited += 1
            case CallHungUp(at, call_id, queue):
                self._end_wait(call_id, queue, at)
                for q in self._queue(at, queue):
                    q.hung_up_by_supervisor += 1
            case CallEnded(at, call_id, agent_id):
                handling = self._handling.get(call_id)
                if handling is not None:
                    handling.ended_at = at
                    state = self._state.get(agent_id)
                    in_wrapup = state is not None and state[0] == "wrapup"
                    handling.wrap_from = max(at, state[2]) if in_wrapup and state is not None else None
                    if not in_wrapup and (state is None or state[0] not in ("talking", "on_hold")):
                        self._complete(agent_id, at)
            case AgentStateChanged(at, agent_id, state, reason):
                self._agent_state(agent_id, state, reason, at)

    def live(self, now: float) -> Live:
        queues: dict[str, LiveQueue] = {}
        names = {q for _, q in self._queues} | set(self._members)
        for name in sorted(names):
            waits = [now - joined for q, joined in self._waiting.values() if q == name]
            counts: dict[str, int] = {}
            for agent_id in self._members.get(name, ()):
                state = self._state.get(agent_id, ("logged_out", "", 0.0))[0]
                counts[state] = counts.get(state, 0) + 1
            today = msgspec.structs.replace(self._queues.get((None, name)) or QueueFigures())
            queues[name] = LiveQueue(
                waiting=len(waits), longest_wait=max(waits, default=0.0), agents=counts, today=today._finish()
            )
        agents = {}
        for (start, agent_id), figures in self._agents.items():
            if start is None:
                agents[agent_id] = _copy(figures)
        for agent_id, (state, reason, since) in self._state.items():
            figures = agents.setdefault(agent_id, AgentFigures())
            _credit(figures, state, reason, now - since)
        return Live(at=now, queues=queues, agents=dict(sorted(agents.items())))

    def interval(self, start: float, now: float | None = None) -> Interval:
        """Figures for the interval starting at ``start``; with ``now`` inside it, open agent states count up to
        ``now``."""
        end = start + self._length
        queues = {q: _copy_q(f)._finish() for (s, q), f in self._queues.items() if s == start}
        agents = {a: _copy(f) for (s, a), f in self._agents.items() if s == start}
        if now is not None and start <= now:
            for agent_id, (state, reason, since) in self._state.items():
                seconds = min(now, end) - max(since, start)
                if seconds > 0:
                    _credit(agents.setdefault(agent_id, AgentFigures()), state, reason, seconds)
        return Interval(start=start, end=end, queues=dict(sorted(queues.items())), agents=dict(sorted(agents.items())))

    def intervals(self) -> list[float]:
        return sorted({s for s, _ in self._queues if s is not None} | {s for s, _ in self._agents if s is not None})

    def interval_start(self, at: float) -> float:
        return self._origin + math.floor((at - self._origin) / self._length) * self._length

    # ---- internals ---------------------------------------------------------------------------------------

    def _end_wait(self, call_id: str, queue: str, at: float) -> float:
        joined = self._waiting.pop(call_id, (queue, at))[1]
        wait = at - joined
        for q in self._queue(at, queue):
            q.longest_wait = max(q.longest_wait, wait)
        return wait

    def _agent_state(self, agent_id: str, state: str, reason: str, at: float) -> None:
        previous = self._state.get(agent_id)
        if previous is not None:
            old_state, old_reason, since = previous
            self._credit_span(agent_id, old_state, old_reason, since, at)
        if state == "logged_out":
            self._state.pop(agent_id, None)
        else:
            self._state[agent_id] = (state, reason, at)
        call_id = self._by_agent.get(agent_id)
        handling = self._handling.get(call_id) if call_id else None
        if handling is not None and handling.ended_at is not None:
            if state == "wrapup":
                handling.wrap_from = at
            else:
                self._complete(agent_id, at)

    def _complete(self, agent_id: str, at: float) -> None:
        call_id = self._by_agent.pop(agent_id, "")
        handling = self._handling.pop(call_id, None)
        if handling is None or handling.ended_at is None:
            return
        wrap = at - handling.wrap_from if handling.wrap_from is not None else 0.0
        seconds = handling.ended_at - handling.answered_at + wrap
        for q in self._queue(at, handling.queue):
            q.handled += 1
            q.handle_seconds += seconds

    def _credit_span(self, agent_id: str, state: str, reason: str, start: float, end: float) -> None:
        """Split a state's span at interval boundaries so that each interval gets its own share."""
        at = start
        while at < end:
            boundary = min(end, self.interval_start(at) + self._length)
            for figures in self._agent(at, agent_id):
                _credit(figures, state, reason, boundary - at)
            at = boundary

    def _queue(self, at: float, queue: str) -> tuple[QueueFigures, QueueFigures]:
        key = (self.interval_start(at), queue)
        interval = self._queues.get(key)
        if interval is None:
            interval = self._queues[key] = QueueFigures()
        total = self._queues.get((None, queue))
        if total is None:
            total = self._queues[None, queue] = QueueFigures()
        return interval, total

    def _agent(self, at: float, agent_id: str) -> tuple[AgentFigures, AgentFigures]:
        key = (self.interval_start(at), agent_id)
        interval = self._agents.get(key)
        if interval is None:
            interval = self._agents[key] = AgentFigures()
        total = self._agents.get((None, agent_id))
        if total is None:
            total = self._agents[None, agent_id] = AgentFigures()
        return interval, total


def _credit(figures: AgentFigures, state: str, reason: str, seconds: float) -> None:
    if seconds <= 0 or state == "logged_out":
        return
    figures.logged_in += seconds
    if state == "available":
        figures.available += seconds
    elif state == "reserved":
        figures.reserved += seconds
    elif state == "talking":
        figures.talk += seconds
    elif state == "on_hold":
        figures.hold += seconds
    elif state == "wrapup":
        figures.wrapup += seconds
    elif state == "not_ready":
        figures.not_ready[reason] = figures.not_ready.get(reason, 0.0) + seconds


def _copy(figures: AgentFigures) -> AgentFigures:
    return msgspec.structs.replace(figures, not_ready=dict(figures.not_ready))


def _copy_q(figures: QueueFigures) -> QueueFigures:
    return msgspec.structs.replace(figures)


def _per_queue(value: Mapping[str, float] | float, queue: str) -> float:
    if isinstance(value, Mapping):
        return value.get(queue, 20.0)
    return value


def combined(intervals: Iterable[Interval], start: float, end: float) -> Interval:
    """The figures of a longer period (30 minutes, a day) from its intervals: counts and seconds added up, the
    rates and averages by the same formulas as each interval's."""
    queues: dict[str, QueueFigures] = {}
    agents: dict[str, AgentFigures] = {}
    for interval in intervals:
        for name, figures in interval.queues.items():
            total = queues.setdefault(name, QueueFigures())
            for field in _QUEUE_SUMS:
                setattr(total, field, getattr(total, field) + getattr(figures, field))
            total.longest_wait = max(total.longest_wait, figures.longest_wait)
        for agent_id, seconds in interval.agents.items():
            sum_ = agents.setdefault(agent_id, AgentFigures(not_ready={}))
            for field in _AGENT_SUMS:
                setattr(sum_, field, getattr(sum_, field) + getattr(seconds, field))
            for reason, spent in seconds.not_ready.items():
                sum_.not_ready[reason] = sum_.not_ready.get(reason, 0.0) + spent
    return Interval(
        start=start,
        end=end,
        queues={q: f._finish() for q, f in sorted(queues.items())},
        agents=dict(sorted(agents.items())),
    )


def occupancy(figures: AgentFigures) -> float | None:
    """Share of the time ready for calls spent on them: (talk + hold + wrap-up) / (that + available + reserved);
    not-ready time is outside both. None without such time."""
    busy = figures.talk + figures.hold + figures.wrapup
    ready = busy + figures.available + figures.reserved
    return busy / ready if ready > 0 else None


_QUEUE_SUMS = (
    "entered",
    "answered",
    "answered_in_sl",
    "abandoned",
    "short_abandoned",
    "exited",
    "hung_up_by_supervisor",
    "wait_seconds",
    "handled",
    "handle_seconds",
)
_AGENT_SUMS = ("calls", "logged_in", "available", "reserved", "talk", "hold", "wrapup")
