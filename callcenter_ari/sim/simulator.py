"""The Simulator facade: one object that owns the clock, the model, the event hub and the HTTP server."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from callcenter_ari.sim.clock import ManualClock, RealClock
from callcenter_ari.sim.core import Asterisk
from callcenter_ari.sim.hub import Hub
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


@dataclass(frozen=True)
class Server:
    base_url: str
    host: str
    port: int


class Simulator:
    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config = config or SimConfig()
        self.rng = random.Random(config.seed)
        start = config.start_time if config.start_time is not None else float(int(time.time()))
        self.clock: ManualClock | RealClock = (
            ManualClock(start) if config.clock == "manual" else RealClock(start, config.speed)
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
        await asyncio.sleep(0)
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
        await asyncio.sleep(0)

    async def hangup(self, channel_id: str, cause: int = 16) -> None:
        """The far end hangs up."""
        self.core.hangup(self.core.get_channel(channel_id), cause)
        await asyncio.sleep(0)

    async def advance(self, seconds: float, step: float | None = None) -> None:
        """Manual clock: move time forward and fire what falls due. With `step`, yield to the event loop between
        steps so that a connected app can react to events before later timers fire."""
        if not isinstance(self.clock, ManualClock):
            raise RuntimeError("advance() needs the manual clock")
        remaining = seconds
        increment = step if step and step > 0 else seconds
        while True:
            chunk = min(increment, remaining)
            self.clock.advance(chunk)
            remaining -= chunk
            for _ in range(3):
                await asyncio.sleep(0)
            if remaining <= 1e-12:
                break

    async def drop_websockets(self) -> int:
        return await self.hub.drop_all()

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
            "clock": self.clock.now(),
        }
