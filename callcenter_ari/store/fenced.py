"""Plain writes (no Lua) under a hot standby's fencing token: a transaction watched on the node's token.

The stores that write to Redis directly, not through the call store's batches (``store/redis.py``), take the
fence from a ``FenceSource``: the call store's current fence (None without a standby, or before the lease is
held). Scripts are fenced inside Redis (``store/scripts.py``); the writes here are MULTI/EXEC transactions run only
while Redis holds this process's token (``guard``). Without a fence nothing changes: no WATCH, no extra command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from callcenter_ari.fencing import Fence, Fenced

log = structlog.get_logger(__name__)

# The fence to write under now: None without a hot standby. A callable, because the fence exists only once the
# process holds the node's lease, after the stores are built (runtime/app.py).
FenceSource = Callable[[], Fence | None]


def unfenced() -> Fence | None:
    """The fence source of a process without a hot standby (and of tools that write outside the node)."""
    return None


async def guard(pipe: Pipeline, fence: Fence | None) -> None:
    """Before a transaction's MULTI: watch the node's token in ``pipe`` and raise ``Fenced`` if it is another's
    already. The transaction then runs only if the token did not change before its EXEC (``WatchError`` if it did:
    the caller tries again, and ``guard`` then says whose it is)."""
    if fence is None:
        return
    fence.check()
    await pipe.watch(fence.key)
    current = await pipe.get(fence.key)
    if not fence.matches(current):
        log.error("standby.write_fenced", token=fence.token, current=None if current is None else int(current))
        raise Fenced(f"another process holds the node (token {current!r}, this process's {fence.token})")


async def write(
    redis: Redis,
    fence: Fence | None,
    fill: Callable[[Pipeline], object],
    *,
    transaction: bool = True,
    raise_on_error: bool = True,
) -> list[Any]:
    """Run the commands ``fill`` queues: as a pipeline (a transaction if ``transaction``) without a fence, as a
    transaction fenced on the node's token with one. Returns the commands' results."""
    if fence is None:
        async with redis.pipeline(transaction=transaction) as pipe:
            fill(pipe)
            return await pipe.execute(raise_on_error=raise_on_error)
    while True:
        async with redis.pipeline(transaction=True) as pipe:
            await guard(pipe, fence)
            pipe.multi()  # type: ignore[no-untyped-call]
            fill(pipe)
            try:
                return await pipe.execute(raise_on_error=raise_on_error)
            except WatchError:
                continue  # the token moved meanwhile: ``guard`` reads it again
