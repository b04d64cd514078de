"""The first inbound flow end to end: the production ARI client on the simulator, real Redis; one call over each
transport, the real ones included."""

from __future__ import annotations

import pytest

from callcenter_ari.sim import PhoneBehaviour, Simulator
from callcenter_ari.sim.faults import FaultRule
from tests.e2e.helpers import (
    AGENT,
    GREETING_SECONDS,
    agent_leg_up_in_sim,
    ended_call,
    ended_record,
    phase_of,
    playing,
    through_greeting,
    until,
)

WIRE = pytest.mark.wire


@pytest.mark.parametrize(
    "transport", [pytest.param("websocket", marks=WIRE), pytest.param("http", marks=WIRE), "inprocess"]
)
async def test_call_is_answered_greeted_hung_up_and_recorded(sim: Simulator, start_app, transport: str) -> None:
    """StasisStart -> answer -> greeting -> hang-up, over each transport; the record and events are in Redis."""
    async with start_app(**({} if transport == "inprocess" else {"transport": transport})) as app:
        assert app.ari.transport_name == transport
        channel = await sim.inject_call(did="5551000", caller="+15551234567", caller_name="Alice", trunk="provider1")
        await until(app, lambda: playing(sim, channel), "greeting")
        await sim.advance(GREETING_SECONDS)
        record = await until(app, lambda: ended_record(app, channel), "call ended")
        assert record.outcome == "completed"
        assert record.caller == "+15551234567" and record.did == "5551000" and record.source == "provider1"
        assert record.answered_at is not None
        kinds = [kind for _, kind, fields in await app.store.events() if fields.get("call_id") == record.call_id]
        assert kinds == ["call.started", "call.ended"]
        assert channel not in {c["id"] for c in sim.channels()}


@WIRE
async def test_auto_transport_prefers_rest_over_websocket(sim: Simulator, start_app) -> None:
    async with start_app(transport="auto") as app:
        assert app.ari.transport_name == "websocket"


async def test_caller_hanging_up_in_the_greeting_is_handled_quietly(sim: Simulator, start_app) -> None:
    """The hang-up race: the caller leaves while we play; no error escapes, the call ends as hung up in IVR."""
    async with start_app() as app:
        channel = await sim.inject_call(did="5551000", caller="+15550001111")
        assert phase_of(app, channel) == "greeting"
        await sim.hangup(channel, cause=16)
        record = await ended_call(app, channel)
        assert record.outcome == "hung_up_in_ivr" and record.hangup_cause == 16


async def test_queued_call_reaches_an_agent_and_both_hang_up_cleanly(sim: Simulator, start_app) -> None:
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0, kind="answer"))
    async with start_app(AGENT) as app:
        channel = await sim.inject_call(did="5552000", caller="+15550002222")
        await through_greeting(sim, channel)
        assert agent_leg_up_in_sim(app, sim, channel), "agent ringing"
        # Made for the caller: Asterisk gives the leg the caller's formats (no transcoding in the bridge).
        assert [o["originator"] for o in sim.originates("PJSIP/agent1")] == [channel]
        await sim.advance(1.5)
        assert phase_of(app, channel) == "talking"
        assert app.acd.board.agents["a1"].state == "talking"
        await sim.advance(30.0)
        await sim.hangup(channel, cause=16)
        record = await ended_call(app, channel)
        assert record.outcome == "completed" and record.agent_id == "a1"
        assert app.acd.board.agents["a1"].state == "available"
        assert sim.bridges() == []  # the call's bridge was destroyed
        assert all(c["id"] != record.agent_channel for c in sim.channels())


async def test_agent_endpoint_asterisk_refuses_puts_call_back_in_line(sim: Simulator, start_app) -> None:
    """An originate Asterisk answers with 500 is an unavailable agent, not a crash; the caller keeps waiting."""
    broken = AGENT.replace("PJSIP/agent1", "SIP/nothing")  # Asterisk 22 has no chan_sip: the channel cannot be made
    async with start_app(broken) as app:
        channel = await sim.inject_call(did="5552000", caller="+15550003333")
        await through_greeting(sim, channel)
        assert app.acd.board.agents["a1"].state == "not_ready"
        assert app.acd.board.agents["a1"].reason == "unavailable"
        assert phase_of(app, channel) == "queued"
        assert app.acd.board.waiting("support") == [app.services.channels.call(channel).call_id]


@pytest.mark.parametrize("transport", ["websocket", "http"])
@pytest.mark.parametrize(("context", "reason"), [("cc-busy", "busy"), ("cc-congestion", "unavailable")])
async def test_an_agent_on_a_local_channel_who_is_busy_is_busy_not_failed(
    sim: Simulator, start_app, transport: str, context: str, reason: str
) -> None:
    """A Local agent leg ends with cause 0 (only its other half carries 17 or 34): the Dial event's dial status,
    BUSY or CONGESTION, is what says why, as Asterisk 22 does (originate_outcomes.json)."""
    local = AGENT.replace("PJSIP/agent1", f"Local/1@{context}")
    async with start_app(local, transport=transport) as app:
        channel = await sim.inject_call(did="5552000", caller="+15550003334")
        await through_greeting(sim, channel)
        await until(app, lambda: app.acd.board.agents["a1"].state == "not_ready", what="agent not ready")
        assert app.acd.board.agents["a1"].reason == reason
        assert phase_of(app, channel) == "queued"
        await app.store.flush()
        failed = [fields for _, kind, fields in await app.store.events() if kind == "call.agent_failed"]
        assert [f["reason"] for f in failed] == [reason]


async def test_queue_statistics_match_the_calls_that_were_made(sim: Simulator, start_app) -> None:
    """One caller answered, one who gives up in the queue, one who gives up at once: the queue's figures say so."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0))
    async with start_app(AGENT) as app:
        answered = await sim.inject_call(did="5552000", caller="+15550001001")
        await through_greeting(sim, answered)
        assert agent_leg_up_in_sim(app, sim, answered), "agent ringing"
        await sim.advance(1.5)
        assert phase_of(app, answered) == "talking"
        waits_long = await sim.inject_call(did="5552000", caller="+15550001002")
        waits_short = await sim.inject_call(did="5552000", caller="+15550001003")
        await through_greeting(sim, waits_long, waits_short)
        assert phase_of(app, waits_short) == "queued"
        await sim.hangup(waits_short, cause=16)  # within the short-abandon threshold (5 s)
        await ended_call(app, waits_short)
        await sim.advance(1.0)
        assert phase_of(app, waits_long) == "queued"
        figures = app.stats.live(app.clock.now()).queues["support"].today
        assert (figures.entered, figures.answered, figures.short_abandoned, figures.abandoned) == (3, 1, 1, 0)
        # The answered call was answered within 20 s; a short abandon does not count against the service level.
        assert figures.service_level == 1.0


async def test_queue_log_is_written_for_report_tools(sim: Simulator, start_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """ENTERQUEUE, CONNECT and COMPLETECALLER lines in Asterisk's queue_log format, plus the agent's login."""
    path = tmp_path / "queue_log"
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0))
    async with start_app(AGENT + f'\n[acd]\nqueue_log = "{path}"\n') as app:
        channel = await sim.inject_call(did="5552000", caller="+15550002002")
        await through_greeting(sim, channel)
        assert agent_leg_up_in_sim(app, sim, channel), "agent ringing"
        await sim.advance(1.5)
        assert phase_of(app, channel) == "talking"
        await sim.hangup(channel, cause=16)
        record = await ended_call(app, channel)
        await app.queue_log.flush()
    lines = [line.split("|") for line in path.read_text().splitlines()]
    events = [(fields[1], fields[2], fields[3], fields[4]) for fields in lines]
    call = record.call_id
    assert ("NONE", "NONE", "a1", "AGENTLOGIN") in events
    assert (call, "support", "NONE", "ENTERQUEUE") in events
    assert (call, "support", "a1", "CONNECT") in events
    assert (call, "support", "a1", "COMPLETECALLER") in events
    assert all(fields[0].isdigit() for fields in lines)


@pytest.mark.parametrize("continues", [True, False])
async def test_a_refused_answer_sent_without_waiting_still_fails_the_call_safe(
    sim: Simulator, start_app, continues: bool
) -> None:
    """The answer is not awaited; Asterisk refusing it (500) comes back as the call's failure all the same: the
    caller is sent back to the dialplan, or hung up when the dialplan refuses it too, after the call has ended."""
    rules = [FaultRule("answer", "fail", 1.0)] + ([] if continues else [FaultRule("continueInDialplan", "fail", 1.0)])
    sim.api.faults.set(rules)
    async with start_app() as app:
        channel = await sim.inject_call(did="5551000", caller="+15550004444")
        record = await until(app, lambda: ended_record(app, channel), "call ended")
        assert record.outcome == "failed"
        assert sim.api.faults.struck["answer:fail"] == 1
        await until(app, lambda: channel not in {c["id"] for c in sim.channels()}, "caller out of Stasis")
        assert sim.api.faults.struck.get("continueInDialplan:fail", 0) == (0 if continues else 1)
