"""The queue statistics' callbacks object: attempted, connected and expired from the events, pending and due from
the live entries."""

from __future__ import annotations

import msgspec

from callcenter_ari.callback.entry import Rules, request
from callcenter_ari.callback.figures import CallbackFigures, QueueCallbacks


def entry(callback_id: str, state: str, queue: str = "support"):  # type: ignore[no-untyped-def]
    made = request(
        callback_id=callback_id, queue=queue, number="+12025550143", origin="scheduled", rules=Rules(), now=0.0
    ).entry
    return msgspec.structs.replace(made, state=state)


def test_counts_per_queue() -> None:
    figures = CallbackFigures()
    for kind, queue in [
        ("callback.attempted", "support"),
        ("callback.attempted", "support"),
        ("callback.connected", "support"),
        ("callback.expired", "support"),
        ("callback.attempted", "sales"),
        ("callback.requested", "support"),  # counted from the live entries instead
        ("call.ended", "support"),
    ]:
        figures(kind, {"queue": queue, "callback_id": "k"})
    live = [
        entry("a", "requested"),
        entry("b", "retry"),
        entry("c", "due"),
        entry("d", "dialing"),
        entry("e", "due", "sales"),
    ]
    assert figures.figures("support", live) == QueueCallbacks(pending=2, due=2, attempted=2, connected=1, expired=1)
    assert figures.figures("sales", live) == QueueCallbacks(due=1, attempted=1)
    assert figures.figures("billing", live) == QueueCallbacks()
