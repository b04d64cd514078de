"""Dropped WebSockets, restarts, shutdown, unknown events: nothing lost, nothing left dangling. Drops and
reconnects run over real sockets (``wire``); the rest on the in-process transport."""

from __future__ import annotations

import io
import json

import anyio
import pytest
import structlog
from redis.asyncio import Redis

from callcenter_ari import logs, wiring
from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.errors import ChannelGone
from callcenter_ari.ari.events import (
    ChannelHangupRequest,
    ChannelStateChange,
    PlaybackFinished,
    PlaybackStarted,
    StasisEnd,
    StasisStart,
    UnknownEvent,
)
from callcenter_ari.ari.transport import Endpoint
from callcenter_ari.calls.messages import Announce
from callcenter_ari.clock import ManualClock
from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.e2e.conftest import waiting_for_redis
from tests.e2e.helpers import (
    AGENT,
    PASSWORD,
    USER,
    agent_leg_up_in_sim,
    ended_call,
    ended_record,
    eventually,
    greeted_over_wire,
    make_config,
    phase_of,
    playing,
    through_greeting,
)

NO_AGENTS_LOGGED_IN = AGENT + "logged_in = false\n"


@pytest.mark.wire
async def test_call_lifecycle_decodes_into_typed_events(sim: Simulator) -> None:
    """Through the production client (REST over WebSocket): every event arrives typed, in Asterisk's order."""
    client = AriClient(Endpoint(sim.base_url, "callcenter", USER, PASSWORD), transport="websocket")
    seen: list[object] = []

    async def sink(message: object) -> None:
        seen.append(message)

    async with anyio.create_task_group() as tg:
        await tg.start(client.run, sink)
        channel = await sim.inject_call(did="5551000", caller="+15551234567")
        await eventually(lambda: any(isinstance(e, StasisStart) for e in seen), what="StasisStart")
        await client.answer(channel)
        playback = await client.play(f"channel:{channel}", "sound:hello-world")
        await sim.advance(2.0)
        await eventually(lambda: any(isinstance(e, PlaybackFinished) for e in seen), what="PlaybackFinished")
        await client.hangup(channel)
        await eventually(lambda: any(isinstance(e, StasisEnd) for e in seen), what="StasisEnd")
        tg.cancel_scope.cancel()
    events = [e for e in seen if type(e).__module__.endswith("events")]
    kinds = [type(e) for e in events]
    assert kinds == [
        StasisStart,
        ChannelStateChange,
        PlaybackStarted,
        PlaybackFinished,
        ChannelHangupRequest,
        StasisEnd,
    ]
    assert events[3].playback.id == playback.id and events[3].playback.state == "done"  # type: ignore[attr-defined]
    assert events[4].soft is True  # type: ignore[attr-defined]


@pytest.mark.parametrize("transport", [pytest.param("http", marks=pytest.mark.wire), "inprocess"])
async def test_a_404_on_a_vanished_channel_is_channel_gone(sim: Simulator, transport: str) -> None:
    endpoint = Endpoint(sim.base_url, "callcenter", USER, PASSWORD)
    client = AriClient(endpoint, transport=sim.transport if transport == "inprocess" else "http")

    async def sink(message: object) -> None:
        pass

    async with anyio.create_task_group() as tg:
        await tg.start(client.run, sink)
        channel = await sim.inject_call(did="5551000", caller="+15551234567")
        await sim.hangup(channel, cause=16)
        try:
            await client.answer(channel)
        except ChannelGone as gone:
            assert gone.channel_id == channel
        else:
            raise AssertionError("answering a vanished channel must raise ChannelGone")
        tg.cancel_scope.cancel()


@pytest.mark.wire
@pytest.mark.parametrize("transport", ["websocket", "http"])
async def test_dropped_websocket_reconnects_and_no_call_is_lost(sim: Simulator, start_app, transport: str) -> None:
    """Drop the event WebSocket while one call talks and another waits: after the reconnect both carry on,
    including a hang-up that happened while we were away."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.5, kind="answer"))
    async with start_app(AGENT, transport=transport) as app:
        first = await sim.inject_call(did="5552000", caller="+15550000001")
        second = await sim.inject_call(did="5552000", caller="+15550000002")
        await greeted_over_wire(sim, first, second)
        await eventually(lambda: agent_leg_up_in_sim(app, sim, first), what="first ringing")
        await sim.advance(1.0)
        await eventually(lambda: phase_of(app, first) == "talking", what="first talking")
        await eventually(lambda: phase_of(app, second) == "queued", what="second waiting")
        reconnects = app.metrics.ari_reconnects._value.get()
        await sim.drop_websockets()
        await sim.hangup(first, cause=16)  # while disconnected: this event is lost
        await eventually(lambda: app.metrics.ari_reconnects._value.get() > reconnects, what="reconnect")
        record = await eventually(lambda: ended_record(app, first), what="first ended by reconciliation")
        assert record.outcome == "completed"
        await eventually(lambda: agent_leg_up_in_sim(app, sim, second), what="second offered to the freed agent")
        await sim.advance(1.0)
        await eventually(lambda: phase_of(app, second) == "talking", what="second talking")


@pytest.mark.wire
async def test_greeting_that_finished_during_a_disconnect_is_not_stuck(sim: Simulator, start_app) -> None:
    async with start_app() as app:
        channel = await sim.inject_call(did="5551000", caller="+15550000003")
        await eventually(lambda: playing(sim, channel), what="greeting")
        await sim.drop_websockets()
        await sim.advance(2.0)  # PlaybackFinished is sent to nobody
        record = await eventually(lambda: ended_record(app, channel), what="call completed after reconnect")
        assert record.outcome == "completed"


async def test_state_is_read_back_after_a_restart(sim: Simulator, start_app) -> None:
    """A waiting caller keeps their place across a restart; a caller who left while we were down is closed."""
    async with start_app(NO_AGENTS_LOGGED_IN) as app:
        stays = await sim.inject_call(did="5552000", caller="+15550000004")
        leaves = await sim.inject_call(did="5552000", caller="+15550000005")
        await through_greeting(sim, stays, leaves)
        assert phase_of(app, stays) == "queued" and phase_of(app, leaves) == "queued"
        before = app.services.channels.call(stays).machine.record
        await app.store.flush()
    await sim.hangup(leaves, cause=16)  # while the process is down
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.5, kind="answer"))
    async with start_app(AGENT) as app:  # now an agent logs in for the queue
        assert phase_of(app, stays) == "ringing"  # the resumed call is offered
        after = app.services.channels.call(stays).machine.record
        assert after.call_id == before.call_id and after.enqueued_at == before.enqueued_at
        gone = await ended_call(app, leaves)  # closed while down
        assert gone.outcome == "ended_while_down"
        kinds = [kind for _, kind, f in await app.store.events() if f.get("call_id") == before.call_id]
        assert "call.resumed" in kinds


async def test_a_call_that_fails_frees_its_agent_and_hangs_up_the_agent_leg(
    sim: Simulator, start_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error as the agent answers fails the call safe: the agent's leg is hung up and the agent,
    still reserved for the call on the board, is made available again instead of being held forever."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0, kind="answer"))
    async with start_app(AGENT) as app:
        channel = await sim.inject_call(did="5552000", caller="+15550000010")
        await through_greeting(sim, channel)
        assert agent_leg_up_in_sim(app, sim, channel), "agent ringing"
        task = app.services.channels.call(channel)
        leg = task.machine.record.agent_channel

        async def broken(channel_id: str) -> None:
            raise RuntimeError("injected fault")

        monkeypatch.setattr(app.ari, "moh_stop", broken)
        await sim.advance(1.5)
        record = await ended_call(app, channel)  # failed safe
        assert record.outcome == "failed"
        assert app.acd.board.agents["a1"].state == "available"  # freed
        assert sim.channel(leg) is None
        assert task.call_id not in app.services.calls and leg not in app.services.channels


async def test_a_monitor_session_on_a_call_that_ended_before_it_ran_is_forgotten(sim: Simulator, start_app) -> None:
    """A supervisor asks to listen in the very loop turn the call ends: the session is dropped, not kept forever."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.5, kind="answer"))
    supervisor = '\n[supervisors.sv1]\nendpoint = "PJSIP/sup1"\n'
    async with start_app(AGENT + supervisor) as app:
        channel = await sim.inject_call(did="5552000", caller="+15550000011")
        await through_greeting(sim, channel)
        assert agent_leg_up_in_sim(app, sim, channel), "ringing"
        await sim.advance(1.0)
        assert phase_of(app, channel) == "talking"
        task = app.services.channels.call(channel)
        app.monitor.start(task.call_id, "sv1", "listen")
        app.services.forget(task)  # the call's task ends before the session's task first runs
        await sim.settle()
        assert not app.monitor.sessions, "session forgotten"
        assert sim.channel(f"{task.call_id}-m1-sup") is None


async def talking_call(app: Application, sim: Simulator, caller: str) -> str:
    """A caller on the support DID, answered by agent1 (whose phone answers after half a second)."""
    channel = await sim.inject_call(did="5552000", caller=caller)
    await through_greeting(sim, channel)
    assert agent_leg_up_in_sim(app, sim, channel), "ringing"
    await sim.advance(1.0)
    assert phase_of(app, channel) == "talking"
    return channel


async def test_shutdown_lets_live_calls_finish_and_sends_new_ones_back(sim: Simulator, start_app) -> None:
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.5, kind="answer"))
    async with start_app(AGENT) as app:
        live = await talking_call(app, sim, "+15550000006")
        app.stop()
        await sim.settle()
        assert app.services.draining
        late = await sim.inject_call(did="5552000", caller="+15550000007")
        assert phase_of(app, late) is None  # not taken: back to the dialplan
        assert phase_of(app, live) == "talking"  # not cut off
        await sim.hangup(live, cause=16)
        assert not app.services.calls, "live call finished"


async def test_a_call_arriving_during_the_drain_is_out_of_stasis_when_the_process_ends(
    sim: Simulator, redis: Redis, redis_url: str, key_prefix: str
) -> None:
    """The drain sends it back to the dialplan (which hangs up) and waits for that before the task tree ends:
    nothing is left inside Stasis, where no process would ever answer it."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.5, kind="answer"))
    assert isinstance(sim.clock, ManualClock)
    config = make_config(sim, redis_url, key_prefix, AGENT)
    app = wiring.application(config, redis=redis, clock=sim.clock, ari_transport=sim.transport)
    with anyio.fail_after(30), waiting_for_redis(sim.clock, redis, app):
        async with anyio.create_task_group() as tg:
            await tg.start(app.run)
            live = await talking_call(app, sim, "+15550000016")
            app.stop()
            await sim.settle()
            assert app.services.draining
            late = await sim.inject_call(did="5552000", caller="+15550000017")
            await sim.hangup(live, cause=16)  # the drain ends: app.run returns by itself
    assert sim.channel(late) is None
    assert [c.id for c in sim.core.channels.values() if c.stasis_app] == []


async def test_unknown_event_is_logged_and_skipped(sim: Simulator, start_app) -> None:
    async with start_app() as app:
        with structlog.testing.capture_logs() as captured:
            await app.dispatcher(UnknownEvent(type="ChannelFlyingAway", reason="unknown type"))
        assert app.metrics.ari_unknown_events._value.get() == 1
        assert captured[0]["event"] == "ari.event_skipped" and captured[0]["event_type"] == "ChannelFlyingAway"
        channel = await sim.inject_call(did="5551000", caller="+15550000008")  # the loop goes on
        assert phase_of(app, channel) == "greeting", "next call handled"


async def test_logs_are_json_with_the_call_id_bound(sim: Simulator, start_app) -> None:
    stream = io.StringIO()
    logs.configure("info", "json", stream=stream, cache=False)
    try:
        sim.add_phone("PJSIP/agent1", PhoneBehaviour(kind="busy"))
        async with start_app(AGENT) as app:
            channel = await sim.inject_call(did="5552000", caller="+15550000009")
            await through_greeting(sim, channel)
            assert app.acd.board.agents["a1"].state == "not_ready", "busy agent"
            call_id = app.services.channels.call(channel).call_id
    finally:
        structlog.reset_defaults()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    released = [line for line in lines if line["event"] == "agent.released"]
    assert released and released[0]["call_id"] == call_id and released[0]["reason"] == "busy"


@pytest.mark.wire
async def test_a_position_announcement_that_ended_during_a_disconnect_brings_the_music_back(
    sim: Simulator, start_app
) -> None:
    """Its PlaybackFinished went to nobody; after the reconnect the call learns it finished and resumes music."""
    async with start_app(NO_AGENTS_LOGGED_IN) as app:
        channel = await sim.inject_call(did="5552000", caller="+15550000031")
        await greeted_over_wire(sim, channel)
        await eventually(lambda: phase_of(app, channel) == "queued", what="queued")
        task = app.services.channels.call(channel)
        task.deliver(Announce(3))
        await eventually(lambda: playing(sim, channel), what="announcement playing")
        reconnects = app.metrics.ari_reconnects._value.get()
        await sim.drop_websockets()
        await sim.advance(10.0)  # the announcement ends while nobody listens
        await eventually(lambda: app.metrics.ari_reconnects._value.get() > reconnects, what="reconnect")
        await eventually(lambda: task.machine.awaited_playback == "", what="announcement known to be over")


async def test_a_call_whose_caller_left_while_down_frees_its_agent_leg_and_bridge(sim: Simulator, start_app) -> None:
    """The agent's leg and the call's bridge, which nobody ended while the process was down, are ended on start;
    the agent is available again and the recording running in the bridge is closed."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.5, kind="answer"))
    recorded = AGENT + '\n[recording.default]\nmode = "all"\n'
    async with start_app(recorded) as app:
        caller = await sim.inject_call(did="5552000", caller="+15550000012")
        await through_greeting(sim, caller)
        assert agent_leg_up_in_sim(app, sim, caller), "ringing"
        await sim.advance(1.0)
        assert phase_of(app, caller) == "talking"
        record = app.services.channels.call(caller).machine.record
        assert sim.core.live_recordings, "recording"
        await app.store.flush()
    await sim.hangup(caller, cause=16)  # while the process is down: the agent stays in the bridge
    assert sim.channel(record.agent_channel) is not None and sim.bridges()
    async with start_app(recorded) as app:
        gone = await ended_call(app, caller)  # closed while down
        assert gone.outcome == "ended_while_down"
        assert sim.channel(record.agent_channel) is None
        assert sim.bridges() == [] and sim.core.live_recordings == {}
        assert app.acd.board.state("a1") == "available"
        rec = await app.recordings.recordings.get(f"{record.call_id}-r1")
        assert rec is not None and rec.state == "done", "recording closed"
