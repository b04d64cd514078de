"""Two processes serving one tenant share its agents through Redis: no agent is ever in two conversations, none
is left unavailable, and every caller is answered. Checked from the simulator's bridges, not the app's view."""

from __future__ import annotations

import anyio
import pytest
from redis.asyncio import Redis

from callcenter_ari.sim import CallerScript, PhoneBehaviour
from callcenter_ari.store.agents import AgentStore
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from tests.processes.harness import Cluster, conversations, overlaps

pytestmark = pytest.mark.slow

AGENTS = tuple(f"agent{n}" for n in range(1, 7))


async def settled(cluster: Cluster, injected: list[str], timeout: float) -> None:
    """Every injected caller's channel has ended."""
    with anyio.fail_after(timeout):
        while any(cluster.sim.channel(channel) is not None for channel in injected):
            await anyio.sleep(0.1)


async def test_two_processes_never_put_a_shared_agent_on_two_calls(cluster: Cluster, redis: Redis) -> None:
    """240 calls alternate between two processes (two Stasis applications, as two Asterisks would send them) with
    six shared agents: each agent's conversations never overlap, every caller talks to an agent, and at the end
    every agent is available again, in Redis and in both processes."""
    for agent in AGENTS:
        cluster.sim.add_phone(f"PJSIP/{agent}", PhoneBehaviour(answer_after=0.05))
    first, second = cluster.add("cc1", agents=AGENTS), cluster.add("cc2", agents=AGENTS)
    first.start()
    second.start()
    await first.ready()
    await second.ready()
    injected: list[str] = []
    for n in range(240):
        app = "cc1" if n % 2 == 0 else "cc2"
        script = CallerScript(talk=0.3, max_duration=120.0)
        injected.append(await cluster.sim.inject_call("5552000", f"+1555000{n:04d}", script=script, app=app))
        await anyio.sleep(0.04)
    await settled(cluster, injected, timeout=120)

    spans = conversations(cluster.sim)
    assert overlaps(spans) == []
    bridged = {channel for _, event, _, channel, _ in cluster.sim.core.bridge_log if event == "enter"}
    assert set(injected) <= bridged  # every caller reached a bridge (no greeting: only with an agent)
    assert sum(len(agent_spans) for agent_spans in spans.values()) == 240
    assert {agent for agent in spans} == set(AGENTS)  # the work was shared

    store = AgentStore(Store(redis, Keys(cluster.prefix, "t1"), now=lambda: 0.0), origin="test", seat_limit=None)
    try:
        with anyio.fail_after(10):
            while {a.state for a in await store.read_all()} != {"available"}:
                await anyio.sleep(0.1)
    except TimeoutError:
        stuck = [(a.agent_id, a.state, a.call_id, a.node) for a in await store.read_all() if a.state != "available"]
        raise AssertionError(f"agents not available after every call ended: {stuck}") from None
    for process in (first, second):
        async with process.api() as api:
            with anyio.fail_after(10):
                while {a["state"] for a in (await api.get("/agents/")).json()["agents"]} != {"available"}:
                    await anyio.sleep(0.1)
    for process in (first, second):
        events = {line["event"] for line in process.lines()}
        assert "call.failed" not in events and "acd.message_failed" not in events, process.tail()
