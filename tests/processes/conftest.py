"""Fixtures for tests of real processes: a simulator served by the test, and a cluster of app subprocesses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.processes.harness import Cluster, simulated


@pytest.fixture
async def cluster(redis: Redis, redis_url: str, key_prefix: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """A simulator on a real clock, and room for app processes of tenant t1; every process is killed at the end."""
    async with simulated(redis_url, key_prefix, tmp_path, seed=11) as group:
        yield group


@pytest.fixture
async def unbound(key_prefix: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """The same with no Redis URL: the test gives its processes a ``[redis]`` of their own (Sentinel, Cluster)."""
    async with simulated("", key_prefix, tmp_path, seed=7) as group:
        yield group
