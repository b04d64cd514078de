"""Admission decides which new calls the process takes: under its limits every call, past them none (counted), and
never a call it gave up on that the dialplan sends in again."""

from __future__ import annotations

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
    ari.pending = 5
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
