"""The Simulator facade: one object that owns the clock, the model, the event hub and the HTTP server.

With the manual clock, every action of the outside world (a call arriving, a key pressed, a hang-up, time moving)
returns once everything it set off has run (``settle``): an application on the same clock, connected through
the in-process transport (``transport``), has reacted by then, so a test asserts instead of polling.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from callcenter_ari.ari.transport import Endpoint
from callcenter_ari.clock import ManualClock, WallClock
from callcenter_ari.sim.core import Asterisk
from callcenter_ari.sim.hub import Hub
from callcenter_ari.sim.inprocess import InProcessTransport
from callcenter_ari.sim.phones import CallerScript, PhoneBehaviour, PhoneBook
from callcenter_ari.sim.phones import inject_call as place_call
from callcenter_ari.sim.routes import AriApi
from callcenter_ari.sim.server import build_app
from callcenter_ari.sim.traffic import TrafficHandle, TrafficSpec
from callcenter_ari.sim.traffic import start as start_traffic
from callcenter_ari.sim.wire import AriError, Json


@dataclass(frozen=True)
class SimConfig:
    app: str = "callcenter"
    username: str = "callcenter"  # the ARI user of asterisk/etc and of the example configuration
    password: str = "asterisk"
    seed: int = 1
    clock: Literal["manual", "real"] = "real"
    speed: float = 1.0
    start_time: float | None = None  # simulated unix time at start; None: now
    sounds: dict[str, float] = field(default_factory=dict)  # extra sound:<name> durations in seconds
    default_phone: PhoneBehaviour | None = None  # for originates to endpoints nobody registered
    # Asterisk 22 passes the replies to REST over WebSocket through the application's event filter; False sends them
    # whatever the filter (to measure a commit of this project from before it listed RESTResponse in its filter).
    filter_replies: bool = True


@dataclass(frozen=True)
class Server:
    base_url: str
    host: str
    port: int


class Simulator:
    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config = config or SimConfig()
        self.rng = random.Random(config.seed)
        # A manual clock starts on a whole second (repeatable ids and timestamps); a wall clock starts now, as
        # Asterisk's timestamps are the host's time: started on the second it ran 0-999 ms behind the host.
        self.clock: ManualClock | WallClock = (
            ManualClock(config.start_time if config.start_time is not None else float(int(time.time())))
            if config.clock == "manual"
            else WallClock(config.speed, start=config.start_time)
        )
        self.hub = Hub(self.clock.now)
        self.core = Asterisk(self.clock, self.hub, self.rng, config.sounds)
        self.phones = PhoneBook(config.default_phone)
        self.api = AriApi(self.core, self.phones)
        self.traffic: list[TrafficHandle] = []
        self.calls_injected = 0

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[Server]:
        runner = web.AppRunner(build_app(self), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        try:
            yield Server(f"http://{host}:{bound}", host, bound)
        finally:
            for handle in self.traffic:
                handle.stop()
            await self.hub.drop_all()
            await runner.cleanup()

    def transport(self, endpoint: Endpoint) -> InProcessTransport:
        """A transport of the production ARI client that reaches this simulator with no socket (one per connection,
        as ``AriClient`` asks for a new one on every reconnect): ``Application(..., ari_transport=sim.transport)``."""
        return InProcessTransport(self, endpoint)

    async def settle(self) -> None:
        """Manual clock: wait until everything runnable has run (``ManualClock.idle``); real clock: one turn."""
        if isinstance(self.clock, ManualClock):
            await self.clock.idle()
        else:
            await asyncio.sleep(0)

    # ------------------------------------------------------------------ the outside world
    def place_call(
        self,
        did: str,
        caller: str,
        caller_name: str = "",
        trunk: str = "provider",
        script: CallerScript | None = None,
        tech: str = "PJSIP",
        app: str = "",
    ) -> str:
        self.calls_injected += 1
        ch = place_call(
            self.core,
            app or self.config.app,
            did=did,
            caller=caller,
            caller_name=caller_name,
            trunk=trunk,
            script=script or CallerScript(),
            tech=tech,
        )
        return ch.id

    async def inject_call(
        self,
        did: str,
        caller: str,
        caller_name: str = "",
        trunk: str = "provider",
        script: CallerScript | None = None,
        tech: str = "PJSIP",
        app: str = "",
    ) -> str:
        """A call from a trunk reaches Stasis; returns its channel id (already gone if no app is connected).

        ``app``: the application the dialplan's ``Stasis()`` names for this DID (empty: ``SimConfig.app``); only
        that application hears the call, as in Asterisk, where each tenant's DIDs go to its own application.
        """
        channel_id = self.place_call(did, caller, caller_name, trunk, script, tech, app)
        await self.settle()
        return channel_id

    def add_phone(self, endpoint: str, behaviour: PhoneBehaviour) -> None:
        """Register what `endpoint` (`PJSIP/agent1001`, `PJSIP/*@provider`, `DAHDI/g1/*`) does when called."""
        self.phones.add(endpoint, behaviour)

    async def press(self, channel_id: str, digits: str, gap: float = 0.0) -> None:
        """The far end presses digits (ChannelDtmfReceived); with a gap, later digits follow on the clock."""
        ch = self.core.get_channel(channel_id)
        for i, digit in enumerate(digits):
            if i == 0 or gap <= 0:
                self.core.dtmf_received(ch, digit, 100)
            else:
                self.core.later(ch, i * gap, lambda d=digit: self.core.dtmf_received(ch, d, 100))
        await self.settle()

    async def hangup(self, channel_id: str, cause: int = 16) -> None:
        """The far end hangs up."""
        self.core.hangup(self.core.get_channel(channel_id), cause)
        await self.settle()

    async def advance(self, seconds: float) -> None:
        """Manual clock: move time forward, stopping at each instant something falls due (``ManualClock.advance``),
        so that a connected application reacts to each event before later timers fire."""
        if not isinstance(self.clock, ManualClock):
            raise RuntimeError("advance() needs the manual clock")
        await self.clock.advance(seconds)

    async def drop_websockets(self) -> int:
        """Drop every application's event connection, WebSocket or in-process (a network drop, as the app sees it)."""
        dropped = await self.hub.drop_all()
        await self.settle()
        return dropped

    def start_traffic(self, spec: TrafficSpec) -> TrafficHandle:
        handle = start_traffic(
            self.clock,
            self.rng,
            spec,
            lambda did, caller, name, script: self.place_call(did, caller, name, spec.trunk, script, spec.tech),
        )
        self.traffic.append(handle)
        return handle

    # ------------------------------------------------------------------ snapshots
    def channels(self) -> list[Json]:
        return [c.snapshot() for c in self.core.channels.values()]

    def bridges(self) -> list[Json]:
        return [b.snapshot() for b in self.core.bridges.values()]

    def originates(self, endpoint: str | None = None) -> list[Json]:
        """The originates accepted so far (``endpoint``, ``channel_id`` as asked, ``app_args``), oldest first."""
        return [o for o in self.api.originates if endpoint is None or o["endpoint"] == endpoint]

    def channel(self, channel_id: str) -> Json | None:
        try:
            return self.core.get_channel(channel_id).snapshot()
        except AriError:
            return None

    def stats(self) -> dict[str, Any]:
        return {
            **self.core.counters,
            "calls_injected": self.calls_injected,
            "originates": len(self.api.originates),
            "channels_live": len(self.core.channels),
            "bridges_live": len(self.core.bridges),
            "playbacks_live": len(self.core.playbacks),
            "recordings_live": len(self.core.live_recordings),
            "websockets": len(self.hub.connections),
            "events_sent": self.hub.sent,
            "ws_frames_in": self.hub.frames_in,
            "ws_replies_sent": self.hub.replies_sent,
            "http_requests": self.hub.http_requests,
            "clock": self.clock.now(),
        }
