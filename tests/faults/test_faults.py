"""The fault-injection suite (issue 14): real processes, a private Redis, the simulator over real sockets; a call
in each state, one fault, and nothing lost: no call lost, no agent stuck, no agent in two conversations.

Every CI runs the short variant (two faults on five states); ``CALLCENTER_FAULTS_LONG=1`` runs every fault on
every state (``python -m tests.faults`` does the same and writes RELIABILITY.md with the figures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.engine import ALL_STATES, FAULTS, FAULTS_BY_NAME, LONG, Figures, run

pytestmark = pytest.mark.slow

SHORT_STATES = ["talking", "on_hold", "wrapup", "callback", "queued"]


def assert_clean(figures: Figures) -> None:
    assert figures.lost == [], figures.lost
    assert figures.stuck == [], figures.stuck
    assert figures.double_bridges == [], figures.double_bridges
    assert figures.survived == figures.in_flight and figures.recover_seconds is not None


@pytest.mark.parametrize("fault", ["app_sigkill", "websocket_drop"])
async def test_a_fault_loses_no_call_and_sticks_no_agent(fault: str, tmp_path: Path) -> None:
    """The short variant, on every CI: calls talking, on hold, waiting in line, an agent in wrap-up and a pending
    callback."""
    assert_clean(await run(FAULTS_BY_NAME[fault], SHORT_STATES, tmp_path))


@pytest.mark.skipif(not LONG, reason="the long variants: CALLCENTER_FAULTS_LONG=1")
@pytest.mark.parametrize("fault", [fault.name for fault in FAULTS])
async def test_every_fault_on_calls_in_every_state(fault: str, tmp_path: Path) -> None:
    """IVR, queued, ringing, talking, on hold, consulting, conference, wrap-up, monitored, a pending callback and a
    campaign lead being dialed; one fault."""
    assert_clean(await run(FAULTS_BY_NAME[fault], ALL_STATES, tmp_path))
