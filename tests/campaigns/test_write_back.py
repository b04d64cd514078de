"""Redis lost its data under a running campaign (the test deletes the tenant's keys under its own prefix): what a
dialer held in memory goes back (the campaign, a claimed lead with its attempts, the abandon ledger), the claim is
good again so the call in progress ends with its attempt recorded, a second write-back (another process, the next
beat) changes nothing, and what no process held is said to be lost, never pretended to be there."""

from __future__ import annotations

import msgspec
from redis.asyncio import Redis

from callcenter_ari.campaigns.loss import after_loss
from callcenter_ari.campaigns.model import Attempt
from callcenter_ari.dialer.messages import Recorded
from callcenter_ari.store.campaign_desk import CampaignDesk
from callcenter_ari.store.dialer_ledger import DialerLedger
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.leads import lead_counters
from tests.campaigns.conftest import ManualClock
from tests.campaigns.test_dialing import running


async def wipe(redis: Redis, keys: Keys) -> None:
    """What a Redis restarted without persistence does to the tenant: every key gone (only this test's)."""
    found = [key async for key in redis.scan_iter(match=f"{keys.base}:*", count=1000)]
    assert found, "the tenant had keys"
    await redis.delete(*found)


async def test_a_claimed_lead_written_back_finishes_with_its_attempt_recorded(
    desk: CampaignDesk, redis: Redis, keys: Keys, clock: ManualClock
) -> None:
    await running(desk)
    campaign = await desk.campaigns.require("loans")
    [lead] = await desk.dialing.claim_due("loans", clock.now, 1, "dialer-1", lease_seconds=60)
    first = Attempt(at=clock.now, ended_at=clock.now + 20, outcome="no_answer", call_id="dl-1")
    lead = msgspec.structs.replace(lead, attempts=[first])  # held with an earlier attempt of its own
    ledger = DialerLedger(redis, keys)
    entries = [Recorded(at=clock.now, kind="connected", call_id="dl-0")]
    counters = await desk.leads.counters("loans")
    await wipe(redis, keys)
    assert await desk.campaigns.get("loans") is None

    assert await desk.campaigns.restore(campaign)
    assert await desk.leads.restore("loans", lead, lead_counters(lead, campaign.succeeds))
    assert await ledger.restore("loans", entries)
    # Again (another process, the next beat): Redis holds them now, nothing is written twice.
    assert not await desk.campaigns.restore(campaign)
    assert not await desk.leads.restore("loans", lead, lead_counters(lead, campaign.succeeds))
    assert not await ledger.restore("loans", entries)

    assert await ledger.entries("loans") == entries
    stats = await desk.stats("loans")
    assert stats.state == "running" and stats.leads == 1 and stats.by_state["dialing"] == 1
    assert stats.attempts == 1 and stats.outcomes == {"no_answer": 1}
    assert await desk.leads.by_number("loans", lead.number) == lead, "its number is the campaign's once again"
    call = Attempt(at=clock.now + 30, ended_at=clock.now + 90, outcome="answered", agent_id="a1", call_id="dl-2")
    done = await desk.dialing.record_attempt("loans", lead.id, "dialer-1", call)
    assert done.state == "done" and done.attempts == [first, call]
    stats = await desk.stats("loans")
    assert stats.by_state["done"] == 1 and stats.by_state["dialing"] == 0 and stats.attempts == 2
    assert stats.contacts == 1

    loss = after_loss(campaign, counters, held=1, do_not_call=0, now=clock.now)
    assert loss.undialed == 39 and loss.held == 1 and loss.elsewhere == 0
    assert loss.paused and loss.campaign.state == "paused" and loss.reasons == ("leads_lost",)


async def test_a_lead_due_again_goes_back_in_line(
    desk: CampaignDesk, redis: Redis, keys: Keys, clock: ManualClock
) -> None:
    """A lead written back in a state to dial (scheduled) is in the due set, and is claimed again in its time."""
    await running(desk, ["a,13800138000,"])
    campaign = await desk.campaigns.require("loans")
    [lead] = await desk.dialing.claim_due("loans", clock.now, 1, "dialer-1")
    scheduled = msgspec.structs.replace(lead, state="scheduled", holder="", lease_until=0.0, next_at=clock.now)
    await wipe(redis, keys)
    await desk.campaigns.restore(campaign)
    assert await desk.leads.restore("loans", scheduled, lead_counters(scheduled, campaign.succeeds))
    [again] = await desk.dialing.claim_due("loans", clock.now, 5, "dialer-2")
    assert again.id == lead.id and again.holder == "dialer-2"


class TestWhatIsLost:
    """``campaigns/loss.py``: a running campaign goes back paused unless nothing it would dial was lost."""

    async def test_with_nothing_lost_but_the_lead_in_progress_it_runs_on(
        self, desk: CampaignDesk, clock: ManualClock
    ) -> None:
        await running(desk, ["a,13800138000,"])
        campaign = await desk.campaigns.require("loans")
        await desk.dialing.claim_due("loans", clock.now, 1, "dialer-1")
        counters = await desk.leads.counters("loans")
        loss = after_loss(campaign, counters, held=1, do_not_call=0, now=clock.now)
        assert not loss.paused and loss.campaign == campaign and loss.undialed == 0

    async def test_a_lost_do_not_call_list_pauses_it(self, desk: CampaignDesk, clock: ManualClock) -> None:
        """Dialing on with the list gone would call numbers the tenant was asked not to call."""
        await running(desk, ["a,13800138000,"])
        campaign = await desk.campaigns.require("loans")
        await desk.dialing.claim_due("loans", clock.now, 1, "dialer-1")
        counters = await desk.leads.counters("loans")
        loss = after_loss(campaign, counters, held=1, do_not_call=3, now=clock.now)
        assert loss.paused and loss.reasons == ("do_not_call_list_lost",) and loss.do_not_call_lost == 3
        unknown = after_loss(campaign, None, held=0, do_not_call=None, now=clock.now)
        assert unknown.paused and unknown.reasons == ("counters_unknown", "do_not_call_list_lost")

    async def test_a_paused_or_finished_campaign_keeps_its_state(self, desk: CampaignDesk, clock: ManualClock) -> None:
        await running(desk)
        paused = await desk.act("loans", "pause", by="test")
        counters = await desk.leads.counters("loans")
        loss = after_loss(paused, counters, held=0, do_not_call=5, now=clock.now)
        assert not loss.paused and loss.campaign == paused and loss.undialed == 40
