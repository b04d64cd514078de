"""Outbound legs end to end: a trunk line taken and given back, the originate as Asterisk gets it, and what the
owner hears when the far end answers, does not answer, is busy or fails; the simulator plays the far end."""

from __future__ import annotations

import pytest

from callcenter_ari.calls.outbound import Answered, Busy, Ended, Failed, LegEvent, NoAnswer, OutboundRequest
from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import PhoneBehaviour, Simulator
from callcenter_ari.trunks import parse_number
from tests.e2e.helpers import until

TRUNK = """
[trunks.provider1]
kind = "pjsip"
endpoint = "provider1"
capacity = 1
region = "US"
"""
CUSTOMER = "+12025550143"


def leg(leg_id: str, **changes: object) -> OutboundRequest:
    fields: dict[str, object] = {
        "leg_id": leg_id,
        "number": parse_number(CUSTOMER, "US"),
        "trunks": ("provider1",),
        "caller_id": "+12025550100",
        "ring_seconds": 20,
    }
    fields.update(changes)
    return OutboundRequest(**fields)  # type: ignore[arg-type]


async def lines_busy(app: Application, count: int) -> bool:
    return await app.services.lines.busy("provider1") == count


async def test_an_answered_leg_is_reported_then_its_end_frees_the_line(sim: Simulator, start_app) -> None:
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=3.0, talk=None))
    async with start_app(TRUNK) as app:
        heard: list[LegEvent] = []
        assert await app.services.outbound.place(leg("o-a1", app_args=("owner", "x1")), heard.append)
        await sim.settle()
        [originate] = sim.originates()
        assert originate == {
            "endpoint": f"PJSIP/{CUSTOMER}@provider1",
            "channel_id": "o-a1",
            "app_args": ["outbound", "o-a1", "owner", "x1"],
            "originator": "",
        }
        await until(app, lambda: lines_busy(app, 1), "one line taken")
        assert heard == []
        await sim.advance(3.0)
        assert heard == [Answered("o-a1", "provider1")]
        await sim.hangup("o-a1", cause=16)
        assert heard[-1] == Ended("o-a1", 16)
        await until(app, lambda: lines_busy(app, 0), "the line given back")
        assert not app.services.outbound.owns("o-a1")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("noanswer", NoAnswer("o-x")),
        ("busy", Busy("o-x")),
        ("congestion", Failed("o-x", "CONGESTION", 34)),
        ("unavailable", Failed("o-x", "refused")),
    ],
)
async def test_a_leg_not_reached_says_why_and_frees_its_line(
    sim: Simulator, start_app, kind: str, expected: LegEvent
) -> None:
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(kind=kind))  # type: ignore[arg-type]
    async with start_app(TRUNK) as app:
        heard: list[LegEvent] = []
        await app.services.outbound.place(leg("o-x"), heard.append)
        await sim.advance(21.0)
        assert heard == [expected]
        await until(app, lambda: lines_busy(app, 0), "the line given back")
        assert not app.services.outbound.owns("o-x") and sim.channel("o-x") is None


async def test_a_full_trunk_places_nothing_and_a_cancelled_leg_says_so(sim: Simulator, start_app) -> None:
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=30.0))
    async with start_app(TRUNK) as app:
        first: list[LegEvent] = []
        second: list[LegEvent] = []
        assert await app.services.outbound.place(leg("o-1", ring_seconds=60), first.append)
        assert not await app.services.outbound.place(leg("o-2"), second.append)
        assert second == [Failed("o-2", "no free line")]
        assert [o["channel_id"] for o in sim.originates()] == ["o-1"], "the second leg never reached Asterisk"
        await app.services.outbound.hang_up("o-1")
        await sim.settle()
        assert first == [Failed("o-1", "CANCEL", 32)], "hung up by its owner while ringing"
        await until(app, lambda: lines_busy(app, 0), "the line given back")


async def test_an_answer_nobody_waits_for_is_hung_up(sim: Simulator, start_app) -> None:
    """A leg placed before a restart answers after it: no owner, so it is hung up and its line freed."""
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=1.0))
    async with start_app(TRUNK) as app:
        await app.services.outbound.place(leg("o-r"), lambda event: None)
        app.services.outbound._legs.clear()  # what a restart leaves: the leg unknown to the process
        await sim.advance(1.0)
        await sim.settle()
        assert sim.channel("o-r") is None, "hung up"
        await until(app, lambda: lines_busy(app, 0), "the line given back")
