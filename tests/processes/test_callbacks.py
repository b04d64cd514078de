"""Callbacks with real processes: killed with SIGKILL while callbacks are pending, started again, each callback is
dialled exactly once; two processes on one Redis never dial the same callback. Counted from the simulator's
originates to the customers' numbers, not from the application's view."""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio
import pytest

from callcenter_ari.sim import PhoneBehaviour
from tests.processes.harness import AppProcess, Cluster

pytestmark = pytest.mark.slow

NUMBERS = [f"+1202555{n:04d}" for n in range(101, 109)]


def extra(*agents: str) -> dict[str, dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = {
        "trunks.provider1": {"kind": "pjsip", "endpoint": "provider1", "capacity": 30, "region": "US"},
        "callback": {"trunks": ["provider1"], "caller_id": "+12025550100"},
        "callback.plan": {"region": "US"},
        "queues.support.callback": {"mode": "agent_first"},
    }
    for agent in agents:
        tables[f"agents.{agent}"] = {"logged_in": False}
    return tables


def customer_dials(cluster: Cluster) -> Counter[str]:
    """How often each customer number was originated to (every process, every attempt)."""
    return Counter(
        o["endpoint"].removeprefix("PJSIP/").removesuffix("@provider1")
        for o in cluster.sim.originates()
        if o["endpoint"].endswith("@provider1")
    )


async def schedule(app: AppProcess, numbers: list[str]) -> list[str]:
    async with app.api() as api:
        ids = []
        for number in numbers:
            made = await api.post("/callbacks", json={"queue": "support", "number": number})
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])
        return ids


async def log_in(app: AppProcess, *agents: str) -> None:
    async with app.api() as api:
        for agent in agents:
            answer = await api.post(f"/agents/{agent}/login")
            assert answer.status_code == 200, answer.text


async def all_connected(app: AppProcess, ids: list[str], timeout: float) -> None:
    async with app.api() as api:
        with anyio.fail_after(timeout):
            while True:
                states = {i: (await api.get(f"/callbacks/{i}")).json()["state"] for i in ids}
                if set(states.values()) == {"connected"}:
                    return
                await anyio.sleep(0.2)


def phones(cluster: Cluster, *agents: str) -> None:
    for agent in agents:
        cluster.sim.add_phone(f"PJSIP/{agent}", PhoneBehaviour(answer_after=0.1))
    cluster.sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=0.2, talk=0.3))


async def test_pending_callbacks_survive_a_kill_and_are_each_dialled_once(cluster: Cluster) -> None:
    """Five callbacks pending (no agent logged in), kill -9, start again, the agent logs in: five customers
    dialled, each once, and all connected."""
    phones(cluster, "agent1")
    app = cluster.add("cc1", agents=("agent1",), extra=extra("agent1"))
    app.start()
    await app.ready()
    ids = await schedule(app, NUMBERS[:5])
    app.kill()
    assert customer_dials(cluster) == Counter(), "nothing dialled before the crash"
    app.start()
    await app.ready()
    await log_in(app, "agent1")
    await all_connected(app, ids, timeout=60)
    await anyio.sleep(2.0)  # room for a duplicate, were there one
    assert customer_dials(cluster) == Counter(dict.fromkeys(NUMBERS[:5], 1))


async def test_two_processes_on_one_redis_never_dial_the_same_callback(cluster: Cluster) -> None:
    """Eight callbacks, two processes (two Stasis applications) that both hold every one in line, two agents
    shared: each customer is dialled once, by one process or the other."""
    phones(cluster, "agent1", "agent2")
    agents = ("agent1", "agent2")
    first = cluster.add("cc1", agents=agents, extra=extra(*agents))
    second = cluster.add("cc2", agents=agents, extra=extra(*agents))
    first.start()
    second.start()
    await first.ready()
    await second.ready()
    ids = await schedule(first, NUMBERS)
    await anyio.sleep(6.0)  # the second process's mirror takes them in (compared with Redis every 5 s)
    await log_in(first, "agent1")
    await log_in(second, "agent2")
    await all_connected(first, ids, timeout=90)
    await anyio.sleep(2.0)
    assert customer_dials(cluster) == Counter(dict.fromkeys(NUMBERS, 1))
    claims = [
        line["callback_id"]
        for app in (first, second)
        for line in app.lines()
        if line.get("event") == "callback.claimed"
    ]
    assert sorted(claims) == sorted(ids), "each callback claimed once, by one of the two"
