"""A callback being connected while Redis falters (the fault suite's ``redis_restart_aof``, one run in four: the
callback left ``dialing`` for good after its customer was dialed once). Each step of an attempt is one versioned
write (``store/callbacks.py``); here one of them meets, exactly once, what a Redis restart does to a write:

- refused: the connection is gone (a pooled connection from before the restart), the write never reached Redis;
- answer lost: Redis applied the write, and the connection broke before its answer came back;
- rolled back: Redis acknowledged the write and then lost it (an append-only file synced every second, a failover
  to a replica behind), so that Redis holds the version before it.

Whichever it is, the callback ends connected, its customer dialed once, agent and customer in one bridge."""

from __future__ import annotations

from typing import Literal

import msgspec
import pytest
from redis.asyncio import Redis

from callcenter_ari.callback.entry import Entry
from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import PhoneBehaviour, Simulator
from callcenter_ari.store.callbacks import CallbackStore, Stored
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.store.redis import Store
from tests.e2e.helpers import eventually
from tests.e2e.test_callback import CONFIG

NUMBER = "+12025550177"
Fault = Literal["refused", "answer_lost", "rolled_back"]


class FalteringRedis(CallbackStore):
    """The real store on the real Redis, whose first write of the chosen step meets ``fault`` once."""

    def __init__(self, store: Store, fault: Fault, step: Literal["attempt", "connected"]) -> None:
        super().__init__(store)
        self._redis = store.redis
        self._key = store.keys.callback
        self.fault: Fault | None = fault
        self.step = step

    def _chosen(self, entry: Entry) -> bool:
        if self.step == "attempt":
            return entry.state == "dialing" and entry.attempts == 1
        return entry.state == "connected"

    async def update(self, stored: Stored, entry: Entry, *, owner: str = "") -> Stored:
        fault = self.fault
        if fault is None or not self._chosen(entry):
            return await super().update(stored, entry, owner=owner)
        self.fault = None
        if fault == "refused":
            raise StoreUnavailable("network:ConnectionError")
        before = await self._redis.hgetall(self._key(entry.id))
        written = await super().update(stored, entry, owner=owner)
        if fault == "answer_lost":
            raise StoreUnavailable("network:ConnectionError")
        await self._redis.delete(self._key(entry.id))  # rolled back: Redis holds the version before it again
        await self._redis.hset(self._key(entry.id), mapping=before)
        return written


@pytest.mark.parametrize(
    ("fault", "step"),
    [
        ("refused", "connected"),
        ("answer_lost", "attempt"),
        ("rolled_back", "attempt"),
        ("answer_lost", "connected"),
    ],
)
async def test_a_callback_whose_write_meets_a_redis_fault_is_connected_once(
    sim: Simulator, start_app, fault: Fault, step: Literal["attempt", "connected"]
) -> None:
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0))
    sim.add_phone(f"PJSIP/{NUMBER}@provider1", PhoneBehaviour(answer_after=2.0, talk=30.0))
    async with start_app(CONFIG) as app:
        faltering = FalteringRedis(app.store, fault, step)
        app.callbacks._store = faltering
        entry = await app.callbacks.schedule(queue="support", number=NUMBER)
        await app.acd.log_in("a1")
        await sim.settle()
        for _ in range(6):
            await sim.advance(1.0)

        async def connected() -> Stored | None:
            await sim.advance(0.5)
            stored = await faltering.get(entry.id)
            return stored if stored is not None and stored.entry.state == "connected" else None

        stored = await eventually(connected, timeout=10.0, what=f"the callback connected (Redis: {fault} {step})")
        assert faltering.fault is None, "the fault was met"
        assert stored.entry.attempts == 1
        customer = [o["channel_id"] for o in sim.originates(f"PJSIP/{NUMBER}@provider1")]
        assert customer == [f"{entry.id}-k1"], "its customer dialed once"
        bridged = [set(b["channels"]) for b in sim.bridges()]
        assert {f"{entry.id}-a1", f"{entry.id}-k1"} in bridged, "agent and customer talk"
        assert await _live(app) == [], "nothing left live in Redis"


async def _live(app: Application) -> list[str]:
    return [stored.entry.id for stored in await app.callbacks._store.live()]


class TestTheMirrorComparedWithRedis:
    async def test_a_callback_left_dialing_under_this_process_by_none_of_its_attempts_is_settled(
        self, sim: Simulator, start_app
    ) -> None:
        """A claim Redis applied whose answer never came back, given up by the process: dialing under its own name
        with no attempt of its own connecting it, it is settled as interrupted at the next comparison (nobody else
        would: its owner is alive)."""
        async with start_app(CONFIG) as app:
            service = app.callbacks
            entry = await service.schedule(queue="support", number=NUMBER)
            stored = await service._store.get(entry.id)
            assert stored is not None and stored.entry.state == "due"
            claimed = msgspec.structs.replace(stored.entry, state="dialing")
            await service._store.update(stored, claimed, owner=service._instance)
            await service.sync()
            after = await service._store.get(entry.id)
            assert after is not None and after.entry.state == "retry", after
            assert after.entry.last_outcome == "interrupted"

    async def test_a_redis_that_went_back_a_version_gets_the_newer_one_back(
        self, sim: Simulator, start_app, redis: Redis
    ) -> None:
        """Redis acknowledged a change (rescheduled) and lost it: the process's mirror holds the newer version,
        which goes back at the next comparison, instead of the mirror and Redis disagreeing for good."""
        async with start_app(CONFIG) as app:
            service = app.callbacks
            entry = await service.schedule(queue="support", number=NUMBER, at=app.clock.now() + 3600)
            key = app.store.keys.callback(entry.id)
            before = await redis.hgetall(key)
            later = app.clock.now() + 7200
            await service.reschedule(entry.id, later)
            await redis.delete(key)
            await redis.hset(key, mapping=before)  # the reschedule lost by Redis
            await service.sync()
            after = await service._store.get(entry.id)
            assert after is not None and after.entry.not_before == later, after
            assert service.entries[entry.id].version == after.version
