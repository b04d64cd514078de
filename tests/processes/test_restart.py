"""A process killed with SIGKILL and started again forgets nothing: an agent freed while it was down is freed in
Redis too, and every agent state keeps its deadline (wrap-up, on hold, on break, reserved and ringing)."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest
from redis.asyncio import Redis

from callcenter_ari.acd.records import AgentRecord
from callcenter_ari.sim import CallerScript, PhoneBehaviour
from callcenter_ari.store.agents import AgentStore
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from tests.processes.harness import AppProcess, Cluster, until

pytestmark = pytest.mark.slow

AGENT_TOKEN = "proc-agent1-token-0123456789"


def agent_extra(
    wrapup: float = 0, hold_alert: float = 30, ring: float = 10, teams: bool = False
) -> dict[str, dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = {
        "queues.support": {
            "wrapup_seconds": wrapup,
            "wrapup_max_seconds": 600,
            "hold_alert_seconds": hold_alert,
            "ring_timeout_seconds": ring,
        },
        "api.tokens.agent1": {"token": AGENT_TOKEN, "role": "agent", "agent_id": "agent1"},
    }
    if teams:
        tables["teams.floor"] = {"break_minutes": 0.1, "break_reasons": ["break"]}
        tables["agents.agent1"] = {"teams": ["floor"]}
    return tables


async def agent_in_redis(redis: Redis, cluster: Cluster, agent_id: str = "agent1") -> AgentRecord:
    store = AgentStore(Store(redis, Keys(cluster.prefix, "t1"), now=lambda: 0.0), origin="test", seat_limit=None)
    [record] = [a for a in await store.read_all() if a.agent_id == agent_id]
    return record


async def agent_view(app: AppProcess, agent_id: str = "agent1") -> dict[str, Any]:
    async with app.api() as api:
        reply = await api.get(f"/agents/{agent_id}")
        assert reply.status_code == 200, reply.text
        view: dict[str, Any] = reply.json()
        return view


async def start(cluster: Cluster, extra: dict[str, dict[str, Any]]) -> AppProcess:
    app = cluster.add("cc1", agents=("agent1",), extra=extra)
    app.start()
    await app.ready()
    return app


async def restart(app: AppProcess) -> None:
    app.kill()
    app.start()
    await app.ready()


async def talking(cluster: Cluster, app: AppProcess, caller: str, **script: Any) -> tuple[str, str]:
    """A caller answered by agent1; returns (caller channel, call id)."""
    channel = await cluster.sim.inject_call("5552000", caller, script=CallerScript(max_duration=600, **script))
    view = await until(lambda: _on_call(app), what="agent1 talking")
    return channel, view["call_id"]


async def _on_call(app: AppProcess) -> dict[str, Any] | None:
    view = await agent_view(app)
    return view if view["state"] == "talking" else None


async def test_an_agent_whose_caller_hung_up_while_the_process_was_down_is_freed(
    cluster: Cluster, redis: Redis
) -> None:
    """Caller talking, kill -9, the caller hangs up, restart: the agent is in wrap-up for that call, in Redis as in
    the API, then available; never talking on a call that is gone."""
    cluster.sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.1))
    app = await start(cluster, agent_extra(wrapup=1))
    channel, call_id = await talking(cluster, app, "+15550001001")
    app.kill()
    await cluster.sim.hangup(channel, 16)
    app.start()
    await app.ready()
    record = await agent_in_redis(redis, cluster)
    assert (record.state, record.call_id) in (("wrapup", call_id), ("available", ""))
    await until(lambda: _state_is(app, "available"), what="available after wrap-up")
    assert (await agent_in_redis(redis, cluster)).state == "available"
    agent_legs = [c for c in cluster.sim.channels() if c["name"].startswith("PJSIP/agent1")]
    assert agent_legs == []  # the agent's leg of the dead call was hung up


async def _state_is(app: AppProcess, state: str) -> bool:
    return (await agent_view(app))["state"] == state


async def test_wrap_up_keeps_its_end_through_a_restart(cluster: Cluster, redis: Redis) -> None:
    """An agent in a 120 s wrap-up is still in wrap-up after a restart, ending when it would have."""
    cluster.sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.1))
    app = await start(cluster, agent_extra(wrapup=120))
    channel, _ = await talking(cluster, app, "+15550001002")
    await cluster.sim.hangup(channel, 16)
    view = await until(lambda: _view_in(app, "wrapup"), what="wrap-up")
    await restart(app)
    after = await agent_view(app)
    assert after["state"] == "wrapup" and after["until"] == pytest.approx(view["until"], abs=0.01)
    assert (await agent_in_redis(redis, cluster)).until == pytest.approx(view["until"], abs=0.01)


async def _view_in(app: AppProcess, state: str) -> dict[str, Any] | None:
    view = await agent_view(app)
    return view if view["state"] == state else None


async def test_a_break_keeps_its_deadline_and_its_overrun_alert_through_a_restart(
    cluster: Cluster, redis: Redis
) -> None:
    """An agent on a policed 6 s break: after a restart the break ends when it would have, and the overrun alert
    reaches the stream once, at the deadline."""
    app = await start(cluster, agent_extra(teams=True))
    async with app.api() as api:
        api.headers["Authorization"] = f"Bearer {AGENT_TOKEN}"
        reply = await api.post("/agents/agent1/not-ready", json={"reason": "break"})
        assert reply.status_code == 200, reply.text
        deadline = reply.json()["until"]
    assert deadline is not None
    await restart(app)
    assert (await agent_view(app))["until"] == pytest.approx(deadline, abs=0.01)
    alerts = await until(lambda: _alerts(redis, cluster, "break_overrun"), what="break overrun alert")
    await anyio.sleep(1.0)
    alerts = await _alerts(redis, cluster, "break_overrun")
    assert len(alerts) == 1 and alerts[0]["at"] == pytest.approx(deadline, abs=1.0)


async def _alerts(redis: Redis, cluster: Cluster, kind: str) -> list[dict[str, Any]]:
    import msgspec

    out = []
    for _, fields in await redis.xrange(Keys(cluster.prefix, "t1").events):
        if fields[b"kind"] in (b"acd.alert", b"call.hold_alert"):
            data = msgspec.json.decode(fields[b"data"])
            if fields[b"kind"] == b"call.hold_alert" or data.get("kind") == kind:
                out.append({**data, "at": float(fields[b"at"])})
    return out


async def test_hold_keeps_its_flag_and_its_alert_through_a_restart(cluster: Cluster, redis: Redis) -> None:
    """Talking, hold, kill -9, restart: the agent reads on hold, unhold takes the caller back (the call goes on,
    nobody re-enters the IVR), and the hold alert comes once, when the hold has lasted hold_alert_seconds."""
    cluster.sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.1))
    app = await start(cluster, agent_extra(hold_alert=4))
    channel, call_id = await talking(cluster, app, "+15550001003")
    async with app.api() as api:
        assert (await api.post(f"/calls/{call_id}/hold")).status_code == 202
    await until(lambda: _state_is(app, "on_hold"), what="on hold")
    await restart(app)
    assert (await agent_view(app))["state"] == "on_hold"
    alerts = await until(lambda: _alerts(redis, cluster, "hold"), what="hold alert")
    async with app.api() as api:
        assert (await api.post(f"/calls/{call_id}/unhold")).status_code == 202
    await until(lambda: _state_is(app, "talking"), what="talking again")
    assert len(await _alerts(redis, cluster, "hold")) == 1 == len(alerts)
    starts = [line for line in app.lines() if line.get("event") == "call.ended" and line.get("call_id") == call_id]
    assert starts == []  # the call goes on
    assert cluster.sim.channel(channel) is not None


async def test_a_ringing_agent_keeps_ringing_through_a_restart_until_the_original_timeout(
    cluster: Cluster, redis: Redis
) -> None:
    """The agent's phone rings (it will not answer); kill -9 and restart: the agent is still reserved for that
    caller, and the ring-no-answer comes when it would have, making them not ready."""
    cluster.sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=600))
    app = await start(cluster, agent_extra(ring=6))
    await cluster.sim.inject_call("5552000", "+15550001004", script=CallerScript(max_duration=600))
    reserved = await until(lambda: _view_in(app, "reserved"), what="agent1 reserved")
    rung_at = (await agent_in_redis(redis, cluster)).since
    await restart(app)
    back = time.time()
    view = await agent_view(app)
    if back - rung_at < 5:  # a restart quicker than the ring: the agent is still reserved for the caller
        assert (view["state"], view["call_id"]) == ("reserved", reserved["call_id"])
    await until(lambda: _state_is(app, "not_ready"), timeout=20, what="ring no answer")
    record = await agent_in_redis(redis, cluster)
    assert record.reason == "ring_no_answer"
    # Asterisk's ring timeout, counted from the ring, not from the restart (or at the restart, if it rang out then)
    assert rung_at + 5.5 <= record.since <= max(rung_at + 7.5, back + 1.5)


async def reports(app: AppProcess) -> dict[float, dict[str, Any]]:
    """Every interval's report (a test may straddle a quarter hour)."""
    async with app.api() as api:
        starts = (await api.get("/reports/intervals/")).json()["starts"]
        return {start: (await api.get(f"/reports/intervals/{start}")).json() for start in starts}


def total(by_interval: dict[float, dict[str, Any]], figure: str) -> int:
    return sum(int(body["queues"]["support"][figure]) for body in by_interval.values() if "support" in body["queues"])


async def test_interval_reports_are_the_same_through_a_restart(cluster: Cluster) -> None:
    """Two calls handled, kill -9, restart: the intervals' queue figures and each agent's calls are what they were
    (rebuilt from the event stream), and a call after the restart adds to them."""
    cluster.sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.1))
    app = await start(cluster, agent_extra(wrapup=0.2))
    for n in range(2):
        channel = await cluster.sim.inject_call("5552000", f"+1555000200{n}", script=CallerScript(talk=0.3))
        await until(lambda channel=channel: cluster.sim.channel(channel) is None, what="call over")
    await until(lambda: _state_is(app, "available"), what="agent available after wrap-up")
    before = await reports(app)
    assert (total(before, "answered"), total(before, "handled")) == (2, 2)
    await restart(app)
    after = await reports(app)
    assert {start: body["queues"] for start, body in after.items()} == {
        start: body["queues"] for start, body in before.items()
    }
    calls = {start: body["agents"]["agent1"]["calls"] for start, body in before.items()}
    assert {start: body["agents"]["agent1"]["calls"] for start, body in after.items()} == calls
    channel = await cluster.sim.inject_call("5552000", "+15550002009", script=CallerScript(talk=0.3))
    await until(lambda: cluster.sim.channel(channel) is None, what="third call over")
    await until(lambda: _state_is(app, "available"), what="agent available again")
    later = await reports(app)
    assert (total(later, "entered"), total(later, "handled")) == (3, 3)
