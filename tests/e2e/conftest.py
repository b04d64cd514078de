"""End-to-end fixtures: the simulator on loopback, the application connected to it over real HTTP/WebSocket,
and a real Redis under a per-test key prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import msgspec
import pytest
from redis.asyncio import Redis

from callcenter_ari.config import HttpSection
from callcenter_ari.runtime.app import Application
from callcenter_ari.runtime.clock import Clock
from callcenter_ari.sim import SimConfig, Simulator
from tests.e2e.helpers import PASSWORD, USER, make_config
from tests.webhooks.helpers import NO_DNS


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(SimConfig(app="callcenter", username=USER, password=PASSWORD, seed=7, clock="manual"))
    async with simulator.serve(host="127.0.0.1", port=0) as server:
        simulator.base_url = server.base_url  # type: ignore[attr-defined]
        yield simulator


@pytest.fixture
def start_app(sim: Simulator, redis: Redis, redis_url: str, key_prefix: str):
    """Start the application in the background; returns it once connected and recovered."""

    @asynccontextmanager
    async def start(extra: str = "", *, http: bool = False, **ari: Any) -> AsyncIterator[Application]:
        config = make_config(sim, redis_url, key_prefix, extra, **ari)
        if http:
            config = msgspec.structs.replace(config, http=HttpSection(enabled=True, host="127.0.0.1", port=0))
        app = Application(config, redis=redis, clock=Clock(), resolver=NO_DNS)  # webhooks: no name resolves
        async with anyio.create_task_group() as tg:
            await tg.start(app.run)
            try:
                yield app
            finally:
                tg.cancel_scope.cancel()

    return start
