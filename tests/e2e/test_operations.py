"""Every ARI operation the client offers, against the simulator, over both real transports and the in-process one.

The simulator answers as Asterisk 22 does (it is checked against recorded transcripts), so a wrong path, method
or parameter name here fails the way it would fail against a real Asterisk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import pytest

from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.errors import ChannelGone, Conflict, NotFound
from callcenter_ari.ari.events import (
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    ChannelVarset,
    PlaybackFinished,
    RecordingFinished,
    RecordingStarted,
    StasisEnd,
    StasisStart,
)
from callcenter_ari.ari.transport import Endpoint
from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.e2e.helpers import PASSWORD, USER, eventually


class Recorder:
    def __init__(self, sim: Simulator, transport: str) -> None:
        self.events: list[object] = []
        self._sim = sim
        self._wire = transport != "inprocess"

    async def __call__(self, message: object) -> None:
        self.events.append(message)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [e for e in self.events if isinstance(e, kind)]

    async def saw(self, predicate: Callable[[], object], what: str) -> None:
        """Over a socket, wait for the event; in process it has arrived by the time the simulator is settled."""
        if self._wire:
            await eventually(predicate, what=what)
        else:
            await self._sim.settle()
            assert predicate(), what


@asynccontextmanager
async def connected(sim: Simulator, transport: str) -> AsyncIterator[tuple[AriClient, Recorder]]:
    endpoint = Endpoint(sim.base_url, "callcenter", USER, PASSWORD)
    ari = AriClient(endpoint, transport=sim.transport if transport == "inprocess" else transport)  # type: ignore[arg-type]
    recorder = Recorder(sim, transport)
    async with anyio.create_task_group() as tg:
        await tg.start(ari.run, recorder)
        yield ari, recorder
        tg.cancel_scope.cancel()


TRANSPORTS = pytest.mark.parametrize(
    "transport",
    [pytest.param("websocket", marks=pytest.mark.wire), pytest.param("http", marks=pytest.mark.wire), "inprocess"],
)


async def inbound(sim: Simulator, recorder: Recorder) -> str:
    channel = await sim.inject_call(did="5551000", caller="+15551234567")
    await recorder.saw(lambda: any(e.channel.id == channel for e in recorder.of(StasisStart)), "StasisStart")
    return channel


@TRANSPORTS
async def test_channel_operations(sim: Simulator, transport: str) -> None:
    async with connected(sim, transport) as (ari, recorder):
        channel = await inbound(sim, recorder)
        await ari.ring(channel)
        await ari.ring_stop(channel)
        await ari.answer(channel)
        await ari.moh_start(channel, "default")
        await ari.moh_stop(channel)
        await ari.silence_start(channel)
        await ari.silence_stop(channel)
        await ari.hold(channel)
        await ari.unhold(channel)
        await ari.set_variable(channel, "CC_QUEUE", "support")
        await recorder.saw(lambda: recorder.of(ChannelVarset), "ChannelVarset")
        assert await ari.get_variable(channel, "CC_QUEUE") == "support"
        assert await ari.get_variable(channel, "NEVER_SET") is None
        assert await ari.get_variable(channel, "CALLERID(num)") == "+15551234567"
        await ari.send_dtmf(channel, "12#")
        assert (await ari.get_channel(channel)).state == "Up"
        assert channel in {c.id for c in await ari.list_channels()}
        await sim.press(channel, "5")
        await recorder.saw(lambda: recorder.of(ChannelDtmfReceived), "DTMF")
        assert recorder.of(ChannelDtmfReceived)[0].digit == "5"
        await ari.hangup(channel, cause=17)
        with pytest.raises(ChannelGone):
            await ari.answer(channel)


@TRANSPORTS
@pytest.mark.parametrize("media", ["sound:hello-world", "digits:123", "number:42", "tone:ring;tonezone=us"])
async def test_play_and_stop_each_media_kind(sim: Simulator, transport: str, media: str) -> None:
    async with connected(sim, transport) as (ari, recorder):
        channel = await inbound(sim, recorder)
        await ari.answer(channel)
        playback = await ari.play(f"channel:{channel}", media, playback_id=f"pb-{channel}")
        assert playback.id == f"pb-{channel}" and playback.media_uri == media
        await ari.stop_playback(playback.id)
        await recorder.saw(lambda: recorder.of(PlaybackFinished), "PlaybackFinished")
        await ari.stop_playback(playback.id)  # already gone: not an error


@TRANSPORTS
async def test_bridges_originate_snoop_and_recordings(sim: Simulator, transport: str) -> None:
    async with connected(sim, transport) as (ari, recorder):
        sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.5))
        caller = await inbound(sim, recorder)
        await ari.answer(caller)
        holding = await ari.create_bridge("holding")
        assert holding.bridge_type == "holding"
        await ari.add_to_bridge(holding.id, [caller])
        await ari.bridge_moh_start(holding.id, "default")
        await ari.bridge_moh_stop(holding.id)
        with pytest.raises(Conflict):
            await ari.bridge_moh_stop(holding.id)  # "Bridge isn't playing music"
        agent = await ari.originate(
            "PJSIP/agent1",
            app_args=("agent", "a1", "c1"),
            caller_id='"Alice" <+15551234567>',
            ring_timeout=10,
            variables={"CC_CALL": "c1"},
            channel_id="c1-a1",
        )
        assert agent.id == "c1-a1"
        await sim.advance(1.0)
        await recorder.saw(lambda: any(e.channel.id == "c1-a1" for e in recorder.of(StasisStart)), "agent up")
        mixing = await ari.create_bridge("mixing", bridge_id="c1-b")
        await ari.add_to_bridge(mixing.id, [caller, "c1-a1"])  # moves the caller out of the holding bridge
        await recorder.saw(lambda: len(recorder.of(ChannelEnteredBridge)) >= 3, "entered bridges")
        assert {b.id for b in await ari.list_bridges()} == {holding.id, mixing.id}

        snoop = await ari.snoop("c1-a1", spy="both", whisper="out", app_args=("snoop", "whisper"), snoop_id="c1-s")
        assert snoop.id == "c1-s"
        await recorder.saw(lambda: any(e.channel.id == "c1-s" for e in recorder.of(StasisStart)), "snoop up")

        live = await ari.record(f"bridge:{mixing.id}", "c1-rec", format="wav", max_duration=3600)
        assert live.name == "c1-rec"
        await recorder.saw(lambda: recorder.of(RecordingStarted), "RecordingStarted")
        for action in ("pause", "unpause", "mute", "unmute", "stop"):
            await ari.recording_control("c1-rec", action)  # type: ignore[arg-type]
        await recorder.saw(lambda: recorder.of(RecordingFinished), "RecordingFinished")
        assert "c1-rec" in {r.name for r in await ari.stored_recordings()}

        await ari.remove_from_bridge(mixing.id, ["c1-a1"])
        await ari.destroy_bridge(mixing.id)
        await ari.destroy_bridge(holding.id)
        await ari.destroy_bridge(holding.id)  # gone already: not an error
        with pytest.raises(NotFound):
            await ari.remove_from_bridge(holding.id, [caller])


@TRANSPORTS
async def test_continue_subscribe_and_system(sim: Simulator, transport: str) -> None:
    async with connected(sim, transport) as (ari, recorder):
        channel = await inbound(sim, recorder)
        application = await ari.subscribe(f"channel:{channel}")
        assert channel in application.channel_ids
        assert (await ari.application()).name == "callcenter"
        assert (await ari.asterisk_info()).system.entity_id
        await ari.continue_in_dialplan(channel)
        await recorder.saw(lambda: any(e.channel.id == channel for e in recorder.of(StasisEnd)), "left Stasis")


@TRANSPORTS
async def test_requests_sent_without_waiting_keep_their_order_and_report_failures_later(
    sim: Simulator, transport: str
) -> None:
    """With ``on_error``, an operation returns at once over REST over WebSocket and in process (the HTTP
    transport awaits as ever); the requests keep their order, a success reports nothing and a failure comes to
    ``on_error`` as the exception the awaited call raises."""
    async with connected(sim, transport) as (ari, recorder):
        sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.2))
        caller = await inbound(sim, recorder)
        errors: list[Exception] = []
        pending = ari.pending
        await ari.answer(caller, on_error=errors.append)
        playback = await ari.play(f"channel:{caller}", "sound:hello-world", playback_id="pb1", on_error=errors.append)
        bridge = await ari.create_bridge("mixing", bridge_id="b1", on_error=errors.append)
        await ari.add_to_bridge("b1", [caller], on_error=errors.append)  # after the bridge's creation, in order
        leg = await ari.originate(
            "PJSIP/agent1", app_args=("agent",), channel_id="leg1", originator=caller, on_error=errors.append
        )
        assert (playback.id, bridge.id, leg.id) == ("pb1", "b1", "leg1")
        if transport != "http":
            assert ari.pending == pending + 5  # sent, none answered yet: nothing was awaited
        if transport == "http":  # awaited: the failure is raised there and then
            with pytest.raises(ChannelGone):
                await ari.hangup("no-such-channel", on_error=errors.append)
        else:
            await ari.hangup("no-such-channel", on_error=errors.append)
        await ari.stop_playback("no-such-playback", on_error=errors.append)  # gone already: not an error
        await ari.destroy_bridge("no-such-bridge", on_error=errors.append)  # idem
        assert (await ari.get_channel(caller)).state == "Up"  # an awaited request, answered after all of the above
        bridges = {b.id: b for b in await ari.list_bridges()}
        assert caller in bridges["b1"].channels
        if transport != "http":
            assert len(errors) == 1 and isinstance(errors[0], ChannelGone)
            assert errors[0].channel_id == "no-such-channel"
        else:
            assert errors == []
        assert ari.pending == pending
        await ari.hangup(caller)
