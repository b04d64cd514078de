"""Fixtures for tests of real processes: a simulator served by the test, and a cluster of app subprocesses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from callcenter_ari.sim import SimConfig, Simulator
from tests.processes.harness import PASSWORD, USER, Cluster


@pytest.fixture
async def cluster(redis: Redis, redis_url: str, key_prefix: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """A simulator on a real clock, and room for app processes of tenant t1; every process is killed at the end."""
    sim = Simulator(SimConfig(app="cc1", username=USER, password=PASSWORD, seed=11, clock="real"))
    async with sim.serve(host="127.0.0.1", port=0) as server:
        group = Cluster(sim, server.base_url, redis_url, key_prefix, tmp_path)
        try:
            yield group
        finally:
            group.stop_all()
