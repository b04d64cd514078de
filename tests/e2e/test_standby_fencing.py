"""Every store a process writes with is wired to its node's fence: the application active under a hot standby's
lease, another token put in Redis (another process took the node, and this one cannot know yet: its lease is still
good by its own clock), then a write of each family through the application's own services is refused with
``Fenced`` and lands nothing. Over the wire (wall time): the lease's renewals and sleeps are real."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from callcenter_ari.callback.entry import Rules, request
from callcenter_ari.campaigns.model import Lead
from callcenter_ari.config import node_of
from callcenter_ari.dialer.messages import Recorded
from callcenter_ari.fencing import Fenced
from callcenter_ari.sim import Simulator
from callcenter_ari.store.connection import tenant_keys
from callcenter_ari.store.instances import Instances
from callcenter_ari.webhooks.model import Delivery
from tests.e2e.helpers import AGENT, make_config
from tests.tickets.helpers import facts

pytestmark = pytest.mark.wire

# A long lease: the process's own renewal (every quarter of it) must not find the other token before the test
# has tried every write.
STANDBY = """
[standby]
enabled = true
lease_seconds = 30
poll_seconds = 0.1
"""


async def test_every_store_of_the_application_writes_under_the_nodes_token(
    start_app: Any, sim: Simulator, redis: Redis, redis_url: str, key_prefix: str
) -> None:
    config = make_config(sim, redis_url, key_prefix, STANDBY + AGENT)
    keys = tenant_keys(config.redis, config.app.tenant)
    fence_key = keys.node_fence(node_of(config))
    await redis.set(fence_key, 0)  # a token there already: the first taking does not wait (store/lease.py)
    async with start_app(STANDBY + AGENT) as app:
        assert app.role == "active" and app.store.fence is not None
        await app.store.flush()
        await redis.incr(fence_key)  # another process took the node
        before = await snapshot(redis, key_prefix, fence_key)
        number = "+12025550143"
        entry = request(callback_id="k1", queue="support", number=number, origin="virtual_hold", rules=Rules(), now=1.0)
        delivery = Delivery(id="d1", subscription_id="s1", event_id="1-0", type="call.ended", body="{}", created_at=1.0)
        writes = {
            "ticket": app.tickets.open(facts("c1")),
            "webhook delivery": app.webhooks.store.create([delivery]),
            "webhook claim": app.webhooks.store.claim([("s1", "d1")], 1.0, 2.0),
            "seat": app.agent_store.renew_seats(["a1"]),
            "presence": Instances(app.store).renew(app.instance, 5.0),
            "callback": app.callbacks.store.create(entry.entry),
            "lead": app.campaigns.leads.add("c1", [Lead(id="l1", number=number)], 1.0),
            "dialer ledger": app.dialer.ledger.append("c1", Recorded(1.0, "l1", "connected")),
        }
        refused = []
        for what, write in writes.items():
            try:
                await write
            except Fenced:
                refused.append(what)
        assert refused == list(writes)
        assert await snapshot(redis, key_prefix, fence_key) == before
        await redis.decr(fence_key)  # the node back to it, so that its last flush on the way out is not refused


async def snapshot(redis: Redis, prefix: str, fence_key: str) -> dict[bytes, bytes | None]:
    found: dict[bytes, bytes | None] = {}
    async for key in redis.scan_iter(match=f"{prefix}:*", count=1000):
        if key.decode() != fence_key:
            found[key] = await redis.dump(key)
    return found
