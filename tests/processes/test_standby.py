"""Hot standby with real processes: two ``callcenter-ari run`` of one node on one Redis and one simulator. The
standby opens nothing towards Asterisk while the active holds the lease, takes over a live call center when the
active is killed (SIGKILL) or stopped (SIGTERM, which gives the lease up at once), and a process that lost the node
(paused past its lease) stops acting for it: it exits with status 3 and a log line saying why. ARI's
ApplicationReplaced makes a process step down the same way."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Awaitable
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest
from redis.asyncio import Redis

from callcenter_ari.fencing import EXIT_STEPPED_DOWN
from callcenter_ari.sim import CallerScript, PhoneBehaviour
from callcenter_ari.store.keys import Keys
from tests.api.test_api_webhooks import receiver
from tests.processes.harness import AppProcess, Cluster
from tests.processes.test_recovery import bridged, session_bridge, sessions_in_redis
from tests.processes.test_restart import agent_in_redis, agent_view, until

pytestmark = pytest.mark.slow

LEASE = 2.0


def standby_extra(lease: float = LEASE) -> dict[str, dict[str, Any]]:
    return {
        "standby": {"enabled": True, "lease_seconds": lease, "poll_seconds": 0.1},
        "queues.support": {"wrapup_seconds": 1, "ring_timeout_seconds": 10},
    }


async def pair(
    cluster: Cluster, lease: float = LEASE, extra: dict[str, dict[str, Any]] | None = None
) -> tuple[AppProcess, AppProcess]:
    """The active (started first, ready) and the standby (started, waiting)."""
    extra = {**standby_extra(lease), **(extra or {})}
    first = cluster.add("cc1", agents=("agent1",), extra=extra, name="first")
    second = cluster.add("cc1", agents=("agent1",), extra=extra, name="second")
    first.start()
    await first.ready(timeout=30 + lease)
    second.start()
    await until(lambda: _role(second, "standby"), what="the second process waiting as a standby")
    return first, second


async def _role(app: AppProcess, role: str) -> bool:
    try:
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{app.http_port}/health", timeout=1.0)
    except httpx.HTTPError:
        return False
    return health.status_code == 200 and health.json()["role"] == role


async def readiness(app: AppProcess) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        reply = await http.get(f"http://127.0.0.1:{app.http_port}/ready", timeout=1.0)
    return reply.status_code, reply.json()


async def talking_call(cluster: Cluster, app: AppProcess) -> tuple[str, str]:
    cluster.sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.1))
    channel = await cluster.sim.inject_call("5552000", "+15550003001", script=CallerScript(max_duration=600))
    view = await until(lambda: _talking(app), what="agent1 talking")
    return channel, view["call_id"]


async def _talking(app: AppProcess) -> dict[str, Any] | None:
    view = await agent_view(app)
    return view if view["state"] == "talking" else None


def subscribers(cluster: Cluster) -> int:
    """Event WebSockets open on the simulator (every process subscribes to the one application cc1)."""
    return len(cluster.sim.hub.connections)


async def test_the_standby_waits_without_a_websocket_and_says_so(cluster: Cluster) -> None:
    """While the active holds the lease, the standby answers /health with role standby and /ready with 503
    standby, and has no WebSocket open to the Stasis application."""
    first, second = await pair(cluster)
    assert await readiness(first) == (200, {"status": "ready", "role": "active"})
    assert await readiness(second) == (503, {"status": "standby", "role": "standby"})
    await anyio.sleep(LEASE)  # several of its polls
    assert subscribers(cluster) == 1 and await _role(second, "standby")


async def test_the_standby_takes_over_a_live_call_when_the_active_is_killed(cluster: Cluster, redis: Redis) -> None:
    """Caller talking to agent1, SIGKILL the active: the standby takes the lease once it runs out, recovers the
    call (same call id, the caller still up, the agent still talking on it), and the call ends normally there."""
    first, second = await pair(cluster)
    channel, call_id = await talking_call(cluster, first)
    first.kill()
    killed = time.monotonic()
    await second.ready(timeout=LEASE + 10)
    took = time.monotonic() - killed
    assert took < LEASE + 5  # within a few seconds: the lease, a poll, recovery
    view = await agent_view(second)
    assert (view["state"], view["call_id"]) == ("talking", call_id)
    assert cluster.sim.channel(channel) is not None
    assert await readiness(second) == (200, {"status": "ready", "role": "active"})
    await cluster.sim.hangup(channel, 16)
    await until(lambda: _ended(second, call_id), what="the call ended through the new active")
    # The agent's write is the ACD's round, not the call record's batch: either may reach Redis first.
    await until(lambda: _agent_done(redis, cluster), what="agent1 out of the call in Redis")
    assert [c for c in cluster.sim.channels() if c["name"].startswith("PJSIP/agent1")] == []


async def _agent_done(redis: Redis, cluster: Cluster) -> bool:
    return (await agent_in_redis(redis, cluster)).state in ("wrapup", "available")


def _ended(app: AppProcess, call_id: str) -> bool:
    return any(
        line.get("event") == "call.ended" and line.get("call_id") == call_id and line.get("outcome") != "unfinished"
        for line in app.lines()
    )


async def test_a_stopped_active_hands_over_at_once(cluster: Cluster, redis: Redis) -> None:
    """SIGTERM to the active with a standby waiting: no drain (the call stays up), the lease is given up at once
    (the standby takes over long before a 20 s lease could have run out), the standby goes on with the call."""
    first, second = await pair(cluster, lease=20)
    channel, call_id = await talking_call(cluster, first)
    stopped = time.monotonic()
    assert await anyio.to_thread.run_sync(first.stop) == 0  # in a thread: the simulator runs on this loop
    await second.ready(timeout=15)
    assert time.monotonic() - stopped < 10
    assert any(line.get("event") == "standby.released" and line.get("released") for line in first.lines())
    assert cluster.sim.channel(channel) is not None
    view = await agent_view(second)
    assert (view["state"], view["call_id"]) == ("talking", call_id)
    assert not any(
        line.get("event") == "call.ended" and line.get("outcome") not in (None, "unfinished") for line in first.lines()
    )


async def test_a_process_paused_past_its_lease_is_fenced_and_exits(cluster: Cluster, redis: Redis) -> None:
    """SIGSTOP the active past its lease: the standby takes over (a new fencing token); SIGCONT the old one: it
    writes nothing more (the agent's changes after the takeover are all the new active's), logs why it stops and
    exits with status 3."""
    first, second = await pair(cluster)
    channel, call_id = await talking_call(cluster, first)
    first.pause()
    try:
        await second.ready(timeout=LEASE + 10)
    finally:
        first.resume()
    assert first.exited(timeout=15) == EXIT_STEPPED_DOWN
    reasons = [line for line in first.lines() if line.get("event") in ("standby.stepped_down", "app.stepped_down")]
    assert reasons and reasons[-1]["level"] == "error"
    keys = Keys(cluster.prefix, "t1")
    fence = int(await redis.get(keys.node_fence(second_node(second))))
    assert fence == 2  # the first start took token 1, the takeover 2
    await cluster.sim.hangup(channel, 16)
    await until(lambda: _ended(second, call_id), what="the call ended through the new active")

    async def origins_of_changes() -> set[str]:
        return {fields[b"origin"].decode() for _, fields in await redis.xrange(keys.agent_changes)}

    # The agent freed by the call's end: written by the new active's store a moment after its call.ended line.
    origins = await until(lambda: _two_or_more(origins_of_changes()), what="the new active's agent change")
    first_instance = _instance(first)
    changes_after = [
        fields[b"origin"].decode()
        for ident, fields in await redis.xrange(keys.agent_changes)
        if fields[b"origin"].decode() == first_instance and _after_takeover(ident, second)
    ]
    assert changes_after == [] and len(origins) >= 2


async def _two_or_more(found: Awaitable[set[str]]) -> set[str] | None:
    values = await found
    return values if len(values) >= 2 else None


def second_node(app: AppProcess) -> str:
    [line] = [line for line in app.lines() if line.get("event") == "standby.active"][-1:]
    return str(line["instance"]).rsplit(".", 1)[0]


def _instance(app: AppProcess) -> str:
    return str(next(line for line in app.lines() if line.get("event") == "standby.waiting")["instance"])


def _after_takeover(ident: bytes, second: AppProcess) -> bool:
    took = [line for line in second.lines() if line.get("event") == "standby.active"][-1]
    return int(ident.split(b"-")[0]) / 1000 >= _epoch(took["timestamp"])


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


async def test_application_replaced_makes_the_process_step_down(cluster: Cluster) -> None:
    """A second process subscribing to the same Stasis application (no standby configured): Asterisk sends the
    first ApplicationReplaced; it logs it and exits with status 3 instead of sitting deaf."""
    first = cluster.add("cc1", agents=(), name="first")
    second = cluster.add("cc1", agents=(), name="second")
    first.start()
    await first.ready()
    second.start()
    await second.ready()
    assert first.exited(timeout=15) == EXIT_STEPPED_DOWN
    assert any(line.get("event") == "ari.application_replaced" for line in first.lines())
    assert any(line.get("event") == "app.stepped_down" for line in first.lines())


# Commands that change nothing (or, as the consumer group's reads, nothing that a write of the active depends on).
_READS = {
    "GET",
    "MGET",
    "HGET",
    "HMGET",
    "HGETALL",
    "HVALS",
    "HSCAN",
    "HLEN",
    "EXISTS",
    "SMEMBERS",
    "SCARD",
    "TIME",
    "ZRANGE",
    "ZREVRANGE",
    "ZRANGEBYSCORE",
    "ZRANGEBYLEX",
    "ZSCORE",
    "ZMSCORE",
    "ZCARD",
    "ZCOUNT",
    "LRANGE",
    "XRANGE",
    "XREVRANGE",
    "XREAD",
    "XREADGROUP",
    "XAUTOCLAIM",
    "XINFO",
    "XPENDING",
    "PING",
    "INFO",
    "ROLE",
    "HELLO",
    "CLIENT",
    "WATCH",
    "UNWATCH",
    "SCAN",
    "TYPE",
    "PTTL",
    "TTL",
    "SENTINEL",
    "SELECT",
    "AUTH",
    "COMMAND",
    "DUMP",
}


def redis_ports(pid: int, redis_port: int) -> set[int]:
    """The local ports of the process's TCP connections to Redis (from /proc: its sockets, the kernel's table)."""
    inodes: set[int] = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                inodes.add(int(link[8:-1]))
    ports: set[int] = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/net/{table}") as rows:
            for row in rows.readlines()[1:]:
                fields = row.split()
                if int(fields[9]) in inodes and int(fields[2].rsplit(":", 1)[1], 16) == redis_port:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


class Monitor:
    """Every command Redis runs on the test's keys, with the client port it came from (MONITOR)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix
        self.seen: list[tuple[int, str]] = []

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        async with self.redis.monitor() as monitor:
            task_status.started()
            async for info in monitor.listen():
                if info["client_type"] == "tcp" and self.prefix in info["command"]:
                    self.seen.append((int(info["client_port"]), info["command"]))

    def writes(self, ports: set[int], since: int = 0, token: int | None = None) -> list[str]:
        """The writes from ``ports`` after the ``since``-th command seen. A fenced script sent under ``token`` (its
        last argument) is not one: Redis refused it (the token had moved), so it changed nothing."""
        found = []
        for port, command in self.seen[since:]:
            words = command.split(" ")
            if port not in ports or words[0].upper() in _READS:
                continue
            if token is not None and words[0].upper() in ("EVALSHA", "EVAL") and words[-1] == str(token):
                continue
            if any(word.endswith(":holder") for word in words[3:5]):
                continue  # the lease's own renewal: refused by Redis once another process holds the node
            found.append(command[:160])
        return found


async def test_a_process_woken_after_a_takeover_lands_no_write(cluster: Cluster, redis: Redis, redis_url: str) -> None:
    """SIGSTOP the active (a call talking, a webhook subscription delivering, agent1 holding a seat) past its lease;
    the standby takes over and ends the call (its ticket, its webhooks); SIGCONT the old one: from the moment it
    wakes until it exits (status 3), none of its connections writes to Redis (no ticket, webhook claim or record,
    seat, presence or callback write), and the CRM got every webhook once."""
    redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    first, second = await pair(cluster, extra={"webhooks": {"egress_allow": ["127.0.0.0/8"], "poll_interval": 0.2}})
    monitor = Monitor(Redis.from_url(redis_url), cluster.prefix)
    async with receiver() as crm, anyio.create_task_group() as tg, first.api() as api:
        await tg.start(monitor.run)
        created = await api.post(
            "/webhooks/subscriptions", json={"url": crm.url, "events": ["call.*", "ticket.*", "agent.*"]}
        )
        assert created.status_code == 201, created.text
        channel, call_id = await talking_call(cluster, first)
        await until(lambda: len(crm.received) > 0, what="the CRM's first webhook")
        assert first.process is not None
        old = redis_ports(first.process.pid, redis_port)
        await until(lambda: monitor.writes(old), what="the active's writes seen (the check can see them)")

        first.pause()
        old |= redis_ports(first.process.pid, redis_port)
        await second.ready(timeout=LEASE + 10)
        await cluster.sim.hangup(channel, 16)
        await until(lambda: _ended(second, call_id), what="the call ended through the new active")
        await until(lambda: _hooked(crm, "call.ended"), what="call.ended delivered by the new active")

        woken = len(monitor.seen)
        first.resume()
        while first.process.poll() is None:  # the connections it opens after waking are its too
            with contextlib.suppress(OSError):
                old |= redis_ports(first.process.pid, redis_port)
            await anyio.sleep(0.005)
        assert first.exited(timeout=15) == EXIT_STEPPED_DOWN
        await anyio.sleep(0.5)  # MONITOR's stream has caught up with the old process's last commands
        tg.cancel_scope.cancel()
    await monitor.redis.aclose()
    landed = monitor.writes(old, since=woken, token=1)
    assert landed == [], "\n".join(landed)
    ids = [headers["webhook-id"] for headers, _ in crm.received]
    assert len(ids) == len(set(ids))  # no webhook sent twice
    keys = Keys(cluster.prefix, "t1")
    assert await redis.hget(keys.tickets_by_call, call_id) is not None  # the call's ticket: the new active's


def _hooked(crm: Any, kind: str) -> bool:
    return any(json.loads(body).get("type") == kind for _, body in crm.received)


async def test_a_supervisor_session_goes_on_through_a_hand_over(cluster: Cluster, redis: Redis) -> None:
    """sv1 listening to a call, SIGTERM to the active with a standby waiting: the session is left as it is (not
    ended on the way out), the standby adopts it (the supervisor still bridged with the snoop, not rung again), the
    supervisor barges in through the new active, and when the caller hangs up nothing is left in the simulator."""
    first, second = await pair(cluster, lease=20, extra={"supervisors.sv1": {"endpoint": "PJSIP/sup1"}})
    cluster.sim.add_phone("PJSIP/sup1", PhoneBehaviour(answer_after=0.1))
    channel, call_id = await talking_call(cluster, first)
    async with first.api() as api:
        asked = await api.post(f"/calls/{call_id}/monitor", json={"supervisor": "sv1", "mode": "listen"})
        session = asked.json()["session_id"]
    await until(lambda: session_bridge(cluster, session), what="sv1 listening")
    assert await anyio.to_thread.run_sync(first.stop) == 0
    await second.ready(timeout=15)
    assert any(line.get("event") == "monitor.adopted" for line in second.lines())
    assert session_bridge(cluster, session) is not None
    async with second.api() as api:
        again = await api.post(f"/calls/{call_id}/monitor", json={"supervisor": "sv1", "mode": "barge"})
        assert again.status_code == 202 and again.json()["session_id"] == session
    await until(
        lambda: any(f"{session}-sup" in members and channel in members for members in bridged(cluster)),
        what="sv1 barged into the call",
    )
    await cluster.sim.hangup(channel, 16)
    await until(lambda: cluster.sim.channels() == [] and cluster.sim.bridges() == [], what="nothing left at all")
    assert await sessions_in_redis(redis, cluster) == {}
