"""Two nodes, each with its own Asterisk (a simulator): east has an active process and its hot standby, west one
process, all on one Redis. East's active is killed (SIGKILL) with calls live on both servers, some talking and some
waiting: east's standby takes east's calls over (none lost, no agent stuck, no agent on two calls), west's calls are
untouched throughout (never offered again, their bridges never broken, as the simulators' bridge logs show), and new
calls on west are served while east is being taken over."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from redis.asyncio import Redis

from callcenter_ari.sim import CallerScript, PhoneBehaviour, SimConfig, Simulator
from tests.processes.harness import PASSWORD, USER, AppProcess, app_config, conversations, free_port, overlaps, until

pytestmark = pytest.mark.slow

LEASE = 3.0
AGENTS = ("agent1", "agent2", "agent3", "agent4", "agent5")  # agent5 serves sales only


class Node:
    def __init__(self, name: str, sim: Simulator, url: str) -> None:
        self.name, self.sim, self.url = name, sim, url
        self.apps: list[AppProcess] = []


@pytest.fixture
async def nodes(redis: Redis, redis_url: str, key_prefix: str, tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    east_sim = Simulator(SimConfig(app="cc", username=USER, password=PASSWORD, seed=21, clock="real"))
    west_sim = Simulator(SimConfig(app="cc", username=USER, password=PASSWORD, seed=22, clock="real"))
    async with (
        east_sim.serve(host="127.0.0.1", port=0) as east_http,
        west_sim.serve(host="127.0.0.1", port=0) as west_http,
    ):
        east, west = Node("east", east_sim, east_http.base_url), Node("west", west_sim, west_http.base_url)
        for node in (east, west):
            for agent in AGENTS:
                node.sim.add_phone(f"PJSIP/{agent}", PhoneBehaviour(answer_after=0.05))
        try:
            yield east, west
        finally:
            for node in (east, west):
                for app in node.apps:
                    if app.process is not None and app.process.poll() is None:
                        app.process.kill()
                        app.process.wait(timeout=10)


def process(node: Node, name: str, tmp_path: Path, redis_url: str, prefix: str, *, standby: bool) -> AppProcess:
    port = free_port()
    extra: dict[str, dict[str, Any]] = {
        "app": {"node": node.name},
        "queues.support": {"wrapup_seconds": 0, "ring_timeout_seconds": 10, "max_wait_seconds": 600},
        "queues.sales": {"wrapup_seconds": 0, "ring_timeout_seconds": 10, "max_wait_seconds": 600},
        "dids.5553000": {"queue": "sales"},
        "agents.agent5": {"queues": ["sales"]},
    }
    if standby:
        extra["standby"] = {"enabled": True, "lease_seconds": LEASE, "poll_seconds": 0.1}
    text = app_config(
        app_name="cc", sim_url=node.url, redis_url=redis_url, prefix=prefix, http_port=port, agents=AGENTS, extra=extra
    )
    config = tmp_path / f"{name}.toml"
    config.write_text(text)
    app = AppProcess(name, config, tmp_path / f"{name}.log", port)
    node.apps.append(app)
    app.start()
    return app


async def get(app: AppProcess, path: str) -> Any:
    async with app.api() as api:
        reply = await api.get(path)
        assert reply.status_code == 200, reply.text
        return reply.json()


async def role(app: AppProcess) -> str:
    try:
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{app.http_port}/health", timeout=1.0)
    except httpx.HTTPError:
        return ""
    return str(health.json().get("role", "")) if health.status_code == 200 else ""


async def states(app: AppProcess) -> dict[str, tuple[str, str]]:
    return {a["id"]: (a["state"], a["call_id"]) for a in (await get(app, "/agents"))["agents"]}


async def calls_of(app: AppProcess, node: str) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in (await get(app, "/calls"))["calls"] if c["node"] == node}


def bridged(sim: Simulator, caller: str, agent_prefix: str = "PJSIP/agent") -> bool:
    """The caller's channel shares a bridge with an agent's leg (from the simulator's bridge log)."""
    bridges = {b for _, event, b, channel, _ in sim.core.bridge_log if event == "enter" and channel == caller}
    return any(
        event == "enter" and b in bridges and name.startswith(agent_prefix)
        for _, event, b, _, name in sim.core.bridge_log
    )


async def test_east_standby_takes_over_while_wests_calls_go_on(
    nodes: tuple[Node, Node], redis: Redis, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    """Four callers talk (two on each server), one waits on each; SIGKILL east's active. East's standby resumes
    east's three calls with their ids and agents; west's two conversations stay in their bridges with the agents
    they had, and their legs are never dialled again; three sales calls placed on west right after the kill are
    served, the first before the standby has taken over. Then east's talkers hang up: their agents take the two
    waiting callers (east's first, as it came first), no agent ever on two calls, and at the end every agent is
    available again."""
    east, west = nodes
    active = process(east, "east-active", tmp_path, redis_url, key_prefix, standby=True)
    await active.ready(timeout=30 + LEASE)
    standby = process(east, "east-standby", tmp_path, redis_url, key_prefix, standby=True)
    await until(lambda: _has_role(standby, "standby"), what="east's standby waiting")
    serving_west = process(west, "west", tmp_path, redis_url, key_prefix, standby=False)
    await serving_west.ready()

    talkers = {east.name: [], west.name: []}  # type: dict[str, list[str]]
    for n, node in enumerate((east, west, east, west)):
        channel = await node.sim.inject_call("5552000", f"+1555300{n:04d}", script=CallerScript(max_duration=300))
        talkers[node.name].append(channel)
        await until(lambda ch=channel, sim=node.sim: bridged(sim, ch), what=f"caller {n} talking on {node.name}")
    east_waiting = await east.sim.inject_call("5552000", "+15553000010", script=CallerScript(max_duration=300))
    await until(lambda: _waiting(serving_west, 1), what="east's caller waiting")
    west_waiting = await west.sim.inject_call("5552000", "+15553000011", script=CallerScript(max_duration=300))
    await until(lambda: _waiting(serving_west, 2), what="west's caller waiting")

    # East's process shows west's calls as west writes them (its follower reads the stream every 0.1 s at most).
    three = ["queued", "talking", "talking"]
    east_calls = await calls_of(active, "east")
    assert sorted(c["phase"] for c in east_calls.values()) == three
    west_calls = await until(lambda: _phases_are(active, "west", three), what="west's calls seen by east")
    west_talking = {c["id"]: c["agent_id"] for c in west_calls.values() if c["phase"] == "talking"}
    before = await states(serving_west)
    west_log_mark = len(west.sim.core.bridge_log)

    active.kill()
    killed = time.monotonic()
    served: list[float] = []
    took_over: list[float] = []

    async def sales_calls() -> None:
        for n in range(3):
            caller = await west.sim.inject_call("5553000", f"+1555301{n:04d}", script=CallerScript(talk=0.3))
            await until(lambda ch=caller: bridged(west.sim, ch, "PJSIP/agent5"), timeout=10, what=f"sales call {n}")
            served.append(time.monotonic())

    async def take_over() -> None:
        await standby.ready(timeout=LEASE + 15)
        took_over.append(time.monotonic())

    async with anyio.create_task_group() as tg:
        tg.start_soon(sales_calls)
        tg.start_soon(take_over)
    assert len(served) == 3 and served[0] < took_over[0], (served, took_over, killed)

    # East's calls are the standby's now, as they were; west's are where they were.
    resumed = await calls_of(standby, "east")
    assert {i: (c["phase"], c["agent_id"]) for i, c in resumed.items()} == {
        i: (c["phase"], c["agent_id"]) for i, c in east_calls.items()
    }
    after = await states(serving_west)
    for call_id, agent in west_talking.items():
        assert after[agent] == before[agent] == ("talking", call_id)
    for channel in talkers[west.name]:
        assert west.sim.channel(channel) is not None
    assert _only_sales_left(west.sim, west_log_mark, talkers[west.name])

    # East's talkers hang up: their agents serve the two waiting callers, east's first.
    for channel in talkers[east.name]:
        await east.sim.hangup(channel, 16)
    await until(lambda: bridged(east.sim, east_waiting), timeout=15, what="east's waiting caller served")
    await until(lambda: bridged(west.sim, west_waiting), timeout=15, what="west's waiting caller served")

    for call_id in west_talking:
        legs = [o for o in west.sim.originates() if o["channel_id"].startswith(call_id)]
        assert len(legs) == 1, legs  # offered once, never again
    spans = {
        agent: sorted(conversations(east.sim).get(agent, []) + conversations(west.sim).get(agent, []))
        for agent in AGENTS
    }
    assert overlaps(spans) == []

    # Everyone hangs up: every agent is available again (none stuck on a call of the dead process).
    for node in (east, west):
        for channel in [c["id"] for c in node.sim.channels() if c["name"].startswith("PJSIP/provider")]:
            await node.sim.hangup(channel, 16)
    await until(lambda: _all_available(serving_west), timeout=20, what="every agent available again")
    for app in (standby, serving_west):
        events = {line["event"] for line in app.lines()}
        assert "call.failed" not in events and "acd.message_failed" not in events, app.tail()
    ended = {
        line["call_id"]: line.get("outcome")
        for line in standby.lines()
        if line.get("event") == "call.ended" and line.get("call_id") in east_calls
    }
    assert set(ended) == set(east_calls) and "ended_while_down" not in ended.values(), ended


def _only_sales_left(sim: Simulator, mark: int, west_talkers: list[str]) -> bool:
    """Since ``mark`` the only channels that left a bridge on west are the sales calls' (callers and agent5):
    west's talkers and their agents stayed in their bridges."""
    sales_callers = {
        channel
        for _, event, _, channel, name in sim.core.bridge_log[mark:]
        if event == "enter" and channel not in west_talkers
    }
    left = [(channel, name) for _, event, _, channel, name in sim.core.bridge_log[mark:] if event == "leave"]
    return all(channel in sales_callers for channel, _ in left) and not any(c in west_talkers for c, _ in left)


async def _has_role(app: AppProcess, wanted: str) -> bool:
    return await role(app) == wanted


async def _phases_are(app: AppProcess, node: str, phases: list[str]) -> dict[str, dict[str, Any]] | None:
    """The node's calls as ``app`` shows them, once their phases are ``phases`` (sorted)."""
    calls = await calls_of(app, node)
    return calls if sorted(c["phase"] for c in calls.values()) == phases else None


async def _waiting(app: AppProcess, count: int) -> bool:
    return bool((await get(app, "/queues/support"))["waiting"] == count)


async def _all_available(app: AppProcess) -> bool:
    return all(state == "available" for state, _ in (await states(app)).values())
