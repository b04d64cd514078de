"""Asterisk's per-application event filter, set by the production client on connect: the simulator then sends only
the event types the dispatcher handles; where the filter cannot be set, the application runs unfiltered."""

from __future__ import annotations

import inspect

import msgspec
import pytest

from callcenter_ari.ari import events
from callcenter_ari.runtime import dispatcher
from callcenter_ari.runtime.dispatcher import EVENTS_USED
from callcenter_ari.sim import PhoneBehaviour, Simulator
from callcenter_ari.sim.faults import FaultRule
from tests.e2e.helpers import AGENT, ended_call, phase_of, playing, through_greeting, until

WIRE = pytest.mark.wire


def test_every_event_type_the_dispatcher_matches_is_allowed() -> None:
    used = {
        value.__struct_config__.tag
        for value in vars(dispatcher).values()
        if inspect.isclass(value) and issubclass(value, msgspec.Struct) and value.__module__ == events.__name__
        if isinstance(value.__struct_config__.tag, str) and value.__struct_config__.tag != "RESTResponse"
    }
    assert used and used <= set(EVENTS_USED)


async def test_the_filter_is_set_on_connect_and_unused_events_never_come(sim: Simulator, start_app) -> None:
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0, kind="answer"))
    async with start_app(AGENT) as app:
        assert app.ari.filtered
        assert [e["type"] for e in sim.core.application_json("callcenter")["events_allowed"]] == [
            *EVENTS_USED,
            "RESTResponse",
        ]
        sent_before = sim.core.counters["events"]
        channel = await sim.inject_call(did="5552000", caller="+15550002222")
        await through_greeting(sim, channel)
        await sim.advance(1.5)
        assert phase_of(app, channel) == "talking"
        await sim.hangup(channel, cause=16)
        record = await ended_call(app, channel)
        assert record.outcome == "completed"
        seen = {labels["type"] for labels, _ in _event_counts(app)}
        assert seen <= set(EVENTS_USED), seen
        assert sim.core.counters["events"] - sent_before < 20


@WIRE
async def test_the_filter_is_set_over_rest_over_websocket(sim: Simulator, start_app) -> None:
    async with start_app(transport="websocket") as app:
        assert app.ari.transport_name == "websocket" and app.ari.filtered
        channel = await sim.inject_call(did="5551000", caller="+15550001111")
        await until(app, lambda: playing(sim, channel), "greeting")
        await sim.hangup(channel, cause=16)
        await until(app, lambda: not app.services.calls, "the call ended")  # on wall time: wait, then flush
        await app.store.flush()
        assert (await ended_call(app, channel)).outcome == "hung_up_in_ivr"
        assert {labels["type"] for labels, _ in _event_counts(app)} <= set(EVENTS_USED)


async def test_without_the_filter_the_application_runs_unfiltered(sim: Simulator, start_app) -> None:
    """An Asterisk older than 13.26/16.3 has no eventFilter resource (here: every such request fails)."""
    sim.api.faults.set([FaultRule("filter", "fail", 1.0)])
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0, kind="answer"))
    async with start_app(AGENT) as app:
        assert not app.ari.filtered
        channel = await sim.inject_call(did="5552000", caller="+15550002222")
        await through_greeting(sim, channel)
        await sim.advance(1.5)
        await sim.hangup(channel, cause=16)
        assert (await ended_call(app, channel)).outcome == "completed"
        assert "ChannelStateChange" in {labels["type"] for labels, _ in _event_counts(app)}


@WIRE
async def test_over_the_http_transport_the_filter_is_not_set(sim: Simulator, start_app) -> None:
    async with start_app(transport="http") as app:
        assert not app.ari.filtered
        assert sim.core.application_json("callcenter")["events_allowed"] == []
        channel = await sim.inject_call(did="5551000", caller="+15550001111")
        await until(app, lambda: playing(sim, channel), "greeting")
        await sim.hangup(channel, cause=16)
        assert (await ended_call(app, channel)).outcome == "hung_up_in_ivr"


def _event_counts(app) -> list[tuple[dict[str, str], float]]:  # type: ignore[no-untyped-def]
    out = []
    for metric in app.services.metrics.ari_events.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.value > 0:
                out.append((sample.labels, sample.value))
    return out
