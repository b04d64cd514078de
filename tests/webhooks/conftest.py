"""Webhook fixtures: receivers on loopback, a service with short timings, events emitted the way the runtime does."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from tests.webhooks.helpers import Receiver


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[[], Awaitable[Receiver]]]:
    started: list[Receiver] = []

    async def make() -> Receiver:
        receiver = Receiver()
        await receiver.start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.stop()


@pytest.fixture
def emit(redis: Redis, keys: Keys) -> Callable[..., Awaitable[None]]:
    """Append events to the stream through the runtime's own Store."""
    store = Store(redis, keys, now=time.time)

    async def emit_(kind: str, **fields: Any) -> None:
        store.emit(kind, {"at": time.time(), **fields})
        await store.flush()

    return emit_
