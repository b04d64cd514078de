"""Recovery after SIGKILL finds every divergence between Redis and Asterisk and settles it: each test reproduces a
state that a restart used to get wrong (issue 14, defects 1-4) with a real process killed and started again, and
checks the media side (the simulator's channels and bridges) as well as what Redis and the API say."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from callcenter_ari.sim import CallerScript, PhoneBehaviour
from callcenter_ari.store.keys import Keys
from tests.processes.harness import AppProcess, Cluster
from tests.processes.test_restart import agent_in_redis, agent_view, until

pytestmark = pytest.mark.slow

TABLES: dict[str, dict[str, Any]] = {
    "queues.support": {"wrapup_seconds": 1, "ring_timeout_seconds": 20, "hold_alert_seconds": 60},
    "agents.agent2": {"logged_in": False},
    "supervisors.sv1": {"endpoint": "PJSIP/sup1"},
}


async def start(cluster: Cluster) -> AppProcess:
    for phone in ("PJSIP/agent1", "PJSIP/agent2", "PJSIP/sup1"):
        cluster.sim.add_phone(phone, PhoneBehaviour(answer_after=0.1))
    app = cluster.add("cc1", agents=("agent1", "agent2"), extra=TABLES)
    app.start()
    await app.ready()
    return app


async def restart(app: AppProcess) -> None:
    app.kill()
    app.start()
    await app.ready()


async def talking(cluster: Cluster, app: AppProcess, caller: str) -> tuple[str, str]:
    channel = await cluster.sim.inject_call("5552000", caller, script=CallerScript(max_duration=600))
    view = await until(lambda: _in_state(app, "agent1", "talking"), what="agent1 talking")
    return channel, view["call_id"]


async def _in_state(app: AppProcess, agent: str, state: str) -> dict[str, Any] | None:
    view = await agent_view(app, agent)
    return view if view["state"] == state else None


def phones(cluster: Cluster, endpoint: str) -> list[dict[str, Any]]:
    return [c for c in cluster.sim.channels() if c["name"].startswith(f"PJSIP/{endpoint}-")]


def bridged(cluster: Cluster) -> list[set[str]]:
    """Each bridge's member channel ids."""
    return [set(b["channels"]) for b in cluster.sim.bridges()]


async def call_record(redis: Redis, cluster: Cluster, call_id: str) -> dict[str, Any]:
    import msgspec

    blob = await redis.get(Keys(cluster.prefix, "t1").call(call_id))
    assert blob is not None
    record: dict[str, Any] = msgspec.json.decode(blob)
    return record


async def post(app: AppProcess, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    async with app.api() as api:
        reply = await api.post(path, json=body) if body is not None else await api.post(path)
        assert reply.status_code in (200, 202), reply.text
        answer: dict[str, Any] = reply.json()
        return answer


async def test_the_agent_hanging_up_while_the_process_is_down_ends_the_call(cluster: Cluster, redis: Redis) -> None:
    """Defect 1: talking, kill -9, the agent hangs up, restart: the caller is not left alone in the bridge, the
    call ends, the agent goes to wrap-up then available (never talking with no channel), no bridge is left."""
    app = await start(cluster)
    channel, call_id = await talking(cluster, app, "+15550004001")
    app.kill()
    [agent_leg] = phones(cluster, "agent1")
    await cluster.sim.hangup(agent_leg["id"], 16)
    app.start()
    await app.ready()
    await until(lambda: cluster.sim.channel(channel) is None, what="the caller hung up")
    record = await call_record(redis, cluster, call_id)
    assert record["phase"] == "ended"
    assert (await agent_in_redis(redis, cluster)).state in ("wrapup", "available")
    await until(lambda: _in_state(app, "agent1", "available"), what="agent1 available after wrap-up")
    assert cluster.sim.bridges() == []


async def test_hold_survives_a_restart_with_no_bridge_left_behind(cluster: Cluster, redis: Redis) -> None:
    """Defect 2: talking, hold, kill -9, restart, unhold: the caller and the agent talk again in their one bridge,
    nobody re-enters the IVR, no empty bridge is left; hanging up then leaves nothing."""
    app = await start(cluster)
    channel, call_id = await talking(cluster, app, "+15550004002")
    await post(app, f"/calls/{call_id}/hold")
    await until(lambda: _in_state(app, "agent1", "on_hold"), what="on hold")
    await restart(app)
    await post(app, f"/calls/{call_id}/unhold")
    await until(lambda: _in_state(app, "agent1", "talking"), what="talking again")
    [agent_leg] = phones(cluster, "agent1")
    assert bridged(cluster) == [{channel, agent_leg["id"]}]
    assert not any(line.get("event") == "call.failed" for line in app.lines())
    await cluster.sim.hangup(channel, 16)
    await until(lambda: _in_state(app, "agent1", "available"), what="agent1 available")
    assert cluster.sim.bridges() == [] and phones(cluster, "agent1") == []


async def consulting(cluster: Cluster, app: AppProcess, caller: str) -> tuple[str, str]:
    channel, call_id = await talking(cluster, app, caller)
    await post(app, "/agents/agent2/login")
    await until(lambda: _in_state(app, "agent2", "available"), what="agent2 available")
    await post(app, f"/calls/{call_id}/consult", {"agent": "agent2"})
    await until(lambda: _consult_answered(app, call_id), what="agent2 answered the consultation")
    return channel, call_id


async def _consult_answered(app: AppProcess, call_id: str) -> bool:
    async with app.api() as api:
        view = (await api.get(f"/calls/{call_id}")).json()
    return bool(view.get("consult") and view["consult"]["answered"])


async def test_a_consultation_under_way_at_a_restart_is_cancelled_and_frees_the_consulted_agent(
    cluster: Cluster, redis: Redis
) -> None:
    """Defect 3: agent1 consults agent2, who answers; kill -9, restart: the consultation is called off (its place
    was not kept), agent2's leg is hung up and agent2 is free (not talking with no channel, in Redis as in the
    API); agent1 and the caller talk on in the call's bridge."""
    app = await start(cluster)
    channel, _call_id = await consulting(cluster, app, "+15550004003")
    await restart(app)
    await until(lambda: phones(cluster, "agent2") == [], what="agent2's leg hung up")
    await until(lambda: _free(app, "agent2"), what="agent2 free")
    assert (await agent_in_redis(redis, cluster, "agent2")).state in ("wrapup", "available")
    assert (await agent_view(app, "agent1"))["state"] == "talking"
    [agent_leg] = phones(cluster, "agent1")
    try:
        await until(lambda: bridged(cluster) == [{channel, agent_leg["id"]}], what="agent1 back with the caller")
    except AssertionError:
        raise AssertionError(f"{cluster.sim.bridges()} {cluster.sim.channels()}") from None


async def _free(app: AppProcess, agent: str) -> bool:
    return (await agent_view(app, agent))["state"] in ("wrapup", "available")


async def test_a_consulted_agent_who_hung_up_while_the_process_was_down_is_freed(
    cluster: Cluster, redis: Redis
) -> None:
    """Defect 3, the other way: the consulted agent hangs up while the process is down; after the restart agent2
    is free and agent1 is back with the caller."""
    app = await start(cluster)
    channel, _call_id = await consulting(cluster, app, "+15550004004")
    app.kill()
    [leg] = phones(cluster, "agent2")
    await cluster.sim.hangup(leg["id"], 16)
    app.start()
    await app.ready()
    await until(lambda: _free(app, "agent2"), what="agent2 free")
    await until(lambda: _in_state(app, "agent1", "talking"), what="agent1 back with the caller")
    assert cluster.sim.channel(channel) is not None


async def barging(cluster: Cluster, app: AppProcess, caller: str) -> tuple[str, str]:
    channel, call_id = await talking(cluster, app, caller)
    await post(app, f"/calls/{call_id}/monitor", {"supervisor": "sv1", "mode": "barge"})
    await until(lambda: any(len(members) == 3 for members in bridged(cluster)), what="the supervisor in the call")
    return channel, call_id


async def test_a_barging_supervisor_is_hung_up_when_the_agent_transfers_the_call(cluster: Cluster) -> None:
    """Defect 4: a supervisor barges in, the agent blind-transfers the call: the supervisor's channel does not stay
    up outside any bridge."""
    app = await start(cluster)
    _channel, call_id = await barging(cluster, app, "+15550004005")
    await post(app, "/agents/agent2/login")
    await until(lambda: _in_state(app, "agent2", "available"), what="agent2 available")
    await post(app, f"/calls/{call_id}/transfer", {"queue": "support"})
    await until(lambda: phones(cluster, "sup1") == [], what="the supervisor's leg hung up")
    await until(lambda: _in_state(app, "agent2", "talking"), what="agent2 has the call")


async def listening(cluster: Cluster, app: AppProcess, caller: str) -> tuple[str, str, str]:
    """A call talking and supervisor sv1 listening to it: (caller's channel, call id, session id)."""
    channel, call_id = await talking(cluster, app, caller)
    session = (await post(app, f"/calls/{call_id}/monitor", {"supervisor": "sv1", "mode": "listen"}))["session_id"]
    await until(lambda: session_bridge(cluster, session), what="the supervisor bridged with the snoop")
    return channel, call_id, session


def session_bridge(cluster: Cluster, session: str) -> set[str] | None:
    """The members of the session's own bridge, once it holds the supervisor and a snoop."""
    for bridge in cluster.sim.bridges():
        members = set(bridge["channels"])
        if bridge["id"].startswith(f"{session}-b") and f"{session}-sup" in members and len(members) == 2:
            return members
    return None


async def sessions_in_redis(redis: Redis, cluster: Cluster) -> dict[str, dict[str, Any]]:
    """The supervisors' sessions recorded in Redis (the node's hash)."""
    import msgspec

    found: dict[str, dict[str, Any]] = {}
    async for key in redis.scan_iter(match=f"{Keys(cluster.prefix, 't1').base}:monitor:sessions:*"):
        found.update({k.decode(): msgspec.json.decode(v) for k, v in (await redis.hgetall(key)).items()})
    return found


def leftover_objects(cluster: Cluster, session: str) -> list[str]:
    """The session's channels and bridges still in the simulator (its snoops are named after the agent's leg)."""
    channels = [
        c["id"] for c in cluster.sim.channels() if c["id"].startswith(session) or c["name"].startswith("Snoop/")
    ]
    return channels + [b["id"] for b in cluster.sim.bridges() if b["id"].startswith(session)]


async def test_a_whole_monitoring_session_goes_on_after_a_restart(cluster: Cluster, redis: Redis) -> None:
    """Listening, kill -9, restart: the session (recorded in Redis) is adopted: the supervisor is still bridged with
    the snoop, and can barge in and go back to listening through the new process; when the caller hangs up the
    session ends with the call and nothing is left in the simulator."""
    app = await start(cluster)
    channel, call_id, session = await listening(cluster, app, "+15550004006")
    assert (await sessions_in_redis(redis, cluster))[session]["mode"] == "listen"
    await restart(app)
    assert any(line.get("event") == "monitor.adopted" for line in app.lines())
    assert session_bridge(cluster, session) is not None  # still listening, nothing rung again
    [sup] = phones(cluster, "sup1")
    assert sup["id"] == f"{session}-sup"

    again = await post(app, f"/calls/{call_id}/monitor", {"supervisor": "sv1", "mode": "barge"})
    assert again["session_id"] == session
    [agent_leg] = phones(cluster, "agent1")
    trio = {channel, agent_leg["id"], f"{session}-sup"}
    await until(lambda: trio in bridged(cluster), what="the supervisor barged into the call")
    await until(lambda: leftover_objects(cluster, session) == [f"{session}-sup"], what="the snoop and its bridge gone")
    assert (await sessions_in_redis(redis, cluster))[session]["mode"] == "barge"

    await post(app, f"/calls/{call_id}/monitor", {"supervisor": "sv1", "mode": "listen"})
    await until(lambda: session_bridge(cluster, session), what="the supervisor listening again")
    assert {channel, agent_leg["id"]} in bridged(cluster)

    await cluster.sim.hangup(channel, 16)
    await until(lambda: leftover_objects(cluster, session) == [], what="nothing of the session left")
    await until(lambda: cluster.sim.channels() == [] and cluster.sim.bridges() == [], what="nothing left at all")
    assert await sessions_in_redis(redis, cluster) == {}


async def test_a_barging_supervisor_is_still_in_the_call_after_a_restart(cluster: Cluster, redis: Redis) -> None:
    """Barging, kill -9, restart: the supervisor stays in the call's bridge (adopted), can switch to whisper, and
    hangs up; the call goes on between the caller and the agent."""
    app = await start(cluster)
    channel, call_id = await barging(cluster, app, "+15550004007")
    await restart(app)
    [agent_leg] = phones(cluster, "agent1")
    [sup] = phones(cluster, "sup1")
    assert {channel, agent_leg["id"], sup["id"]} in bridged(cluster)
    session = sup["id"].removesuffix("-sup")
    await post(app, f"/calls/{call_id}/monitor", {"supervisor": "sv1", "mode": "whisper"})
    await until(lambda: session_bridge(cluster, session), what="the supervisor whispering")
    await until(lambda: {channel, agent_leg["id"]} in bridged(cluster), what="the supervisor out of the call's bridge")
    await cluster.sim.hangup(sup["id"], 16)
    await until(lambda: leftover_objects(cluster, session) == [], what="nothing of the session left")
    assert (await agent_view(app, "agent1"))["state"] == "talking"
    assert bridged(cluster) == [{channel, agent_leg["id"]}]
    assert await sessions_in_redis(redis, cluster) == {}


async def test_a_monitoring_session_partly_gone_at_a_restart_is_ended(cluster: Cluster, redis: Redis) -> None:
    """Listening, kill -9, the snoop goes while the process is down, restart: the session is ended cleanly (the
    supervisor's leg hung up, its bridge destroyed, its record dropped) and the call goes on."""
    app = await start(cluster)
    channel, _call_id, session = await listening(cluster, app, "+15550004008")
    app.kill()
    await cluster.sim.hangup(f"{session}-snoop", 16)
    app.start()
    await app.ready()
    await until(lambda: leftover_objects(cluster, session) == [], what="what was left of the session gone")
    assert (await agent_view(app, "agent1"))["state"] == "talking"
    [agent_leg] = phones(cluster, "agent1")
    assert bridged(cluster) == [{channel, agent_leg["id"]}]
    assert await sessions_in_redis(redis, cluster) == {}
