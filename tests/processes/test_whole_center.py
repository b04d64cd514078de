"""Two Asterisk servers (two simulators), two `callcenter-ari run` processes, one Redis: each process's API and
wallboard show the whole center as it happens. Calls placed on west are seen in east's ``GET /queues``, queue
statistics, ``GET /calls``, ``GET /agents`` and wallboard stream within a second or two, and the totals of both
processes agree."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import TaskStatus
from redis.asyncio import Redis

from callcenter_ari.sim import CallerScript, PhoneBehaviour
from tests.processes.harness import AppProcess, until
from tests.processes.test_global_order import Server, servers, start

pytestmark = pytest.mark.slow

__all__ = ["servers"]  # the fixture, used by name

SEEN_WITHIN = 2.0  # seconds: another process's call shows in this process's views within this


async def get(app: AppProcess, path: str) -> Any:
    async with app.api() as api:
        reply = await api.get(path)
        assert reply.status_code == 200, reply.text
        return reply.json()


async def support(app: AppProcess) -> dict[str, Any]:
    queue: dict[str, Any] = await get(app, "/queues/support")
    return queue


async def agents(app: AppProcess) -> dict[str, dict[str, Any]]:
    return {a["id"]: a for a in (await get(app, "/agents"))["agents"]}


async def seen(app: AppProcess, what: str, check: Any) -> float:
    """How long after now ``check(app)`` (awaited) first holds; fails past ``SEEN_WITHIN``."""
    began = time.monotonic()
    await until(lambda: check(app), timeout=SEEN_WITHIN, what=f"{what} in {app.name}'s API", every=0.02)
    return time.monotonic() - began


class Boards:
    """The ``board`` events of one process's wallboard stream, as they arrive."""

    def __init__(self) -> None:
        self.boards: list[dict[str, Any]] = []

    async def follow(self, app: AppProcess, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with app.api() as api, api.stream("GET", "/wallboard/stream", timeout=None) as reply:
            assert reply.status_code == 200
            started = False
            async for line in reply.aiter_lines():
                if line.startswith("data:"):
                    self.boards.append(json.loads(line.removeprefix("data:")))
                    if not started:
                        started = True
                        task_status.started()

    def support(self) -> dict[str, Any]:
        return next(q for q in self.boards[-1]["queues"] if q["id"] == "support")


@pytest.fixture
async def pair(
    servers: tuple[Server, Server], redis: Redis, redis_url: str, key_prefix: str, tmp_path: Path
) -> AsyncIterator[tuple[Server, Server]]:
    """east and west, each process with agent1 and agent2 (their phones answer on either server)."""
    for server in servers:
        for agent in ("agent1", "agent2"):
            server.sim.add_phone(f"PJSIP/{agent}", PhoneBehaviour(answer_after=0.05))
    extra = {"queues.support": {"wrapup_seconds": 600, "sla_seconds": 20}}
    apps = [start(server, tmp_path, redis_url, key_prefix, ("agent1", "agent2"), **extra) for server in servers]
    for app in apps:
        await app.ready()
    yield servers


async def test_calls_on_west_are_seen_live_in_easts_api_and_wallboard(pair: tuple[Server, Server]) -> None:
    """Two callers on west talk to the two agents, a third waits, a fourth waits and gives up. East's
    ``GET /queues``, its wallboard stream, ``GET /calls`` and ``GET /agents`` show each step within two seconds;
    then both processes give the same figures: entered 4, answered 2 within the service level, 1 abandoned."""
    east, west = pair
    assert east.app is not None and west.app is not None
    boards = Boards()
    async with anyio.create_task_group() as tg:
        await tg.start(boards.follow, east.app)
        for n in range(2):
            await west.sim.inject_call("5552000", f"+1555100{n:04d}", script=CallerScript(max_duration=120), app="cc")
        await until(
            lambda: _all_talking(west.app),
            what="both agents talking on west",  # type: ignore[arg-type]
        )
        await seen(east.app, "both agents talking", _all_talking)

        await west.sim.inject_call("5552000", "+15551000002", script=CallerScript(max_duration=120), app="cc")
        await until(lambda: _waiting(west.app, 1), what="a caller waiting on west")  # type: ignore[arg-type]
        await seen(east.app, "west's caller waiting", lambda app: _waiting(app, 1))
        await until(lambda: boards.support()["waiting"] == 1, timeout=SEEN_WITHIN, what="east's wallboard: 1 waiting")
        assert boards.support()["oldest_since"] is not None

        calls = (await get(east.app, "/calls"))["calls"]
        assert len(calls) == 3 and {c["node"] for c in calls} == {"west"}
        assert sorted(c["phase"] for c in calls) == ["queued", "talking", "talking"]
        talking = {c["agent_id"]: c["id"] for c in calls if c["phase"] == "talking"}
        shown = await agents(east.app)
        assert {a: shown[a]["call_id"] for a in talking} == talking
        assert all(shown[a]["call"]["id"] == talking[a] for a in talking)

        await west.sim.inject_call(
            "5552000", "+15551000003", script=CallerScript(patience=1.0, max_duration=120), app="cc"
        )
        await seen(east.app, "the fourth caller waiting", lambda app: _waiting(app, 2))
        await until(lambda: _abandoned(west.app, 1), what="the fourth caller's abandon on west")  # type: ignore[arg-type]
        await seen(east.app, "the abandon", lambda app: _abandoned(app, 1))
        await seen(east.app, "one caller still waiting", lambda app: _waiting(app, 1))
        await until(
            lambda: (
                boards.support()["abandoned"] + boards.support()["short_abandoned"] == 1
                and boards.support()["waiting"] == 1
            ),
            timeout=SEEN_WITHIN,
            what="east's wallboard: the abandon",
        )
        tg.cancel_scope.cancel()

    figures = [(await support(app))["today"] for app in (east.app, west.app)]
    assert figures[0] == figures[1]
    assert (figures[0]["entered"], figures[0]["answered"], figures[0]["answered_in_sla"]) == (4, 2, 2)
    assert figures[0]["abandoned"] + figures[0]["short_abandoned"] == 1
    reports = []
    for app in (east.app, west.app):
        starts = (await get(app, "/reports/intervals"))["starts"]
        reports.append((await get(app, f"/reports/intervals/{starts[-1]}"))["queues"])
    assert reports[0] == reports[1] and reports[0]["support"]["entered"] == 4
    for server in pair:
        events = {line["event"] for line in server.app.lines()}  # type: ignore[union-attr]
        assert "center.follow_failed" not in events and "call.failed" not in events, server.app.tail()  # type: ignore[union-attr]


async def test_a_process_started_later_shows_the_calls_already_up_elsewhere(
    servers: tuple[Server, Server], redis: Redis, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    """West serves a talking call and a waiting one before east starts: east's first views (from the stream's
    replay and the calls' records) already show them, and its figures are west's."""
    east, west = servers
    west.sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.05))
    extra = {"queues.support": {"wrapup_seconds": 600}}
    start(west, tmp_path, redis_url, key_prefix, ("agent1",), **extra)
    assert west.app is not None
    await west.app.ready()
    for n in range(2):
        await west.sim.inject_call("5552000", f"+1555200{n:04d}", script=CallerScript(max_duration=120), app="cc")
    await until(lambda: _waiting(west.app, 1), what="a caller waiting on west")  # type: ignore[arg-type]
    start(east, tmp_path, redis_url, key_prefix, ("agent1",), **extra)
    assert east.app is not None
    await east.app.ready()
    queue = await support(east.app)
    assert queue["waiting"] == 1 and queue["longest_wait_seconds"] is not None
    assert queue["today"] == (await support(west.app))["today"]
    calls = (await get(east.app, "/calls"))["calls"]
    assert sorted((c["node"], c["phase"]) for c in calls) == [("west", "queued"), ("west", "talking")]


async def _all_talking(app: AppProcess) -> bool:
    shown = await agents(app)
    return all(shown[a]["state"] == "talking" for a in ("agent1", "agent2"))


async def _waiting(app: AppProcess, count: int) -> bool:
    queue = await support(app)
    return bool(queue["waiting"] == count and queue["longest_wait_seconds"] is not None)


async def _abandoned(app: AppProcess, count: int) -> bool:
    today = (await support(app))["today"]
    return bool(today["abandoned"] + today["short_abandoned"] == count)
