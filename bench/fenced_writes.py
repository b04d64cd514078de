"""What fencing costs a store that writes on its own (hot standby): a script fenced inside Redis, and a plain write
as a transaction watched on the node's token, each against the same write unfenced. On the Redis of
``CALLCENTER_TEST_REDIS_URL`` (default 127.0.0.1:6379), under a random key prefix removed at the end.

    python -m bench.fenced_writes [count]
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid

from redis.asyncio import Redis

from callcenter_ari.callback.entry import Rules, request
from callcenter_ari.fencing import Fence
from callcenter_ari.store.callbacks import CallbackStore
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from callcenter_ari.store.webhooks import WebhookStore
from callcenter_ari.webhooks.model import Delivery, DeliveryAttempt


async def main(count: int) -> None:
    redis = Redis.from_url(os.environ.get("CALLCENTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    prefix = f"benchfence{uuid.uuid4().hex[:8]}"
    keys = Keys(prefix, "t1")
    await redis.set(keys.node_fence("n1"), 1)
    delivery = Delivery(id="d1", subscription_id="s1", event_id="1-0", type="call.ended", body="{}", created_at=1.0)
    line = DeliveryAttempt(delivery_id="d1", event_id="1-0", type="call.ended", attempt=1, at=1.0, outcome="ok")
    print(f"{'':10} {'callback create (script)':>26} {'webhook record (transaction)':>30}")
    try:
        for label, fence in (("unfenced", None), ("fenced", Fence(keys.node_fence("n1"), 1, lambda: True))):
            store = Store(redis, keys, now=lambda: 0.0, node="n1")
            store.fence = fence
            callbacks = CallbackStore(store)
            started = time.perf_counter()
            for n in range(count):
                number = f"+1{3 if fence else 2}02555{n:04d}"
                entry = request(
                    callback_id=f"{label}{n}", queue="q", number=number, origin="virtual_hold", rules=Rules(), now=1.0
                )
                await callbacks.create(entry.entry)
            script = (time.perf_counter() - started) / count * 1e6
            webhooks = WebhookStore(redis, keys, fence=lambda fence=fence: fence)
            started = time.perf_counter()
            for _ in range(count):
                await webhooks.record(delivery, line, log_size=10, ttl=60.0)
            transaction = (time.perf_counter() - started) / count * 1e6
            print(f"{label:10} {script:>23.0f} us {transaction:>27.0f} us")
    finally:
        async for key in redis.scan_iter(match=f"{prefix}:*"):
            await redis.delete(key)
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
