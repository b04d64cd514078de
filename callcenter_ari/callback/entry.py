"""A callback entry and its life, from the request to its end.

Theory of operation
-------------------
An entry is one promise to call a number back for a queue. Its states::

    requested --its time, window open--> due --its turn, claimed--> dialing --agent and customer talk--> connected
        ^                                 ^                           |--customer not reached--> retry | expired
        |                                 +---- agent did not answer (customer not dialled) ----+
    retry --its time, window open--> due                                     (any live state) --> cancelled
    requested | retry | due --past its deadline--> expired

*requested*: accepted, waiting for its time (``not_before``: a scheduled callback, or the window to open).
*due*: in line for an agent at ``place``. *dialing*: claimed by one process, which brings agent and customer
together; the customer's leg is an attempt. *retry*: the last attempt did not reach the customer; tried again
``retry_seconds`` later, inside the window, up to ``max_attempts``. Final: *connected*, *expired*, *cancelled*.

*Place.* ``place`` is the entry's place in line: for virtual hold the caller's original arrival, so that in the
ACD's order (``-priority, place``) it sits exactly where the caller was: behind every caller who arrived before,
ahead of those who came after, and it never moves. A scheduled callback's place is the time it was scheduled for.

*Agent only.* A callback for one agent (an agent's own "call back tomorrow at 10") waits for that agent until
``anyone_at``, then for anyone in the queue.

Every function here is ``(entry, ..., now) -> Step``: the new entry and the events to publish, each carrying
``queue`` and ``callback_id``. A transition that does not apply raises ``NotNow`` and changes nothing; the store
applies the same rules atomically in Redis (``store/callbacks.py``), so that a callback is claimed once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from callcenter_ari.callback.window import Window, next_open

State = Literal["requested", "due", "dialing", "retry", "connected", "expired", "cancelled"]
Mode = Literal["agent_first", "customer_first"]
Origin = Literal["virtual_hold", "scheduled", "ticket"]

LIVE: frozenset[str] = frozenset({"requested", "due", "dialing", "retry"})
WAITING: frozenset[str] = frozenset({"requested", "retry"})  # for a time, not yet in line
FINAL: frozenset[str] = frozenset({"connected", "expired", "cancelled"})

Event = tuple[str, dict[str, Any]]


class NotNow(Exception):
    """The transition does not apply to the entry as it is; nothing changed."""


class Rules(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A queue's callback rules."""

    mode: Mode = "agent_first"
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3
    retry_seconds: Annotated[float, msgspec.Meta(ge=10, le=86_400)] = 300.0
    # A callback not connected this long after it may first be placed expires (a ticket's deadline may come sooner).
    expire_after_seconds: Annotated[float, msgspec.Meta(ge=60, le=30 * 86_400)] = 86_400.0
    # An agent-only callback falls back to anyone in the queue after this.
    anyone_after_seconds: Annotated[float, msgspec.Meta(ge=0, le=7 * 86_400)] = 1800.0
    window: Window | None = None


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    queue: str
    number: str  # E.164, from callback/numbers.py or trunks.parse_number
    origin: Origin
    requested_at: float
    place: float
    expires_at: float
    mode: Mode = "agent_first"
    state: State = "requested"
    priority: int = 0
    attempts: int = 0
    not_before: float | None = None
    agent: str = ""
    anyone_at: float | None = None
    name_recording: str = ""
    note: str = ""
    ticket: str = ""
    call_id: str = ""
    last_outcome: str = ""
    updated_at: float = 0.0

    @property
    def live(self) -> bool:
        return self.state in LIVE


class Step(msgspec.Struct, frozen=True):
    entry: Entry
    events: tuple[Event, ...] = ()


def _event(kind: str, entry: Entry, now: float, **fields: Any) -> Event:
    return kind, {"queue": entry.queue, "callback_id": entry.id, "at": now, **fields}


def _set(entry: Entry, now: float, **changes: Any) -> Entry:
    return msgspec.structs.replace(entry, updated_at=now, **changes)


def _require(entry: Entry, states: frozenset[str] | set[str], what: str) -> None:
    if entry.state not in states:
        raise NotNow(f"callback {entry.id} is {entry.state}: it cannot be {what}")


# ---- creation ------------------------------------------------------------------------------------------------


def request(
    *,
    callback_id: str,
    queue: str,
    number: str,
    origin: Origin,
    rules: Rules,
    now: float,
    place: float | None = None,
    at: float | None = None,
    deadline: float | None = None,
    agent: str = "",
    priority: int = 0,
    name_recording: str = "",
    note: str = "",
    ticket: str = "",
    call_id: str = "",
) -> Step:
    """A new callback. Virtual hold gives ``place`` (the caller's arrival) and goes in line at once if the window
    is open; a scheduled one gives ``at``; a ticket's ``deadline`` bounds it."""
    start = now if at is None else max(at, now)
    expires_at = start + rules.expire_after_seconds  # counted from when it may first be placed
    if deadline is not None:
        expires_at = min(expires_at, deadline)
    entry = Entry(
        id=callback_id,
        queue=queue,
        number=number,
        origin=origin,
        requested_at=now,
        place=place if place is not None and at is None else start,
        expires_at=expires_at,
        mode=rules.mode,
        priority=priority,
        agent=agent,
        anyone_at=(start + rules.anyone_after_seconds) if agent else None,
        name_recording=name_recording,
        note=note,
        ticket=ticket,
        call_id=call_id,
        not_before=start,
        updated_at=now,
    )
    requested = _event("callback.requested", entry, now, number=number, origin=origin, agent=agent)
    woken = wake(entry, rules, now)
    return Step(woken.entry, (requested, *woken.events))


# ---- time ----------------------------------------------------------------------------------------------------


def wake(entry: Entry, rules: Rules, now: float) -> Step:
    """A waiting entry at ``now``: in line if its time has come and the window is open; its next time otherwise;
    expired if that is past its deadline. Entries in other states are returned as they are."""
    if entry.state not in WAITING:
        return Step(entry)
    if now >= entry.expires_at:
        return expire(entry, now, "deadline")
    due_at = max(entry.not_before or now, now)
    opens = next_open(rules.window, due_at)
    if opens is None or opens >= entry.expires_at:
        return expire(entry, now, "window")
    if opens > now:
        return Step(entry if entry.not_before == opens else _set(entry, now, not_before=opens))
    return Step(_set(entry, now, state="due", not_before=None))


def next_wake(entry: Entry) -> float | None:
    """When ``wake`` may change the entry next: its time, or its deadline while in line."""
    if entry.state in WAITING:
        return min(entry.not_before or entry.expires_at, entry.expires_at)
    if entry.state == "due":
        return entry.expires_at if entry.anyone_at is None else min(entry.anyone_at, entry.expires_at)
    return None


def expire(entry: Entry, now: float, reason: str) -> Step:
    _require(entry, LIVE - {"dialing"}, "expired")
    done = _set(entry, now, state="expired", not_before=None, last_outcome=reason)
    return Step(done, (_event("callback.expired", done, now, reason=reason, attempts=done.attempts),))


def overdue(entry: Entry, now: float) -> Step:
    """A due entry past its deadline (nobody took it in time) expires; anything else is unchanged."""
    if entry.state == "due" and now >= entry.expires_at:
        return expire(entry, now, "deadline")
    return Step(entry)


def wanted_agent(entry: Entry, now: float) -> str:
    """The only agent who may take the callback now, or "" for anyone in its queue."""
    if entry.agent and (entry.anyone_at is None or now < entry.anyone_at):
        return entry.agent
    return ""


# ---- its turn ------------------------------------------------------------------------------------------------


def claim(entry: Entry, rules: Rules, now: float) -> Step:
    """Its turn came (an agent is reserved for it): it is being connected. Outside the window it waits again."""
    _require(entry, {"due"}, "claimed")
    if now >= entry.expires_at:
        return expire(entry, now, "deadline")
    opens = next_open(rules.window, now)
    if opens != now:
        return wake(_set(entry, now, state="requested", not_before=opens if opens is not None else now), rules, now)
    return Step(_set(entry, now, state="dialing"))


def dialled(entry: Entry, now: float, agent: str) -> Step:
    """The customer's leg is placed: one attempt."""
    _require(entry, {"dialing"}, "dialled")
    attempt = _set(entry, now, attempts=entry.attempts + 1)
    return Step(attempt, (_event("callback.attempted", attempt, now, attempt=attempt.attempts, agent=agent),))


def back_in_line(entry: Entry, now: float) -> Step:
    """The agent could not take it before the customer was dialled: back in line at its place, no attempt used."""
    _require(entry, {"dialing"}, "put back in line")
    return Step(_set(entry, now, state="due"))


def connected(entry: Entry, now: float, agent: str) -> Step:
    _require(entry, {"dialing"}, "connected")
    done = _set(entry, now, state="connected", last_outcome="connected")
    return Step(done, (_event("callback.connected", done, now, agent=agent, attempts=done.attempts),))


def not_reached(entry: Entry, rules: Rules, now: float, outcome: str) -> Step:
    """The attempt failed (no answer, busy, failed, or interrupted by a restart): retried later inside the window
    while attempts remain and the deadline allows, expired otherwise."""
    _require(entry, {"dialing"}, "retried")
    failed = _set(entry, now, last_outcome=outcome)
    retry_at = next_open(rules.window, now + rules.retry_seconds)
    will_retry = failed.attempts < rules.max_attempts and retry_at is not None and retry_at < failed.expires_at
    fields = {"outcome": outcome, "attempt": failed.attempts, "retry": will_retry}
    event = _event("callback.failed", failed, now, **fields)
    if not will_retry:
        reason = "attempts" if failed.attempts >= rules.max_attempts else "deadline"
        waiting = _set(failed, now, state="retry")
        ended = expire(waiting, now, reason)
        return Step(ended.entry, (event, *ended.events))
    return Step(_set(failed, now, state="retry", not_before=retry_at), (event,))


# ---- people --------------------------------------------------------------------------------------------------


def cancel(entry: Entry, now: float, by: str) -> Step:
    _require(entry, LIVE - {"dialing"}, "cancelled")
    done = _set(entry, now, state="cancelled", not_before=None, last_outcome="cancelled")
    return Step(done, (_event("callback.cancelled", done, now, by=by),))


def reschedule(entry: Entry, rules: Rules, at: float, now: float) -> Step:
    """A new time: it waits for it, its place becoming that time; the deadline moves with it when later."""
    _require(entry, LIVE - {"dialing"}, "rescheduled")
    expires_at = max(entry.expires_at, at + rules.retry_seconds)
    moved = _set(entry, now, state="requested", not_before=max(at, now), place=max(at, now), expires_at=expires_at)
    if moved.agent:
        moved = msgspec.structs.replace(moved, anyone_at=max(at, now) + rules.anyone_after_seconds)
    return wake(moved, rules, now)
