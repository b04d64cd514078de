"""A process's presence in Redis: a stall past the marker's lease is not a loss of Redis's data, a loss is, and a
write-back that fails when Redis goes away again is tried at the next beat instead of ending the process."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import anyio
from redis.asyncio import Redis

from callcenter_ari.runtime.presence import Presence
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store

BEAT = 0.05


class Recorder:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.write_backs = 0  # attempts, failed ones included
        self.resumed = 0

    async def write_back(self) -> None:
        self.write_backs += 1
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("Redis went away again")

    async def resume(self) -> None:
        self.resumed += 1


async def until(condition: Callable[[], Awaitable[bool]] | Callable[[], bool], what: str) -> None:
    """Wait for ``condition`` (a beat or two, however loaded the machine is)."""
    with anyio.fail_after(10):
        while True:
            result = condition()
            if await result if inspect.isawaitable(result) else result:
                return
            await anyio.sleep(BEAT / 2)


def presence_of(store: Store, recorder: Recorder) -> Presence:
    return Presence(
        store, "p1", write_back=recorder.write_back, resume_tickets=recorder.resume, beat=BEAT, ttl=BEAT * 4
    )


async def test_a_marker_gone_with_its_witness_there_is_a_stall_not_a_loss(redis: Redis, keys: Keys) -> None:
    store, recorder = Store(redis, keys, now=lambda: 0.0), Recorder()
    presence = presence_of(store, recorder)
    async with anyio.create_task_group() as tg:
        await tg.start(presence.run)
        await until(lambda: presence.beats >= 1, "a first beat")
        await redis.delete(keys.instance("p1"))  # the lease ran out while the process stalled
        await until(lambda: redis.exists(keys.instance("p1")), "renewed")  # by a beat that found its witness
        assert presence.losses == 0 and recorder.write_backs == 0
        tg.cancel_scope.cancel()


async def test_a_witness_gone_is_a_loss_written_back_once(redis: Redis, keys: Keys) -> None:
    store, recorder = Store(redis, keys, now=lambda: 0.0), Recorder()
    presence = presence_of(store, recorder)
    async with anyio.create_task_group() as tg:
        await tg.start(presence.run)
        await until(lambda: presence.beats >= 1, "a first beat")
        await redis.delete(keys.instance("p1"), keys.instance_witness("p1"))  # Redis lost its data
        await until(lambda: recorder.write_backs >= 1, "written back")
        await until(lambda: recorder.resumed >= 1, "numbering reopened")
        assert presence.losses == 1 and recorder.write_backs == 1
        tg.cancel_scope.cancel()


async def test_a_failed_write_back_is_tried_again_and_never_ends_the_process(redis: Redis, keys: Keys) -> None:
    store, recorder = Store(redis, keys, now=lambda: 0.0), Recorder(failures=2)
    presence = presence_of(store, recorder)
    async with anyio.create_task_group() as tg:
        await tg.start(presence.run)
        await until(lambda: presence.beats >= 1, "a first beat")
        await redis.delete(keys.instance("p1"), keys.instance_witness("p1"))
        await until(lambda: recorder.resumed >= 1, "numbering reopened after a write-back that held")
        assert presence.losses == 1, "one loss"
        assert recorder.write_backs == 3, "written back on the third try, then no more"
        tg.cancel_scope.cancel()
