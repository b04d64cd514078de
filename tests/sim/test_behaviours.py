"""Trunk calls, scripted callers and phones, the traffic generator, WebSocket drops and the /sim control API,
all over real HTTP/WebSocket against the manual clock."""

from __future__ import annotations

import calendar
import time
from typing import Any

import aiohttp
import anyio

from callcenter_ari.sim import CallerScript, PhoneBehaviour, SimConfig, Simulator, TrafficSpec
from tests.sim.conftest import PASSWORD, USER, Client


async def _bridge(client: Client, *channel_ids: str) -> str:
    _, bridge = await client.call("POST", "/ari/bridges", type="mixing")
    status, _ = await client.call("POST", f"/ari/bridges/{bridge['id']}/addChannel", channel=",".join(channel_ids))
    assert status == 204
    return str(bridge["id"])


class TestTrunkCalls:
    async def test_inbound_call_enters_stasis_like_a_pjsip_trunk_call(self, sim: Simulator, client: Client) -> None:
        """One PJSIP channel, state Ring, caller id, from-trunk dialplan and inbound args."""
        channel_id = await sim.inject_call(did="5551000", caller="+15551234567", caller_name="Alice", trunk="prov")
        (start,) = await client.drain()
        channel = start["channel"]
        assert start["type"] == "StasisStart" and start["args"] == ["inbound", "prov", "5551000"]
        assert channel["id"] == channel_id and channel["name"].startswith("PJSIP/prov-")
        assert channel["state"] == "Ring" and channel["caller"] == {"name": "Alice", "number": "+15551234567"}
        assert channel["dialplan"] == {
            "context": "from-trunk",
            "exten": "5551000",
            "priority": 2,
            "app_name": "Stasis",
            "app_data": "callcenter,inbound,prov,5551000",
        }

    async def test_a_call_reaches_only_the_application_its_dialplan_names(self, sim: Simulator, client: Client) -> None:
        """Two applications on one Asterisk (two tenants): StasisStart goes to the one Stasis() names, not the other."""
        other = Client(client.session, client.base)
        await other.connect(app="globex")
        globex_call = await sim.inject_call(did="5553000", caller="+1555", app="globex")
        own_call = await sim.inject_call(did="5551000", caller="+1556")
        [start] = [e for e in await other.drain() if e["type"] == "StasisStart"]
        assert start["application"] == "globex" and start["channel"]["id"] == globex_call
        assert start["channel"]["dialplan"]["app_data"] == "globex,inbound,provider,5553000"
        assert [e["channel"]["id"] for e in await client.drain() if e["type"] == "StasisStart"] == [own_call]

    async def test_a_call_for_an_application_not_connected_is_hung_up(self, sim: Simulator, client: Client) -> None:
        """Stasis() returns at once when its application has no WebSocket; the dialplan then hangs up."""
        channel_id = await sim.inject_call(did="5553000", caller="+1555", app="nobody")
        assert sim.channel(channel_id) is None
        assert "StasisStart" not in [e["type"] for e in await client.drain()]

    async def test_continue_without_a_place_goes_on_after_stasis_and_the_route_hangs_up(
        self, sim: Simulator, client: Client
    ) -> None:
        """As Asterisk: no priority continues after Stasis() (the inbound route then hangs up); priority 1 of
        from-trunk starts the route again, back into the application."""

        async def after(request: Any) -> list[str]:
            seen = len(await client.drain(timeout=0.5))
            await request
            return [e["type"] for e in (await client.drain(timeout=0.5))[seen:]]

        channel_id = await sim.inject_call(did="5551000", caller="+1555")
        assert await after(client.call("POST", f"/ari/channels/{channel_id}/continue")) == ["StasisEnd"]
        assert sim.channel(channel_id) is None
        again = await sim.inject_call(did="5551000", caller="+1556")
        restart = client.call("POST", f"/ari/channels/{again}/continue", context="from-trunk", priority="1")
        assert await after(restart) == ["StasisEnd", "StasisStart"]

    async def test_dahdi_call_is_named_after_its_span(self, sim: Simulator, client: Client) -> None:
        """tech=DAHDI gives DAHDI/i<span>/<number>-<hex>."""
        await sim.inject_call(did="200", caller="5551234", trunk="1", tech="DAHDI")
        (start,) = await client.drain()
        assert start["channel"]["name"].startswith("DAHDI/i1/5551234-")

    async def test_caller_presses_digits_after_answer(self, sim: Simulator, client: Client) -> None:
        """DTMF from the script arrives as ChannelDtmfReceived at the given seconds after answer."""
        script = CallerScript(dtmf=((2.0, "12#"),), digit_gap=0.5)
        channel_id = await sim.inject_call(did="5551000", caller="+1555", script=script)
        await client.call("POST", f"/ari/channels/{channel_id}/answer")
        await sim.advance(1.9)
        await client.drain()
        assert "ChannelDtmfReceived" not in client.types()
        await sim.advance(1.1)
        digits = [(e["digit"], e["duration_ms"]) for e in await client.drain() if e["type"] == "ChannelDtmfReceived"]
        assert digits == [("1", 100), ("2", 100), ("#", 100)]

    async def test_impatient_caller_abandons_if_not_bridged(self, sim: Simulator, client: Client) -> None:
        """patience: hangs up with cause 16 that long after answer when nobody took the call."""
        channel_id = await sim.inject_call(did="1", caller="+1555", script=CallerScript(patience=30.0))
        await client.call("POST", f"/ari/channels/{channel_id}/answer")
        await sim.advance(30.0)
        events = await client.drain()
        hangup = next(e for e in events if e["type"] == "ChannelHangupRequest")
        assert hangup["cause"] == 16 and "soft" not in hangup
        assert client.types()[-1] == "StasisEnd"

    async def test_caller_talks_then_hangs_up_once_bridged(self, sim: Simulator, client: Client) -> None:
        """talk: the caller hangs up that long after being bridged with an agent, not before."""
        sim.add_phone("PJSIP/agent1001", PhoneBehaviour(answer_after=2.0))
        caller = await sim.inject_call(did="1", caller="+1555", script=CallerScript(patience=60.0, talk=10.0))
        await client.call("POST", f"/ari/channels/{caller}/answer")
        status, agent = await client.call(
            "POST", "/ari/channels", endpoint="PJSIP/agent1001", app="callcenter", appArgs="agent,1001"
        )
        assert status == 200 and agent["state"] == "Down"
        await sim.advance(2.0)
        await _bridge(client, caller, agent["id"])
        await sim.advance(9.9)
        assert sim.channel(caller) is not None
        await sim.advance(0.2)
        assert sim.channel(caller) is None
        await client.drain()
        left = [e for e in client.events if e["type"] == "ChannelLeftBridge"]
        assert [e["channel"]["id"] for e in left] == [caller]


class TestPhones:
    async def test_phone_answers_with_dial_events(self, sim: Simulator, client: Client) -> None:
        """Dial "" -> Ringing -> Dial RINGING -> Up -> Dial ANSWER -> StasisStart with the appArgs."""
        sim.add_phone("PJSIP/agent1001", PhoneBehaviour(answer_after=3.0))
        _, channel = await client.call(
            "POST",
            "/ari/channels",
            endpoint="PJSIP/agent1001",
            app="callcenter",
            appArgs="agent,1001",
            callerId="Queue <100>",
        )
        await sim.advance(3.0)
        events = await client.drain()
        summary = [(e["type"], e.get("dialstatus", e.get("channel", {}).get("state"))) for e in events]
        assert summary == [
            ("Dial", ""),
            ("ChannelStateChange", "Ringing"),
            ("Dial", "RINGING"),
            ("ChannelStateChange", "Up"),
            ("Dial", "ANSWER"),
            ("ChannelVarset", "Up"),
            ("StasisStart", "Up"),
        ]
        assert events[-1]["args"] == ["agent", "1001"] and events[-1]["channel"]["id"] == channel["id"]
        assert events[-1]["channel"]["name"].startswith("PJSIP/agent1001-")

    async def test_phone_that_does_not_answer_is_destroyed_at_the_timeout(self, sim: Simulator, client: Client) -> None:
        """noanswer: rings until the originate timeout, then ChannelDestroyed cause 19, no final Dial."""
        sim.add_phone("PJSIP/agent1002", PhoneBehaviour(kind="noanswer"))
        await client.call("POST", "/ari/channels", endpoint="PJSIP/agent1002", app="callcenter", timeout="15")
        await sim.advance(15.0)
        events = await client.drain()
        assert [e.get("dialstatus") for e in events if e["type"] == "Dial"] == ["", "RINGING"]
        assert (events[-1]["type"], events[-1]["cause"]) == ("ChannelDestroyed", 19)

    async def test_busy_and_congested_phones(self, sim: Simulator, client: Client) -> None:
        """busy: Dial BUSY and cause 17; congestion: Dial CONGESTION and cause 34."""
        sim.add_phone("PJSIP/*@provider", PhoneBehaviour(kind="busy"))
        sim.add_phone("PJSIP/+15550009999@provider", PhoneBehaviour(kind="congestion"))
        await client.call("POST", "/ari/channels", endpoint="PJSIP/+15550001111@provider", app="callcenter")
        await client.call("POST", "/ari/channels", endpoint="PJSIP/+15550009999@provider", app="callcenter")
        events = await client.drain()
        assert [e["dialstatus"] for e in events if e["type"] == "Dial"] == ["", "BUSY", "", "CONGESTION"]
        assert [e["cause"] for e in events if e["type"] == "ChannelDestroyed"] == [17, 34]

    async def test_an_originator_must_exist_and_excludes_formats(self, sim: Simulator, client: Client) -> None:
        """As resource_channels.c checks them: a 400 for an originator that is gone, and for both an originator
        and formats; an originator that is up is taken."""
        sim.add_phone("PJSIP/agent1003", PhoneBehaviour(kind="answer"))
        gone = await client.call("POST", "/ari/channels", endpoint="PJSIP/agent1003", app="callcenter", originator="x1")
        assert gone == (400, {"message": "Provided originator channel was not found"})
        caller = await sim.inject_call(did="5551000", caller="+1555")
        both = await client.call(
            "POST", "/ari/channels", endpoint="PJSIP/agent1003", app="callcenter", originator=caller, formats="ulaw"
        )
        assert both == (400, {"message": "Originator and formats can't both be specified"})
        status, _ = await client.call(
            "POST", "/ari/channels", endpoint="PJSIP/agent1003", app="callcenter", originator=caller
        )
        assert status == 200 and sim.api.originates[-1]["originator"] == caller

    async def test_unregistered_endpoint_and_unknown_technology_fail_allocation(self, client: Client) -> None:
        """No contact for the endpoint, or no such channel driver: 500 {"error": "Allocation failed"}."""
        for endpoint in ("PJSIP/nobody", "FOO/bar"):
            assert await client.call("POST", "/ari/channels", endpoint=endpoint, app="callcenter") == (
                500,
                {"error": "Allocation failed"},
            )

    async def test_answering_machine_is_detected_through_continue(self, sim: Simulator, client: Client) -> None:
        """continue to cc-amd-stasis returns to the app with args [amd, MACHINE, ...] on the same channel."""
        sim.add_phone("PJSIP/*@provider", PhoneBehaviour(answer_after=1.0, kind="machine"))
        _, channel = await client.call("POST", "/ari/channels", endpoint="PJSIP/+1555@provider", app="callcenter")
        await sim.advance(1.0)
        await client.call(
            "POST", f"/ari/channels/{channel['id']}/continue", context="cc-amd-stasis", extension="s", priority="1"
        )
        await sim.advance(3.0)
        starts = [e for e in await client.drain() if e["type"] == "StasisStart"]
        assert starts[-1]["args"] == ["amd", "MACHINE", "MAXWORDS-3-2"]
        assert await client.call("GET", f"/ari/channels/{channel['id']}/variable", variable="AMDSTATUS") == (
            200,
            {"value": "MACHINE"},
        )


class TestTrafficAndConnection:
    async def test_traffic_generator_is_seeded_and_paced(self, sim: Simulator, client: Client) -> None:
        """10 calls at 2 per second over two DIDs: half after 2.5 s, all after 5 s, same draw for the same seed."""
        handle = sim.start_traffic(TrafficSpec(calls=10, rate=2.0, dids=("100", "200")))
        await sim.advance(2.4)
        assert handle.injected == 5
        await sim.advance(2.6)
        assert await handle == 10
        starts = [e for e in await client.drain() if e["type"] == "StasisStart"]
        assert len(starts) == 10 and {s["args"][2] for s in starts} == {"100", "200"}
        again = Simulator(sim.config)
        burst = again.start_traffic(TrafficSpec(calls=10, dids=("100", "200")))
        await again.advance(0)
        assert burst.done and burst.calls == handle.calls  # same seed, same draw, burst or paced
        assert handle.calls == [(s["args"][2], s["channel"]["caller"]["number"]) for s in starts]

    async def test_drop_keeps_channels_and_rejects_new_calls_until_reconnect(
        self, sim: Simulator, client: Client
    ) -> None:
        """Channels stay in Stasis while no WebSocket is connected; a new call then is hung up at once."""
        kept = await sim.inject_call(did="1", caller="+1555")
        await client.drain()
        assert await sim.drop_websockets() == 1
        rejected = await sim.inject_call(did="1", caller="+1666")
        assert sim.channel(rejected) is None and sim.channel(kept) is not None
        status, app = await client.call("GET", "/ari/applications/callcenter")
        assert status == 200 and app["channel_ids"] == [kept]
        await client.connect()
        await client.call("DELETE", f"/ari/channels/{kept}")
        assert [e["type"] for e in await client.drain()][-2:] == ["ChannelHangupRequest", "StasisEnd"]

    async def test_second_websocket_replaces_the_first(self, sim: Simulator, client: Client) -> None:
        """ApplicationReplaced goes to the older socket; events then go to the newest."""
        first = client.ws
        await client.connect()
        assert first is not None
        msg = await first.receive(timeout=1)
        assert msg.json()["type"] == "ApplicationReplaced"
        await sim.inject_call(did="1", caller="+1555")
        assert [e["type"] for e in await client.drain()] == ["StasisStart"]
        await first.close()

    async def test_control_api_drives_the_outside_world(self, sim: Simulator, client: Client) -> None:
        """/sim: inject, press, phones, clock, stats, hang up, all JSON over HTTP with ARI's credentials."""
        status, body = await client.call("GET", "/sim/stats")
        assert status == 200 and body["channels_live"] == 0
        async with client.session.post(
            client.base + "/sim/calls",
            params={"api_key": "asterisk:secret"},
            json={"did": "5551000", "caller": "+1555", "script": {"patience": 5}},
        ) as r:
            channel_id = (await r.json())["channel_id"]
        async with client.session.post(
            client.base + f"/sim/channels/{channel_id}/dtmf",
            params={"api_key": "asterisk:secret"},
            json={"digits": "9"},
        ) as r:
            assert r.status == 200
        async with client.session.post(
            client.base + "/sim/clock/advance", params={"api_key": "asterisk:secret"}, json={"seconds": 1}
        ) as r:
            assert r.status == 200
        async with client.session.post(
            client.base + f"/sim/channels/{channel_id}/hangup",
            params={"api_key": "asterisk:secret"},
            json={"cause": 16},
        ) as r:
            assert r.status == 200
        assert [e["type"] for e in await client.drain()] == [
            "StasisStart",
            "ChannelDtmfReceived",
            "ChannelHangupRequest",
            "StasisEnd",
        ]
        async with client.session.get(client.base + "/sim/stats") as r:
            assert r.status == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="Asterisk REST Interface"'


async def test_stored_recording_file_is_a_wav(sim: Simulator, client: Client) -> None:
    """A stopped bridge recording is stored, listed and downloadable as a WAV file."""
    caller = await sim.inject_call(did="1", caller="+1555")
    bridge = await _bridge(client, caller)
    assert (await client.call("POST", f"/ari/bridges/{bridge}/record", name="r1", format="wav"))[0] == 201
    await sim.advance(3.0)
    assert await client.call("POST", "/ari/recordings/live/r1/stop") == (204, None)
    assert await client.call("GET", "/ari/recordings/stored") == (200, [{"name": "r1", "format": "wav"}])
    async with client.session.get(
        client.base + "/ari/recordings/stored/r1/file", params={"api_key": "asterisk:secret"}
    ) as resp:
        data = await resp.read()
    assert resp.status == 200 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"


async def test_a_wall_clock_simulator_stamps_events_with_the_hosts_time() -> None:
    """Asterisk's event timestamps are the host's time; latency measured from them (the surge's) must not carry a
    constant offset: a simulator started on a whole second ran up to 999 ms behind the host."""
    wall = Simulator(SimConfig(username=USER, password=PASSWORD, seed=3))
    async with wall.serve() as server, aiohttp.ClientSession() as session:
        c = Client(session, server.base_url)
        for _ in range(5):
            before = time.time()
            status, body = await c.call("GET", "/ari/asterisk/ping")
            after = time.time()
            assert status == 200
            stamp = _epoch(body["timestamp"])
            # millisecond resolution, truncated: the stamp lies within the request's span, give or take 1 ms
            assert before - 0.002 <= stamp <= after + 0.001, (before, stamp, after)
            await anyio.sleep(0.13)


def _epoch(stamp: str) -> float:
    return calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + int(stamp[20:23]) / 1000
