"""A trunk's lines are counted in Redis for every process, inbound calls included, and survive a restart: a full
trunk refuses the next caller (cause 34) and has no line to dial out on, whichever process asks."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from callcenter_ari.sim import CallerScript, PhoneBehaviour
from callcenter_ari.store.keys import Keys
from tests.processes.harness import AppProcess, Cluster, until

pytestmark = pytest.mark.slow

TRUNK: dict[str, dict[str, Any]] = {
    "trunks.provider1": {"kind": "pjsip", "endpoint": "provider1", "capacity": 2, "region": "US"},
    "dids.5554000": {"flow": "out"},
    "ivr.destinations.hq": {"number": "+12025550143", "trunk": "provider1"},
    "ivr.flows.out": {"start": "hq"},
    "ivr.flows.out.nodes.hq": {"kind": "transfer", "target": "hq"},
}
SCRIPT = CallerScript(max_duration=600)


async def lines_in_use(redis: Redis, cluster: Cluster) -> int:
    return int(await redis.hlen(Keys(cluster.prefix, "t1").trunk_lines("provider1")))


async def events(redis: Redis, cluster: Cluster, kind: str) -> list[dict[str, Any]]:
    rows = await redis.xrange(Keys(cluster.prefix, "t1").events)
    return [msgspec.json.decode(f[b"data"]) for _, f in rows if f[b"kind"] == kind.encode()]


async def transferring_out(cluster: Cluster, redis: Redis, app: str, caller: str) -> str:
    """A caller on provider1 whose call is transferred out over provider1 and answered there: two lines."""
    before = await lines_in_use(redis, cluster)
    channel = await cluster.sim.inject_call("5554000", caller, trunk="provider1", script=SCRIPT, app=app)
    await until(lambda: _lines_are(redis, cluster, before + 2), what=f"{caller} holding two lines")
    await until(lambda: _bridged(cluster, channel), what=f"{caller} talking to the destination")
    return channel


def _bridged(cluster: Cluster, channel: str) -> bool:
    caller = cluster.sim.core.channels.get(channel)
    return caller is not None and caller.bridge is not None and len(caller.bridge.channels) == 2


async def _lines_are(redis: Redis, cluster: Cluster, count: int) -> bool:
    return await lines_in_use(redis, cluster) == count


async def start(cluster: Cluster, name: str) -> AppProcess:
    app = cluster.add(name, agents=(), extra=TRUNK)
    app.start()
    await app.ready()
    return app


async def test_a_full_trunk_refuses_callers_and_transfers_out_in_every_process(cluster: Cluster, redis: Redis) -> None:
    """Two lines, two processes: one call in and transferred out fills the trunk; the next caller on it is refused
    with cause 34 by the other process, which has no line to transfer a caller from elsewhere out on either; once
    the first call ends, both lines are free for everyone."""
    cluster.sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=0.2))
    await start(cluster, "cc1")
    await start(cluster, "cc2")
    first = await transferring_out(cluster, redis, "cc1", "+15551230001")

    refused = await cluster.sim.inject_call("5552000", "+15551230002", trunk="provider1", script=SCRIPT, app="cc2")
    await until(lambda: cluster.sim.channel(refused) is None, what="the caller past the capacity refused")
    [seen] = await until(lambda: events(redis, cluster, "call.refused"), what="call.refused")
    assert (seen["refused"], seen["source"]) == ("trunk_full", "provider1")

    elsewhere = await cluster.sim.inject_call("5554000", "+15551230003", script=SCRIPT, app="cc2")  # other trunk
    await until(lambda: cluster.sim.channel(elsewhere) is None, what="the transfer out refused")
    ended = [e for e in await events(redis, cluster, "call.ended") if e.get("outcome") == "transfer_failed"]
    assert len(ended) == 1
    assert await lines_in_use(redis, cluster) == 2

    await cluster.sim.hangup(first, 16)
    await until(lambda: _lines_are(redis, cluster, 0), what="both lines free")
    await transferring_out(cluster, redis, "cc2", "+15551230004")


async def test_lines_in_use_are_kept_through_a_restart_and_freed_when_their_call_ended_meanwhile(
    cluster: Cluster, redis: Redis
) -> None:
    """kill -9 with a call holding both lines: after the restart the trunk is still full (another caller is
    refused) until that call ends; a call that ended while the process was down has its lines freed at the
    restart."""
    cluster.sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=0.2))
    app = await start(cluster, "cc1")
    held = await transferring_out(cluster, redis, "cc1", "+15551230011")
    app.kill()
    app.start()
    await app.ready()
    assert await lines_in_use(redis, cluster) == 2
    refused = await cluster.sim.inject_call("5552000", "+15551230012", trunk="provider1", script=SCRIPT, app="cc1")
    await until(lambda: cluster.sim.channel(refused) is None, what="refused while the lines are held")
    await cluster.sim.hangup(held, 16)
    await until(lambda: _lines_are(redis, cluster, 0), what="lines free once the call ended")

    gone = await transferring_out(cluster, redis, "cc1", "+15551230013")
    app.kill()
    await cluster.sim.hangup(gone, 16)
    app.start()
    await app.ready()
    assert await lines_in_use(redis, cluster) == 0
