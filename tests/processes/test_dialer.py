"""The dialer in real processes: a campaign dialed by two processes on one Redis never has a lead dialed twice,
and a process killed with SIGKILL mid-campaign leaves nothing dialed twice at once when it comes back: its calls
are hung up on its return, its leads come back when their leases end, and the campaign runs to completion."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import anyio
import pytest
from redis.asyncio import Redis

from callcenter_ari.campaigns.model import CampaignSpec, RetryRule, RetryRules
from callcenter_ari.campaigns.settings import CampaignSettings
from callcenter_ari.sim import PhoneBehaviour
from callcenter_ari.store.campaign_desk import CampaignDesk
from callcenter_ari.store.keys import Keys
from callcenter_ari.trunks import PjsipTrunk
from tests.campaigns.conftest import csv_of, load
from tests.processes.harness import AppProcess, Cluster

pytestmark = pytest.mark.slow

TRUNK = PjsipTrunk(region="US", endpoint="provider1", capacity=4)
RETRY = RetryRule(after_seconds=1, max_retries=2)
SPEC = CampaignSpec(
    name="Renewals",
    queue="sales",
    trunk="provider1",
    time_zone="UTC",
    calling_hours=["00:00-23:59"],
    calling_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    dial_mode="progressive",
    retry=RetryRules(busy=RETRY, no_answer=RETRY, machine=RETRY, failed=RETRY, abandoned=RETRY),
)


def tables(*agents: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {
        "trunks.provider1": {"kind": "pjsip", "endpoint": "provider1", "capacity": 4, "region": "US"},
        "queues.sales": {"wrapup_seconds": 0.2},
        "campaigns": {"lease_seconds": 5},
    }
    for agent in agents:
        out[f"agents.{agent}"] = {"endpoint": f"PJSIP/{agent}", "queues": ["sales"], "persistent": True}
    return out


def number(n: int) -> str:
    return f"+1202555{n:04d}"


async def new_campaign(cluster: Cluster, redis: Redis, leads: int) -> CampaignDesk:
    desk = CampaignDesk(
        redis,
        Keys(cluster.prefix, "t1"),
        trunks={"provider1": TRUNK},
        queues={"sales": "Sales"},
        settings=CampaignSettings(),
        now=time.time,
    )
    await desk.create("renewals", SPEC, by="test")
    await load(desk, "renewals", csv_of(f"n{n},{number(n)}," for n in range(leads)))
    await desk.act("renewals", "start", by="test")
    return desk


def dialed(cluster: Cluster) -> list[dict[str, Any]]:
    return [o for o in cluster.sim.originates() if o["endpoint"].endswith("@provider1")]


class Watch:
    """Polls the simulator: the most calls up at once to any one number (two would be a lead dialed twice)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.most = 0

    def look(self) -> None:
        endpoints = {o["channel_id"]: o["endpoint"] for o in dialed(self.cluster)}
        up = Counter(endpoints[c["id"]] for c in self.cluster.sim.channels() if c["id"] in endpoints)
        self.most = max([self.most, *up.values()])


async def until_finished(desk: CampaignDesk, watch: Watch, timeout: float, apps: list[AppProcess]) -> None:
    with anyio.fail_after(timeout):
        while (await desk.campaigns.require("renewals")).state != "finished":
            watch.look()
            for app in apps:
                assert app.process is not None and app.process.poll() is None, app.tail()
            await anyio.sleep(0.02)


def phones(cluster: Cluster, *agents: str, talk: float) -> None:
    for agent in agents:
        cluster.sim.add_phone(f"PJSIP/{agent}", PhoneBehaviour(answer_after=0.1))
    cluster.sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=0.5, talk=talk))


async def test_two_processes_dial_one_campaign_and_no_lead_twice(cluster: Cluster, redis: Redis) -> None:
    phones(cluster, "p1", "p2", "p3", "p4", talk=0.5)
    one = cluster.add("cc1", agents=[], extra=tables("p1", "p2"))
    two = cluster.add("cc2", agents=[], extra=tables("p3", "p4"))
    for app in (one, two):
        app.start()
    await one.ready()
    await two.ready()
    desk = await new_campaign(cluster, redis, 40)
    watch = Watch(cluster)
    await until_finished(desk, watch, 90.0, [one, two])
    counts = Counter(o["endpoint"] for o in dialed(cluster))
    assert len(counts) == 40 and set(counts.values()) == {1}, "every lead dialed once"
    dialers = {o["channel_id"].rsplit("-", 2)[0] for o in dialed(cluster)}
    assert len(dialers) == 2, "both processes dialed"
    stats = await desk.stats("renewals")
    assert stats.outcomes == {"answered": 40}


async def test_a_process_killed_mid_campaign_comes_back_and_finishes_it_without_dialing_a_lead_twice_at_once(
    cluster: Cluster, redis: Redis
) -> None:
    phones(cluster, "p1", "p2", talk=2.0)
    app = cluster.add("cc1", agents=[], extra=tables("p1", "p2"))
    app.start()
    await app.ready()
    desk = await new_campaign(cluster, redis, 20)
    watch = Watch(cluster)
    with anyio.fail_after(30):
        while len(dialed(cluster)) < 6:
            watch.look()
            await anyio.sleep(0.02)
    app.kill()
    in_flight = {c["id"] for c in cluster.sim.channels() if c["id"].startswith("dl-")}
    assert in_flight, "calls were up when the process died"
    app.start()
    await app.ready()
    await until_finished(desk, watch, 90.0, [app])
    assert watch.most == 1, "a lead was dialed while its call from before the crash was still up"
    assert not in_flight & {c["id"] for c in cluster.sim.channels()}, "the calls of before the crash are gone"
    stats = await desk.stats("renewals")
    assert stats.by_state.get("dialing", 0) == 0 and stats.attempts >= 20
    assert all([bool(lead.attempts) async for batch in desk.leads.scan("renewals") for lead in batch])
    # The lines the calls of before the crash held went back when they were hung up on the process's return.
    with anyio.fail_after(10):
        while await redis.hlen(Keys(cluster.prefix, "t1").trunk_lines("provider1")):
            await anyio.sleep(0.1)
