"""The outbox's decider: every choice the webhook loop makes, from what it read and the time it was given.

Theory of operation. The loop in ``runtime/webhooks.py`` reads and writes Redis (``store/webhooks.py``) and sends
the requests; it asks this module what to do at each step and does exactly that, so the decisions are tested with
plain asserts and the loop holds no logic of its own:

- consuming the event stream: a batch of entries and the subscriptions give the deliveries to create and the entries
  to acknowledge (``fan_out``); ``reclaim_due`` says when to take over entries a vanished consumer left behind;
- dispatching: how many attempts may start, in all and per subscription (``limits``), which due deliveries to claim
  so that one receiver's backlog cannot take every free slot (``pick``), until when a claim holds (``lease_until``),
  and when to look again (``next_look``); ``started`` and ``finished`` keep the count of attempts in flight;
  ``expect`` keeps the deliveries this process knows will come due (it created or retried them, or the last claim
  named them due), and ``candidates`` offers those due to the claim, which can then claim them in the same round
  trip as it looks at the schedules (``another_take``: whether what it named due is worth a second one at once);
- settling an attempt: its result gives the delivery as it now stands (delivered, rescheduled after its backoff, or
  dead-lettered), the line of the delivery log, and whether the receiver asked to be left alone (``settle``);
- replaying: a dead letter put back with fresh attempts (``requeued``), a past event sent again (``replayed``).

No I/O and no clock of its own: ``now`` is always an argument.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet

import msgspec

from callcenter_ari.webhooks.model import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    StreamEntry,
    Subscription,
    WebhookSettings,
)
from callcenter_ari.webhooks.policy import after_attempt, delivery_id, fan_out


class AttemptResult(msgspec.Struct, frozen=True):
    """What one request gave: the status (None when no answer came), an error text, ``Retry-After`` in seconds."""

    status: int | None
    error: str
    retry_after: float | None
    duration_ms: float


class Settlement(msgspec.Struct, frozen=True):
    delivery: Delivery  # as it now stands: delivered, pending again (rescheduled) or dead
    line: DeliveryAttempt  # for the subscription's delivery log
    outcome: AttemptOutcome
    disable: str  # why its subscription must be disabled ("" to keep it)


class FanOut(msgspec.Struct, frozen=True):
    deliveries: list[Delivery]  # to create (those that exist already are left as they are)
    acknowledge: list[str]  # stream ids, in the same transaction
    malformed: list[str]  # stream ids whose data was not JSON: sent as ``{}``


# Deliveries known to come due, kept per subscription: beyond this the claim's look at the schedule finds them.
KNOWN_PER_SUBSCRIPTION = 1000


class Outbox:
    def __init__(self, settings: WebhookSettings, rng: random.Random | None = None) -> None:
        self.settings = settings
        self._rng = rng or random.Random()
        self.in_flight: dict[str, int] = {}  # attempts under way, per subscription
        self._last_reclaim: float | None = None
        self._known: dict[str, _Known] = {}  # per subscription id

    # ---- consuming ----------------------------------------------------------------------------------------

    def fan_out(self, entries: Sequence[StreamEntry], subscriptions: Iterable[Subscription], now: float) -> FanOut:
        """One delivery per entry and subscription that takes it; every entry read is acknowledged, including one
        trimmed from the stream before we got to it (nothing is left to send of it)."""
        subs = list(subscriptions)
        deliveries: list[Delivery] = []
        malformed: list[str] = []
        for entry in entries:
            if not entry.kind:
                continue
            data = _json_or_empty(entry.data)
            if data is None:
                malformed.append(entry.id)
                data = b"{}"
            deliveries.extend(fan_out(entry.id, entry.kind, entry.at, data, subs, now))
        return FanOut(deliveries, [entry.id for entry in entries], malformed)

    def reclaim_due(self, now: float) -> bool:
        """Whether to look for entries another consumer read and never acknowledged (at start, then every
        ``claim_idle``); answering yes counts as having looked."""
        if self._last_reclaim is not None and now - self._last_reclaim <= self.settings.claim_idle:
            return False
        self._last_reclaim = now
        return True

    # ---- dispatching --------------------------------------------------------------------------------------

    def free(self) -> int:
        """Attempts that may start now, all subscriptions together."""
        return self.settings.concurrency - sum(self.in_flight.values())

    def limits(self, subscriptions: Iterable[Subscription]) -> dict[str, int]:
        """Per enabled subscription with room, how many more of its attempts may start. A disabled one is paused:
        its deliveries wait."""
        cap = self.settings.per_subscription
        return {
            sub.id: cap - self.in_flight.get(sub.id, 0)
            for sub in subscriptions
            if sub.enabled and self.in_flight.get(sub.id, 0) < cap
        }

    def pick(self, due: Mapping[str, Sequence[str]], free: int) -> list[tuple[str, str]]:
        """(subscription id, delivery id) pairs to claim, one subscription at a time, so that a backlog on one does
        not use up the free slots."""
        queues = {sub: list(ids) for sub, ids in due.items() if ids}
        picked: list[tuple[str, str]] = []
        while queues and len(picked) < free:
            for sub in list(queues):
                picked.append((sub, queues[sub].pop(0)))
                if not queues[sub]:
                    del queues[sub]
                if len(picked) >= free:
                    break
        return picked

    def expect(self, subscription_id: str, delivery_id: str, at: float) -> None:
        """A delivery of the subscription comes due at ``at`` (it was created, retried, requeued, or named due)."""
        known = self._known.get(subscription_id)
        if known is None:
            known = self._known[subscription_id] = _Known()
        known.expect(delivery_id, at)

    def candidates(self, limits: Mapping[str, int], now: float) -> dict[str, list[str]]:
        """Per subscription with room, up to its limit of the known deliveries due by ``now``, the earliest first.
        They are forgotten: the claim takes them, or names again those still due that it did not take."""
        offered: dict[str, list[str]] = {}
        for sub, limit in limits.items():
            known = self._known.get(sub)
            if known is not None and limit > 0 and (due := known.take_due(now, limit)):
                offered[sub] = due
        return offered

    def forget_all_but(self, subscription_ids: AbstractSet[str]) -> None:
        """Drop what is known of subscriptions that are gone."""
        for sub in [sub for sub in self._known if sub not in subscription_ids]:
            del self._known[sub]

    def another_take(self, due: Mapping[str, Sequence[str]], subscriptions: Iterable[Subscription]) -> bool:
        """Whether to claim again at once: the claim named due deliveries of a subscription that still has room
        (it had no candidates for them: made by another process, or before this one started)."""
        if self.free() <= 0:
            return False
        return any(due.get(sub) for sub in self.limits(subscriptions))

    def lease_until(self, now: float) -> float:
        """A claimed delivery comes due again then, should its attempt never be recorded (a crashed worker)."""
        return now + self.settings.lease_seconds

    def started(self, subscription_id: str) -> None:
        self.in_flight[subscription_id] = self.in_flight.get(subscription_id, 0) + 1

    def finished(self, subscription_id: str) -> None:
        left = self.in_flight.get(subscription_id, 0) - 1
        if left > 0:
            self.in_flight[subscription_id] = left
        else:
            self.in_flight.pop(subscription_id, None)

    def next_look(self, soonest: float | None, now: float) -> float:
        """Seconds until the schedules are looked at again: the next due time, at most ``poll_interval`` (other
        processes schedule deliveries too), and at once when nothing may start (an attempt ending wakes us)."""
        if soonest is None:
            return self.settings.poll_interval
        return min(self.settings.poll_interval, max(0.0, soonest - now))

    # ---- settling -----------------------------------------------------------------------------------------

    def settle(self, delivery: Delivery, result: AttemptResult, now: float) -> Settlement:
        updated, outcome = after_attempt(
            delivery,
            now=now,
            status_code=result.status,
            error=result.error,
            settings=self.settings,
            retry_after=result.retry_after,
            rng=self._rng,
        )
        line = DeliveryAttempt(
            delivery_id=delivery.id,
            event_id=delivery.event_id,
            type=delivery.type,
            attempt=updated.attempts,
            at=now,
            outcome=outcome,
            status_code=result.status,
            error=updated.last_error,
            duration_ms=result.duration_ms,
            next_attempt_at=updated.next_attempt_at if outcome == "retry" else None,
        )
        # 410 Gone: the receiver wants nothing more (the spec's advice is to stop sending).
        disable = "the receiver answered 410 Gone" if result.status == 410 else ""
        return Settlement(updated, line, outcome, disable)

    # ---- replaying ----------------------------------------------------------------------------------------

    def requeued(self, delivery: Delivery, now: float) -> Delivery:
        """A dead letter back on its schedule with a fresh set of attempts; its id (the ``webhook-id``) is kept."""
        return msgspec.structs.replace(
            delivery, status="pending", attempts=0, next_attempt_at=now, last_status=None, last_error=""
        )

    def replayed(self, entry: StreamEntry, subscriptions: Iterable[Subscription], now: float, token: str) -> FanOut:
        """A past event as new deliveries with ids of their own (a receiver that processed it would drop a
        duplicate id), to every subscription given that takes it; the body is the original one. Nothing to
        acknowledge: the entry was acknowledged when it was first read."""
        first = self.fan_out([entry], subscriptions, now)
        deliveries = [
            msgspec.structs.replace(d, id=delivery_id(entry.id, d.subscription_id, token), replay_of=entry.id)
            for d in first.deliveries
        ]
        return FanOut(deliveries, [], first.malformed)


def _json_or_empty(data: bytes) -> bytes | None:
    """The event's data if it is JSON, else None (never send a receiver a body it cannot parse)."""
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError:
        return None
    return data


class _Known:
    """One subscription's deliveries known to come due: delivery id -> when, and the same in a heap, so that the
    due ones are found without looking at the others (a round looks every few deliveries; a backlog is up to
    ``KNOWN_PER_SUBSCRIPTION``). A time changed leaves its old heap entry behind, skipped when it surfaces."""

    __slots__ = ("at", "heap")

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.heap: list[tuple[float, str]] = []

    def expect(self, delivery_id: str, at: float) -> None:
        if delivery_id not in self.at and len(self.at) >= KNOWN_PER_SUBSCRIPTION:
            return
        if self.at.get(delivery_id) == at:
            return
        self.at[delivery_id] = at
        heapq.heappush(self.heap, (at, delivery_id))
        if len(self.heap) > 2 * len(self.at) + 64:  # mostly stale entries: keep the heap to what is known
            self.heap = [(when, ident) for ident, when in self.at.items()]
            heapq.heapify(self.heap)

    def take_due(self, now: float, limit: int) -> list[str]:
        """Up to ``limit`` of those due by ``now``, the earliest first, forgotten."""
        due: list[str] = []
        heap, at = self.heap, self.at
        while heap and len(due) < limit and heap[0][0] <= now:
            when, ident = heapq.heappop(heap)
            if at.get(ident) == when:
                del at[ident]
                due.append(ident)
        return due
