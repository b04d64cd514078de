"""Admission decides which new calls the process takes: under its limits every call, past them none (counted), and
never a call it gave up on that the dialplan sends in again."""

from __future__ import annotations

import time

from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.transport import Endpoint
from callcenter_ari.config import OverloadSection
from callcenter_ari.metrics import Metrics
from callcenter_ari.runtime.overload import REMEMBERED, Admission


def admission(**limits: int) -> tuple[Admission, AriClient, Metrics]:
    ari = AriClient(Endpoint("http://127.0.0.1:9", "cc", "u", "p"))
    metrics = Metrics()
    return Admission(OverloadSection(**limits), ari, metrics, now=lambda: 0.0), ari, metrics


def test_calls_are_taken_under_the_limits_and_shed_past_them() -> None:
    gate, ari, _ = admission(max_calls=3, max_pending_requests=5)
    assert gate.refusal("ch1", calls_live=2) is None
    assert gate.refusal("ch1", calls_live=3) == "max_calls"
    ari._sent_at.update(dict.fromkeys(range(5), time.monotonic()))  # five requests in flight, just sent
    assert gate.refusal("ch1", calls_live=0) == "ari_backlog"


def test_a_call_given_up_on_is_never_taken_again() -> None:
    gate, _, metrics = admission()
    gate.gave_up("ch1")
    assert gate.refusal("ch1", calls_live=0) == "returned"
    gate.note("ch2", "max_calls")
    assert gate.refusal("ch2", calls_live=0) == "returned"
    assert metrics.calls_shed.labels("max_calls")._value.get() == 1 and gate.shed == 1


def test_the_channels_remembered_are_bounded() -> None:
    gate, _, _ = admission()
    for n in range(REMEMBERED + 10):
        gate.gave_up(f"ch{n}")
    assert gate.refusal("ch0", calls_live=0) is None  # forgotten, oldest first
    assert gate.refusal(f"ch{REMEMBERED + 9}", calls_live=0) == "returned"


def test_shedding_is_told_to_the_event_stream_once_a_second_and_its_end_once() -> None:
    ari = AriClient(Endpoint("http://127.0.0.1:9", "cc", "u", "p"))
    clock = [100.0]
    events: list[tuple[str, dict[str, object]]] = []
    gate = Admission(
        OverloadSection(max_calls=1), ari, Metrics(), now=lambda: clock[0], emit=lambda k, f: events.append((k, f))
    )
    for n, at in enumerate((100.0, 100.4, 100.9, 101.2)):
        clock[0] = at
        assert gate.refusal(f"ch{n}", calls_live=1) == "max_calls"
        gate.note(f"ch{n}", "max_calls")
    assert [(k, f["calls"]) for k, f in events] == [("overload.shedding", 1), ("overload.shedding", 3)]
    assert gate.refusal("new", calls_live=0) is None
    assert gate.refusal("newer", calls_live=0) is None
    assert events[2:] == [("overload.ended", {"shed": 4})]


def test_a_channel_sent_in_again_is_not_overload() -> None:
    events: list[str] = []
    ari = AriClient(Endpoint("http://127.0.0.1:9", "cc", "u", "p"))
    gate = Admission(OverloadSection(), ari, Metrics(), now=lambda: 100.0, emit=lambda k, f: events.append(k))
    gate.gave_up("ch1")
    gate.note("ch1", gate.refusal("ch1", calls_live=0) or "")
    assert events == []
