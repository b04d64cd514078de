"""End-to-end fixtures: the simulator and the application on one manual clock, joined by the simulator's
in-process transport (the production ARI client, dispatcher and runtime, with no socket), and a real Redis under a
per-test key prefix. Every action of the simulator returns once everything it set off has run, so tests assert
instead of polling.

A test marked ``wire`` runs over real HTTP and WebSocket instead: the simulator on loopback (its clock still
manual), the application on wall time; there it waits with ``eventually``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, nullcontext
from typing import Any

import anyio
import msgspec
import pytest
from redis.asyncio import Redis

from callcenter_ari import wiring
from callcenter_ari.clock import Barrier, ManualClock, WallClock
from callcenter_ari.config import HttpSection
from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import SimConfig, Simulator
from tests.e2e.helpers import IN_PROCESS_URL, PASSWORD, USER, make_config
from tests.webhooks.helpers import NO_DNS


def over_wire(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("wire") is not None


@pytest.fixture
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[Simulator]:
    simulator = Simulator(SimConfig(app="callcenter", username=USER, password=PASSWORD, seed=7, clock="manual"))
    if not over_wire(request):
        simulator.base_url = IN_PROCESS_URL  # type: ignore[attr-defined]
        yield simulator
        return
    async with simulator.serve(host="127.0.0.1", port=0) as server:
        simulator.base_url = server.base_url  # type: ignore[attr-defined]
        yield simulator


def redis_round_trips(redis: Redis, *apps: Application) -> Barrier:
    """What ``ManualClock.idle`` cannot see on the event loop: what the store's flusher holds back for a few
    milliseconds of wall time to gather it (staged writes and the steps riding its next batch, the ACD's among
    them: written now), and an answer still on its way back from Redis. Redis answers in the order it reads; once a
    second PING has come back, every command sent before the first has been answered onto its connection, and the
    loop's next poll sees it."""

    async def barrier() -> None:
        for app in apps:
            await app.store.flush()
        await redis.ping()
        await redis.ping()

    return barrier


@contextmanager
def waiting_for_redis(clock: ManualClock, redis: Redis, *apps: Application) -> Iterator[None]:
    barrier = redis_round_trips(redis, *apps)
    clock.barriers.append(barrier)
    try:
        yield
    finally:
        clock.barriers.remove(barrier)


@pytest.fixture
def start_app(sim: Simulator, redis: Redis, redis_url: str, key_prefix: str, request: pytest.FixtureRequest):
    """Start the application in the background; returns it once connected, recovered and settled."""
    wire = over_wire(request)

    @asynccontextmanager
    async def start(extra: str = "", *, http: bool = False, **ari: Any) -> AsyncIterator[Application]:
        config = make_config(sim, redis_url, key_prefix, extra, **ari)
        if http:
            config = msgspec.structs.replace(config, http=HttpSection(enabled=True, host="127.0.0.1", port=0))
        clock = sim.clock
        assert isinstance(clock, ManualClock)
        barriers: AbstractContextManager[None] = nullcontext()
        if wire:
            app = wiring.application(config, redis=redis, clock=WallClock(), resolver=NO_DNS)
        else:
            app = wiring.application(config, redis=redis, clock=clock, ari_transport=sim.transport, resolver=NO_DNS)
            barriers = waiting_for_redis(clock, redis, app)
        with barriers:
            async with anyio.create_task_group() as tg:
                await tg.start(app.run)
                try:
                    await sim.settle()
                    yield app
                finally:
                    tg.cancel_scope.cancel()

    return start
