"""Redis restarted without persistence while calls are up: the process writes back what it holds (the live calls,
the agents, the callers' places in line), the calls go on, and no ticket number already given is given again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from callcenter_ari import config
from callcenter_ari.acd.records import AgentRecord
from callcenter_ari.calls.records import CallRecord
from callcenter_ari.config import node_of
from callcenter_ari.sim import CallerScript, PhoneBehaviour, SimConfig, Simulator
from callcenter_ari.store.keys import Keys
from tests.private_redis import PrivateRedis
from tests.processes.harness import PASSWORD, USER, Cluster, until

pytestmark = pytest.mark.slow


@pytest.fixture
async def lonely(private_redis: PrivateRedis, key_prefix: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """A cluster on a Redis of the test's own, which it restarts empty."""
    sim = Simulator(SimConfig(app="cc1", username=USER, password=PASSWORD, seed=3, clock="real"))
    async with sim.serve(host="127.0.0.1", port=0) as server:
        group = Cluster(sim, server.base_url, f"redis://127.0.0.1:{private_redis.port}/0", key_prefix, tmp_path)
        try:
            yield group
        finally:
            group.stop_all()


async def test_a_redis_that_lost_its_data_gets_back_what_the_process_holds(
    lonely: Cluster, private_redis: PrivateRedis
) -> None:
    cluster = lonely
    redis = Redis(host="127.0.0.1", port=private_redis.port)
    keys = Keys(cluster.prefix, "t1")
    cluster.sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.1))
    app = cluster.add("cc1", agents=("agent1",))
    app.start()
    await app.ready()
    first = await cluster.sim.inject_call("5552000", "+15550003001", script=CallerScript(talk=0.3))
    await until(lambda: cluster.sim.channel(first) is None, 15, "a first call handled")
    [given] = await until(lambda: redis.keys(f"{keys.base}:ticket:T-*"), 15, "its ticket")
    talking = await cluster.sim.inject_call("5552000", "+15550003002", script=CallerScript(max_duration=600))
    waiting = await cluster.sim.inject_call("5552000", "+15550003003", script=CallerScript(max_duration=600))

    async def agent() -> AgentRecord | None:
        blob = await redis.hget(keys.agent("agent1"), "record")
        return msgspec.json.decode(blob, type=AgentRecord) if blob else None

    before = await until(lambda: _talking(agent), 15, "agent1 talking")
    await until(lambda: redis.zcard(keys.queue("support")), 15, "a caller waiting")

    private_redis.stop()
    private_redis.start()  # empty
    assert await redis.dbsize() == 0

    restored = await until(lambda: _talking(agent), 15, "agent1 written back")
    assert restored.call_id == before.call_id
    live = {m.decode() for m in await redis.smembers(keys.live_calls(node_of(config.load(app.config))))}
    records = [msgspec.json.decode(b, type=CallRecord) for b in await redis.mget([keys.call(c) for c in live])]
    assert {r.channel_id for r in records} == {talking, waiting}
    assert await redis.zcard(keys.queue("support")) == 1

    await cluster.sim.hangup(talking, 16)  # the conversation goes on to its end, and the waiting caller is served
    await until(lambda: _bridged(cluster, waiting), 20, "the waiting caller answered by agent1")
    await cluster.sim.hangup(waiting, 16)
    numbers = await until(lambda: _numbers(redis, keys, 2), 30, "two more tickets")
    assert given.decode().rsplit(":", 1)[1] not in numbers  # the number given before the loss is not given again
    assert all(number > given.decode().rsplit(":", 1)[1] for number in numbers)
    assert any(line.get("event") == "redis.data_lost" for line in app.lines())
    await redis.aclose()


async def _talking(agent: Any) -> AgentRecord | None:
    record = await agent()
    return record if record is not None and record.state == "talking" else None


def _bridged(cluster: Cluster, channel: str) -> bool:
    caller = cluster.sim.core.channels.get(channel)
    return caller is not None and caller.bridge is not None and len(caller.bridge.channels) == 2


async def _numbers(redis: Redis, keys: Keys, count: int) -> list[str] | None:
    found = [k.decode().rsplit(":", 1)[1] for k in await redis.keys(f"{keys.base}:ticket:T-*")]
    return found if len(found) >= count else None
