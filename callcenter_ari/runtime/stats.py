"""Queue and agent statistics, fed from the events the application appends to its stream.

The accumulator is the ACD's pure ``Stats`` (docs/ACD.md has the formulas); this module only translates our event
kinds into its inputs. It watches the same events that go to Redis, so the figures and the stream agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callcenter_ari.acd.stats import (
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallExited,
    CallHungUp,
    CallJoined,
    Stats,
)
from callcenter_ari.store.redis import Store, StreamEvent


class StatsFeed:
    """An event observer (``Services.observers``) that keeps ``stats`` up to date; after a restart, ``replay`` feeds
    it the stream's events first, so that the figures are those the same calls gave without the restart."""

    def __init__(self, stats: Stats, now: Callable[[], float]) -> None:
        self.stats = stats
        self._now = now

    def __call__(self, kind: str, fields: dict[str, Any]) -> None:
        at = float(fields.get("at") or self._now())
        feed = self.stats.feed
        match kind:
            case "call.queued":
                feed(CallJoined(at, fields["call_id"], fields["queue"]))
            case "call.answered":
                feed(CallAnswered(at, fields["call_id"], fields["queue"], fields["agent"]))
            case "agent.state":
                feed(AgentStateChanged(at, fields["agent"], fields["state"], fields.get("reason", "")))
            case "call.ended" if fields.get("queue"):
                self._ended(at, fields)

    def _ended(self, at: float, fields: dict[str, Any]) -> None:
        call_id, queue, outcome = fields["call_id"], fields["queue"], fields.get("outcome", "")
        if fields.get("agent") and "talk" in fields:
            self.stats.feed(CallEnded(at, call_id, fields["agent"]))
        elif outcome == "abandoned":
            self.stats.feed(CallAbandoned(at, call_id, queue))
        elif outcome == "hung_up_by_supervisor":
            self.stats.feed(CallHungUp(at, call_id, queue))
        elif "wait" in fields:
            self.stats.feed(CallExited(at, call_id, queue, outcome))


REPLAY_SECONDS = 24 * 3600.0  # how far back the figures are rebuilt from the stream on start


async def replay(feed: Callable[[StreamEvent], None], store: Store, since: float) -> int:
    """Feed the stream's events from ``since`` (unix seconds) on, oldest first; returns how many were read."""
    start, read = f"{max(0, int(since * 1000))}-0", 0
    while rows := await store.stream(start):
        for event in rows:
            feed(event)
        read += len(rows)
        start = f"({rows[-1].ident}"
    return read
