"""Overload is shed, never amplified: more calls than the process takes, and an Asterisk whose requests fail or time
out. Every call offered enters Stasis once and ends once (or is shed, and counted), and when it is over no agent is
left reserved or talking, none was in two conversations."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import msgspec
import pytest
from redis.asyncio import Redis

from callcenter_ari.calls.records import CallRecord
from callcenter_ari.sim import CallerScript, PhoneBehaviour
from callcenter_ari.sim.faults import FaultRule
from callcenter_ari.store.agents import AgentStore
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from tests.processes.harness import ADMIN_TOKEN, Cluster, conversations, overlaps, until

pytestmark = pytest.mark.slow

CALLS = 150
AGENTS = tuple(f"agent{n}" for n in range(1, 5))
OVERLOAD: dict[str, dict[str, Any]] = {
    "overload": {"max_calls": 15, "max_pending_requests": 40, "treatment": "congestion"},
    "ari": {"request_timeout_seconds": 1},
}
FAULTS = [
    FaultRule("answer", "fail", 0.08),
    FaultRule("answer", "slow", 0.08, delay=1.5),  # answered after the app gave up waiting
    FaultRule("originate", "slow", 0.15, delay=1.5),  # the agent's phone rings after the app gave up on it
    FaultRule("originateWithId", "slow", 0.15, delay=1.5),
    FaultRule("addChannelToBridge", "fail", 0.05),
    FaultRule("startMoh", "fail", 0.08),
]


async def shed_count(port: int) -> float:
    async with httpx.AsyncClient() as http:
        text = (
            await http.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        ).text
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("callcenter_calls_shed_total{")
    )


async def test_overload_with_failing_requests_ends_every_call_once_and_leaves_no_agent_stuck(
    cluster: Cluster, redis: Redis
) -> None:
    for agent in AGENTS:
        cluster.sim.add_phone(f"PJSIP/{agent}", PhoneBehaviour(answer_after=0.1))
    app = cluster.add("cc1", agents=AGENTS, extra=OVERLOAD)
    app.start()
    await app.ready()
    cluster.sim.api.faults.set(FAULTS)
    injected = []
    for n in range(CALLS):
        script = CallerScript(talk=0.3, patience=20.0, max_duration=60.0)
        injected.append(await cluster.sim.inject_call("5552000", f"+1555100{n:04d}", script=script, app="cc1"))
        await anyio.sleep(0.04)  # 25 a second: more than four agents finish, so the line grows past the limit
    await until(lambda: all(cluster.sim.channel(c) is None for c in injected), 120, "every caller gone")
    cluster.sim.api.faults.clear()
    await until(lambda: not cluster.sim.channels(), 30, "no channel left in Asterisk")

    assert cluster.sim.core.counters["inbound_stasis_start"] == CALLS  # none handed back and sent in again
    keys = Keys(cluster.prefix, "t1")
    shed = await shed_count(app.http_port)

    async def ends() -> dict[str, int]:
        ended: dict[str, int] = {}
        for _, fields in await redis.xrange(keys.events):
            if fields[b"kind"] == b"call.ended":
                call_id = msgspec.json.decode(fields[b"data"])["call_id"]
                ended[call_id] = ended.get(call_id, 0) + 1
        return ended

    async def all_ended() -> dict[str, int] | None:  # the last ends may still be in the store's batch (5 ms)
        ended = await ends()
        return ended if len(ended) + shed >= CALLS else None

    ended = await until(all_ended, 10, "every served call's end written") or {}
    assert set(ended.values()) == {1}  # every call ended exactly once
    records = [msgspec.json.decode(blob, type=CallRecord) for blob in await redis.mget([keys.call(c) for c in ended])]
    served = {record.channel_id for record in records}
    assert served <= set(injected) and len(served) + shed == CALLS
    assert shed > 0 and any(line.get("event") == "overload.shedding" for line in app.lines())
    assert sum(cluster.sim.api.faults.struck.values()) > 0  # Asterisk did fail and time out under the app
    assert overlaps(conversations(cluster.sim)) == []
    store = AgentStore(Store(redis, keys, now=lambda: 0.0), origin="test", seat_limit=None)

    async def settled_agents() -> bool:
        return all(a.state in ("available", "not_ready", "wrapup") for a in await store.read_all())

    await until(settled_agents, 15, "no agent reserved or talking")
