"""Two Asterisk servers (two simulators), two `callcenter-ari run` processes, one Redis: the callers of both
servers are served in one order per queue (priority, then arrival), whichever server they came in on, and no agent
is ever on two calls. Checked from the simulators' bridges."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest
from redis.asyncio import Redis

from callcenter_ari.sim import CallerScript, PhoneBehaviour, SimConfig, Simulator
from callcenter_ari.store.agents import AgentStore
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from tests.processes.harness import PASSWORD, USER, AppProcess, app_config, conversations, free_port, overlaps

pytestmark = pytest.mark.slow


@dataclass
class Server:
    """One Asterisk (a simulator served over HTTP and WebSocket) and the process that serves it."""

    name: str
    sim: Simulator
    url: str
    app: AppProcess | None = None


@pytest.fixture
async def servers(tmp_path: Path) -> AsyncIterator[tuple[Server, Server]]:
    east = Simulator(SimConfig(app="cc", username=USER, password=PASSWORD, seed=11, clock="real"))
    west = Simulator(SimConfig(app="cc", username=USER, password=PASSWORD, seed=12, clock="real"))
    async with east.serve(host="127.0.0.1", port=0) as east_http, west.serve(host="127.0.0.1", port=0) as west_http:
        pair = Server("east", east, east_http.base_url), Server("west", west, west_http.base_url)
        try:
            yield pair
        finally:
            for server in pair:
                if server.app is not None and server.app.process is not None and server.app.process.poll() is None:
                    server.app.process.kill()
                    server.app.process.wait(timeout=10)


def start(
    server: Server, tmp_path: Path, redis_url: str, prefix: str, agents: tuple[str, ...], **extra: dict
) -> AppProcess:  # type: ignore[type-arg]
    port = free_port()
    text = app_config(
        app_name="cc",
        sim_url=server.url,
        redis_url=redis_url,
        prefix=prefix,
        http_port=port,
        agents=agents,
        extra={"app": {"node": server.name}, **extra},
    )
    config = tmp_path / f"{server.name}.toml"
    config.write_text(text)
    server.app = AppProcess(server.name, config, tmp_path / f"{server.name}.log", port)
    server.app.start()
    return server.app


async def waiting(redis: Redis, prefix: str, count: int, timeout: float = 15.0) -> None:
    store = Store(redis, Keys(prefix, "t1"), now=lambda: 0.0)
    with anyio.fail_after(timeout):
        while len(await store.queue_entries("support")) < count:
            await anyio.sleep(0.05)


async def agent_state(redis: Redis, prefix: str, state: str, timeout: float = 15.0) -> None:
    agents = AgentStore(Store(redis, Keys(prefix, "t1"), now=lambda: 0.0), origin="test", seat_limit=None)
    with anyio.fail_after(timeout):
        while [a.state for a in await agents.read_all()] != [state]:
            await anyio.sleep(0.05)


async def test_callers_of_both_servers_are_served_in_one_order(
    servers: tuple[Server, Server], redis: Redis, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    """Six callers arrive alternately on east and west while the one agent is logged out. The agent logs in on
    west, whose first caller came second: east's caller is served first. After each call the agent is ready
    again on the server of the call that ended, whose own next caller came after the other server's: the other
    server's process takes the agent. So the callers are served in the order they arrived, across the servers."""
    east, west = servers
    for server in servers:
        server.sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.05))
    extra = {"agents.agent1": {"logged_in": False}, "queues.support": {"wrapup_seconds": 600}}
    apps = [start(server, tmp_path, redis_url, key_prefix, ("agent1",), **extra) for server in servers]
    for app in apps:
        await app.ready()
    await anyio.sleep(4.5)  # two presence beats: each process knows the other runs
    order: list[tuple[Server, str]] = []
    for n in range(6):
        server = servers[n % 2]
        script = CallerScript(talk=0.3, max_duration=60.0)
        order.append((server, await server.sim.inject_call("5552000", f"+1555000{n:04d}", script=script, app="cc")))
        await waiting(redis, key_prefix, n + 1)
        await anyio.sleep(0.05)
    async with west.app.api() as api:  # type: ignore[union-attr]
        assert (await api.post("/agents/agent1/login")).status_code in (200, 201, 204)
    for server, _ in order[:-1]:  # the server of the call that just ended
        await agent_state(redis, key_prefix, "wrapup")
        async with server.app.api() as api:  # type: ignore[union-attr]
            assert (await api.post("/agents/agent1/ready")).status_code in (200, 201, 204)
    with anyio.fail_after(30):
        while any(server.sim.channel(channel) is not None for server, channel in order):
            await anyio.sleep(0.1)

    # (when the agent joined the caller's bridge, the server, the caller's channel): channel ids are per server
    served: list[tuple[float, str, str]] = []
    for server in servers:
        callers = {channel for s, channel in order if s is server}
        bridge_of: dict[str, str] = {}
        for at, event, bridge, channel, name in server.sim.core.bridge_log:
            if event == "enter" and channel in callers:
                bridge_of[bridge] = channel
            elif event == "enter" and name.startswith("PJSIP/agent1") and bridge in bridge_of:
                served.append((at, server.name, bridge_of[bridge]))
    assert [(name, channel) for _, name, channel in sorted(served)] == [(s.name, channel) for s, channel in order]
    spans = {
        agent: sorted(conversations(east.sim).get(agent, []) + conversations(west.sim).get(agent, []))
        for agent in ("agent1",)
    }
    assert overlaps(spans) == []
    assert len(spans["agent1"]) == 6
    for server in servers:
        events = {line["event"] for line in server.app.lines()}  # type: ignore[union-attr]
        assert "call.failed" not in events and "acd.message_failed" not in events, server.app.tail()  # type: ignore[union-attr]


def spans_of(sim: Simulator, prefix: str) -> list[tuple[float, float]]:
    """Each span a channel whose name starts with ``prefix`` spent in a bridge with another channel."""
    entered: dict[str, float] = {}
    spans = []
    for at, event, _, channel, name in sim.core.bridge_log:
        if not name.startswith(prefix):
            continue
        if event == "enter":
            entered[channel] = at
        elif channel in entered:
            spans.append((entered.pop(channel), at))
    return spans


async def test_an_agent_on_west_takes_a_call_from_east_over_the_inter_server_trunk(
    servers: tuple[Server, Server], redis: Redis, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    """agent1's phone is on west. A caller on east gets agent1 through east's trunk to west (``PJSIP/agent1@to-west``
    on east's Asterisk, bridged with the caller there); a caller on west gets the phone directly; the agent's two
    conversations never overlap."""
    east, west = servers
    east.sim.add_phone("PJSIP/agent1@to-west", PhoneBehaviour(answer_after=0.05))  # the trunk to west, from east
    west.sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.05))
    extra = {
        "agents.agent1": {"server": "west"},
        "servers.west": {"peer_trunk": "to-west"},
        "servers.east": {"peer_trunk": "to-east"},
    }
    apps = [start(server, tmp_path, redis_url, key_prefix, ("agent1",), **extra) for server in servers]
    for app in apps:
        await app.ready()
    calls = []
    for server in (east, west, east):
        script = CallerScript(talk=0.3, max_duration=60.0)
        calls.append((server, await server.sim.inject_call("5552000", "+15550001111", script=script, app="cc")))
    with anyio.fail_after(30):
        # Every channel gone, the agent's legs too: a leg still up when its caller is gone has not left its bridge
        # yet, and its span would not be counted (a loaded host hangs it up a moment later).
        while any(server.sim.channels() for server in servers):
            await anyio.sleep(0.1)

    assert [o["endpoint"] for o in east.sim.originates()] == ["PJSIP/agent1@to-west"] * 2
    assert [o["endpoint"] for o in west.sim.originates()] == ["PJSIP/agent1"]
    through_trunk, direct = spans_of(east.sim, "PJSIP/to-west"), spans_of(west.sim, "PJSIP/agent1")
    assert len(through_trunk) == 2 and len(direct) == 1
    ordered = sorted(through_trunk + direct)
    assert all(before[1] <= after[0] for before, after in itertools.pairwise(ordered))
    for server in servers:
        events = {line["event"] for line in server.app.lines()}  # type: ignore[union-attr]
        assert "call.failed" not in events, server.app.tail()  # type: ignore[union-attr]
