"""Redis loses its data (the test deletes the tenant's keys under its own prefix: a restart without persistence)
while a progressive campaign's lead is ringing. The dialer finds its campaign gone at its next poll and writes back
what it holds: the campaign, the lead in progress with its lease. The call goes on, and ends with one recorded
attempt; the lead is never dialed twice. Leads no process held are gone: said once, in ``campaign.leads_lost``;
with leads still to dial, or the do-not-call list, lost, the campaign goes back paused, never dialing on blindly."""

from __future__ import annotations

from collections import Counter
from typing import Any

from redis.asyncio import Redis
from structlog.testing import capture_logs

from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.e2e.helpers import eventually
from tests.e2e.test_dialer import DIALER, agents, campaign, events, lines_up, phones


async def wipe(app: Application, redis: Redis) -> None:
    found = [key async for key in redis.scan_iter(match=f"{app.store.keys.base}:*", count=1000)]
    assert found, "the tenant had keys"
    await redis.delete(*found)


async def ringing(sim: Simulator) -> str:
    """The number of the first lead dialed, once its phone rings."""
    for _ in range(20):
        await sim.advance(0.5)
        if dialed(sim):
            [(phone, _)] = dialed(sim).items()
            return phone.removeprefix("PJSIP/").removesuffix("@provider1")
    raise AssertionError("no lead was dialed")


async def after_the_loss(app: Application, sim: Simulator, redis: Redis, ringing: str) -> list[dict[str, Any]]:
    """Wipe, then the dialer's next poll: what it logged about it."""
    await wipe(app, redis)
    with capture_logs() as logs:
        await sim.advance(1.0)
    held = await app.campaigns.leads.by_number("renewals", ringing)
    assert held is not None and held.state == "dialing" and held.holder == app.dialer.holder, held
    # The rest of the process (agents, lines, calls) is written back at the presence's next beat.
    await eventually(lambda: app.presence.losses >= 1, timeout=10.0, what="the presence finding the loss")
    return logs


def dialed(sim: Simulator) -> Counter[str]:
    return Counter(o["endpoint"] for o in sim.originates() if o["endpoint"].endswith("@provider1"))


async def test_the_lead_in_progress_finishes_and_a_campaign_that_lost_leads_and_its_list_is_paused(
    sim: Simulator, start_app, redis: Redis
) -> None:
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=6.0, talk=5.0))
    phones(sim, "p1")
    async with start_app(DIALER + agents("p1")) as app:
        await lines_up(app, sim, "p1")
        await app.campaigns.add_dnc(["+12025559999"], "US", "asked", by="test")
        await campaign(app, 12, dial_mode="progressive")
        phone = await ringing(sim)
        logs = await after_the_loss(app, sim, redis, phone)
        assert [e["gone"] for e in logs if e["event"] == "dialer.campaigns_lost"] == [["renewals"]]
        stored = await app.campaigns.campaigns.require("renewals")
        assert stored.state == "paused"
        for _ in range(30):
            await sim.advance(1.0)
        lead = await app.campaigns.leads.by_number("renewals", phone)
        assert lead is not None and lead.state == "done", lead
        assert [a.outcome for a in lead.attempts] == ["answered"]
        assert dialed(sim) == {f"PJSIP/{phone}@provider1": 1}, "paused: nothing else dialed"
        [lost] = await events(app, "campaign.leads_lost")
        held = lost["written_back"]  # the one ringing, and those the pacer had claimed to dial next
        assert lost["undialed"] == 12 - held > 0 and lost["do_not_call_lost"] == 1, lost
        [paused] = await events(app, "campaign.paused")
        assert paused["reason"] == "redis_data_lost"
        assert paused["lost"] == ["leads_lost", "do_not_call_list_lost"]
        stats = await app.campaigns.stats("renewals")
        assert stats.leads == held and stats.attempts == 1 and stats.outcomes == {"answered": 1}
        assert stats.by_state["new"] == held - 1, "the others given back undialed when it paused"


async def test_a_campaign_that_lost_nothing_to_dial_runs_on_and_finishes(
    sim: Simulator, start_app, redis: Redis
) -> None:
    """The fault suite's campaign: its one lead ringing at the loss, no do-not-call list."""
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=6.0, talk=5.0))
    phones(sim, "p1")
    async with start_app(DIALER + agents("p1")) as app:
        await lines_up(app, sim, "p1")
        await campaign(app, 1, dial_mode="progressive")
        phone = await ringing(sim)
        await after_the_loss(app, sim, redis, phone)
        for _ in range(30):
            await sim.advance(1.0)
        lead = await app.campaigns.leads.by_number("renewals", phone)
        assert lead is not None and [a.outcome for a in lead.attempts] == ["answered"], lead
        assert (await app.campaigns.campaigns.require("renewals")).state == "finished"
        assert dialed(sim) == {f"PJSIP/{phone}@provider1": 1}
        [lost] = await events(app, "campaign.leads_lost")
        assert lost["undialed"] == 0 and lost["do_not_call_lost"] == 0
        assert await events(app, "campaign.paused") == []


async def test_a_campaign_another_process_wrote_back_first_gets_this_ones_lead_back(
    sim: Simulator, start_app, redis: Redis
) -> None:
    """Another process (dialing other leads, or none) wrote the campaign back before this one polled: the campaign
    is there, its leads are fewer than this process last read, and the lead ringing here goes back all the same;
    the loss was said by the process that wrote the campaign back, not again."""
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=6.0, talk=5.0))
    phones(sim, "p1")
    async with start_app(DIALER + agents("p1")) as app:
        await lines_up(app, sim, "p1")
        await campaign(app, 1, dial_mode="progressive")
        phone = await ringing(sim)
        written = await app.campaigns.campaigns.require("renewals")
        await wipe(app, redis)
        assert await app.campaigns.campaigns.restore(written)  # the other process
        with capture_logs() as logs:
            await sim.advance(1.0)
        assert [e["fewer_leads"] for e in logs if e["event"] == "dialer.campaigns_lost"] == [["renewals"]]
        held = await app.campaigns.leads.by_number("renewals", phone)
        assert held is not None and held.state == "dialing" and held.holder == app.dialer.holder, held
        assert await events(app, "campaign.leads_lost") == []
        await eventually(lambda: app.presence.losses >= 1, timeout=10.0, what="the presence finding the loss")
        for _ in range(30):
            await sim.advance(1.0)
        lead = await app.campaigns.leads.by_number("renewals", phone)
        assert lead is not None and [a.outcome for a in lead.attempts] == ["answered"], lead
        assert dialed(sim) == {f"PJSIP/{phone}@provider1": 1}


async def test_a_call_that_ends_before_the_write_back_has_its_attempt_recorded_after_it(
    sim: Simulator, start_app, redis: Redis
) -> None:
    """The person hangs up right after the wipe, before the dialer polled: Redis cannot take the attempt (its
    campaign is gone), so the lead stays claimed in the process; the poll writes it back, and the attempt after it."""
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=2.0, talk=None))
    phones(sim, "p1")
    async with start_app(DIALER + agents("p1")) as app:
        await lines_up(app, sim, "p1")
        await campaign(app, 1, dial_mode="progressive")
        phone = await ringing(sim)
        [call] = [o["channel_id"] for o in sim.originates(f"PJSIP/{phone}@provider1")]
        for _ in range(6):
            await sim.advance(0.5)
        assert [kind for kind in await events(app, "dialer.connected")], "the person talks to p1"
        await wipe(app, redis)
        with capture_logs() as logs:
            await sim.hangup(call)
            await sim.settle()
        assert [e["lead"] for e in logs if e["event"] == "dialer.attempt_pending"], logs
        for _ in range(3):
            await sim.advance(1.0)
        lead = await app.campaigns.leads.by_number("renewals", phone)
        assert lead is not None and [a.outcome for a in lead.attempts] == ["answered"], lead
        assert lead.attempts[0].call_id == call and lead.state == "done"
        assert (await app.campaigns.stats("renewals")).attempts == 1
