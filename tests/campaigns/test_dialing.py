"""The dialer's side of a campaign on the real Redis: claims under a lease that no two holders share, calling
hours in each lead's zone, retry rules, the do-not-call list right before dialling, and leases that lapse."""

from __future__ import annotations

import anyio
import msgspec
import pytest

from callcenter_ari.campaigns.model import Attempt, RetryRule, RetryRules
from callcenter_ari.store.campaign_desk import CampaignDesk
from callcenter_ari.store.dialing import LeaseLost
from tests.campaigns.conftest import SPEC, ManualClock, at, csv_of, load

NUMBERS = [f"1380013{n:04d}" for n in range(40)]


async def running(desk: CampaignDesk, rows: list[str] | None = None, **spec: object) -> str:
    await desk.create("loans", msgspec.structs.replace(SPEC, **spec), by="test")
    await load(
        desk, "loans", csv_of(rows if rows is not None else [f"n{n},{number}," for n, number in enumerate(NUMBERS)])
    )
    await desk.act("loans", "start", by="test")
    return "loans"


class TestClaims:
    async def test_a_claim_moves_due_leads_to_dialing_under_a_lease(
        self, desk: CampaignDesk, clock: ManualClock
    ) -> None:
        await running(desk)
        claimed = await desk.dialing.claim_due("loans", clock.now, 5, "dialer-1")
        assert len(claimed) == 5
        assert all(lead.state == "dialing" and lead.holder == "dialer-1" for lead in claimed)
        assert all(lead.lease_until == clock.now + 600 for lead in claimed)
        stats = await desk.stats("loans")
        assert stats.by_state["dialing"] == 5 and stats.by_state["new"] == 35 and stats.calls_today == 5

    async def test_two_dialers_claiming_at_once_never_get_the_same_lead(
        self, desk: CampaignDesk, clock: ManualClock
    ) -> None:
        await running(desk)
        got: dict[str, list[str]] = {}

        async def claim(holder: str) -> None:
            for _ in range(10):  # more than enough: some rounds lose every lead to the others
                leads = await desk.dialing.claim_due("loans", clock.now, 3, holder)
                got.setdefault(holder, []).extend(lead.id for lead in leads)

        async with anyio.create_task_group() as tg:
            for holder in ("dialer-1", "dialer-2", "dialer-3"):
                tg.start_soon(claim, holder)
        everyone = [lead for leads in got.values() for lead in leads]
        assert len(everyone) == len(set(everyone)) == 40
        assert (await desk.stats("loans")).by_state["dialing"] == 40

    async def test_a_paused_campaign_hands_out_nothing(self, desk: CampaignDesk, clock: ManualClock) -> None:
        await running(desk)
        await desk.act("loans", "pause", by="test")
        assert await desk.dialing.claim_due("loans", clock.now, 5, "dialer-1") == []

    async def test_outside_its_hours_a_lead_waits_for_them_in_its_own_zone(
        self, desk: CampaignDesk, clock: ManualClock
    ) -> None:
        """At 11:30 in Shanghai a Shanghai number waits for 13:00 while a New York number (Sunday 22:30 there)
        waits for Monday 08:00 New York time."""
        await running(desk, ["sh,13800138000,", "ny,+1 212 555 0123,"])
        clock.now = at("2026-12-07 11:30")
        assert await desk.dialing.claim_due("loans", clock.now, 5, "d") == []
        sh = await desk.leads.by_number("loans", "+8613800138000")
        ny = await desk.leads.by_number("loans", "+12125550123")
        assert sh is not None and sh.next_at == at("2026-12-07 13:00")
        assert ny is not None and ny.zone == "America/New_York"
        assert ny.next_at == at("2026-12-07 08:00", zone=__import__("zoneinfo").ZoneInfo("America/New_York"))
        clock.now = at("2026-12-07 13:00")
        assert [lead.number for lead in await desk.dialing.claim_due("loans", clock.now, 5, "d")] == ["+8613800138000"]

    async def test_a_lead_whose_hours_never_open_is_asked_about_again_tomorrow(
        self, desk: CampaignDesk, clock: ManualClock
    ) -> None:
        """Saturdays only, and the next nine are holidays: nothing opens within the horizon."""
        saturdays = ["12-12", "12-19", "12-26", "01-02", "01-09", "01-16", "01-23", "01-30", "02-06"]
        await running(desk, ["a,13800138000,"], calling_days=["sat"], holidays=saturdays)
        assert await desk.dialing.claim_due("loans", clock.now, 1, "d") == []
        lead = await desk.leads.by_number("loans", "+8613800138000")
        assert lead is not None and lead.next_at == clock.now + 86400 and lead.state == "new"

    async def test_the_daily_limit_counts_across_claims(self, desk: CampaignDesk, clock: ManualClock) -> None:
        await running(desk, max_calls_per_day=20)
        first = await desk.dialing.claim_due("loans", clock.now, 15, "d")
        second = await desk.dialing.claim_due("loans", clock.now, 15, "d")
        assert len(first) == 15 and len(second) == 5
        assert await desk.dialing.claim_due("loans", clock.now, 15, "d") == []
        await desk.dialing.release("loans", first[0].id, "d", clock.now)
        assert len(await desk.dialing.claim_due("loans", clock.now, 15, "d")) == 1  # given back, so one more today
        clock.now = at("2026-12-08 08:00")
        assert len(await desk.dialing.claim_due("loans", clock.now, 15, "d")) == 15


class TestAttempts:
    async def test_busy_is_retried_after_its_wait_within_the_calling_hours(
        self, desk: CampaignDesk, clock: ManualClock
    ) -> None:
        await running(desk, ["a,13800138000,"])
        [lead] = await desk.dialing.claim_due("loans", clock.now, 1, "d")
        clock.now = at("2026-12-07 10:55")
        after = await desk.dialing.record_attempt(
            "loans", lead.id, "d", Attempt(at=clock.now - 30, ended_at=clock.now, outcome="busy", trunk="provider1")
        )
        assert after.state == "scheduled" and after.next_at == at("2026-12-07 13:00")  # 11:05 is past 11:00
        stats = await desk.stats("loans")
        assert stats.attempts == 1 and stats.outcomes == {"busy": 1} and stats.by_state["scheduled"] == 1
        assert await desk.dialing.claim_due("loans", at("2026-12-07 12:59"), 1, "d") == []
        assert len(await desk.dialing.claim_due("loans", at("2026-12-07 13:00"), 1, "d")) == 1

    async def test_an_outcome_retried_as_often_as_its_rule_allows_exhausts_the_lead(
        self, desk: CampaignDesk, clock: ManualClock
    ) -> None:
        rules = RetryRules(no_answer=RetryRule(after_seconds=60, max_retries=1))
        await running(desk, ["a,13800138000,"], retry=rules)
        for expected in ("scheduled", "exhausted"):
            [lead] = await desk.dialing.claim_due("loans", clock.now, 1, "d")
            after = await desk.dialing.record_attempt(
                "loans", lead.id, "d", Attempt(at=clock.now, ended_at=clock.now + 20, outcome="no_answer")
            )
            assert after.state == expected
            clock.now += 120
        assert (await desk.stats("loans")).by_state == {
            "new": 0, "scheduled": 0, "dialing": 0, "done": 0, "exhausted": 1, "do_not_call": 0
        }  # fmt: skip

    async def test_an_abandoned_number_is_not_called_again_for_72_hours_by_any_campaign(
        self, desk: CampaignDesk, clock: ManualClock
    ) -> None:
        await running(desk, ["a,13800138000,"])
        [lead] = await desk.dialing.claim_due("loans", clock.now, 1, "d")
        after = await desk.dialing.record_attempt(
            "loans", lead.id, "d", Attempt(at=clock.now, ended_at=clock.now + 5, outcome="abandoned")
        )
        assert after.next_at >= clock.now + 72 * 3600
        await desk.create("sales", SPEC, by="test")
        await load(desk, "sales", csv_of(["a,13800138000,"]))
        await desk.act("sales", "start", by="test")
        assert await desk.dialing.claim_due("sales", clock.now + 3600, 1, "d") == []
        later = await desk.leads.by_number("sales", "+8613800138000")
        assert later is not None and later.next_at >= clock.now + 72 * 3600

    async def test_an_answered_call_is_done_and_the_agents_disposition_is_counted(
        self, desk: CampaignDesk, clock: ManualClock
    ) -> None:
        await running(desk, ["a,13800138000,"])
        [lead] = await desk.dialing.claim_due("loans", clock.now, 1, "d")
        answered = Attempt(at=clock.now, ended_at=clock.now + 90, outcome="answered", agent_id="a1", call_id="c-1")
        assert (await desk.dialing.record_attempt("loans", lead.id, "d", answered)).state == "done"
        disposed = await desk.dispose("loans", lead.id, "callback", "after payday", by="a1")
        assert disposed.state == "scheduled" and disposed.last is not None and disposed.last.disposition == "callback"
        corrected = await desk.dispose("loans", lead.id, "success", "", by="supervisor")
        assert corrected.state == "done"
        stats = await desk.stats("loans")
        assert stats.dispositions == {"success": 1} and stats.successes == 1 and stats.contacts == 1

    async def test_a_do_not_call_disposition_lists_the_number(self, desk: CampaignDesk, clock: ManualClock) -> None:
        await running(desk, ["a,13800138000,"])
        [lead] = await desk.dialing.claim_due("loans", clock.now, 1, "d")
        await desk.dialing.record_attempt("loans", lead.id, "d", Attempt(at=clock.now, outcome="answered"))
        assert (await desk.dispose("loans", lead.id, "do_not_call", "", by="a1")).state == "do_not_call"
        assert await desk.dnc.get("+8613800138000") is not None

    async def test_only_the_holder_may_report_and_a_report_comes_once(
        self, desk: CampaignDesk, clock: ManualClock
    ) -> None:
        await running(desk, ["a,13800138000,"])
        [lead] = await desk.dialing.claim_due("loans", clock.now, 1, "d")
        with pytest.raises(LeaseLost):
            await desk.dialing.record_attempt("loans", lead.id, "other", Attempt(at=clock.now, outcome="busy"))
        await desk.dialing.record_attempt("loans", lead.id, "d", Attempt(at=clock.now, outcome="busy"))
        with pytest.raises(LeaseLost):
            await desk.dialing.record_attempt("loans", lead.id, "d", Attempt(at=clock.now, outcome="busy"))


class TestBeforeDialling:
    async def test_a_number_listed_after_the_claim_is_not_dialled(self, desk: CampaignDesk, clock: ManualClock) -> None:
        await running(desk, ["a,13800138000,", "b,13900139000,"])
        claimed = await desk.dialing.claim_due("loans", clock.now, 2, "d")
        await desk.add_dnc(["+8613800138000"], "", "asked on the phone", by="crm")
        checks = {
            lead.number: await desk.dialing.check_before_dial("loans", lead.id, "d", clock.now) for lead in claimed
        }
        assert checks["+8613800138000"].reason == "do_not_call" and checks["+8613900139000"].ok
        lead = await desk.leads.by_number("loans", "+8613800138000")
        assert lead is not None and lead.state == "do_not_call"
        assert (await desk.stats("loans")).calls_today == 1

    async def test_a_listed_lead_is_closed_at_the_claim(self, desk: CampaignDesk, clock: ManualClock) -> None:
        await running(desk, ["a,13800138000,", "b,13900139000,"])
        await desk.add_dnc(["13800138000"], "CN", "", by="test")
        claimed = await desk.dialing.claim_due("loans", clock.now, 2, "d")
        assert [lead.number for lead in claimed] == ["+8613900139000"]
        assert (await desk.stats("loans")).by_state["do_not_call"] == 1


class TestLeases:
    async def test_a_lapsed_lease_is_settled_as_a_failed_attempt_and_the_lead_comes_back(
        self, desk: CampaignDesk, clock: ManualClock
    ) -> None:
        """A dialer dies holding a lead: after its lease the lead is a failed attempt, due again after the failed
        wait, and the dead dialer can no longer report on it."""
        await running(desk, ["a,13800138000,"])
        [lead] = await desk.dialing.claim_due("loans", clock.now, 1, "dead", lease_seconds=60)
        assert await desk.dialing.release_expired("loans", clock.now + 30) == []
        [settled] = await desk.dialing.release_expired("loans", clock.now + 61)
        assert settled.state == "scheduled" and settled.last is not None and settled.last.outcome == "failed"
        assert settled.next_at == lead.lease_until + 30 * 60
        with pytest.raises(LeaseLost):
            await desk.dialing.record_attempt("loans", lead.id, "dead", Attempt(at=clock.now, outcome="answered"))

    async def test_a_claim_on_a_campaign_that_is_gone_is_lost(self, desk: CampaignDesk, clock: ManualClock) -> None:
        """Redis lost the campaign (restarted without persistence) while its lead was dialed: renewing, reporting
        and giving back the lead say the claim is lost, the one error the dialer handles, not that the campaign
        is unknown (which ended the process)."""
        await running(desk, ["a,13800138000,"])
        [lead] = await desk.dialing.claim_due("loans", clock.now, 1, "d", lease_seconds=60)
        await desk.campaigns.redis.delete(desk.campaigns.keys.campaign("loans"))
        with pytest.raises(LeaseLost):
            await desk.dialing.renew("loans", lead.id, "d", clock.now + 600)
        with pytest.raises(LeaseLost):
            await desk.dialing.record_attempt("loans", lead.id, "d", Attempt(at=clock.now, outcome="answered"))
        with pytest.raises(LeaseLost):
            await desk.dialing.release("loans", lead.id, "d", clock.now)

    async def test_a_renewed_lease_does_not_lapse(self, desk: CampaignDesk, clock: ManualClock) -> None:
        await running(desk, ["a,13800138000,"])
        [lead] = await desk.dialing.claim_due("loans", clock.now, 1, "d", lease_seconds=60)
        await desk.dialing.renew("loans", lead.id, "d", clock.now + 600)
        assert await desk.dialing.release_expired("loans", clock.now + 61) == []
        assert (await desk.dialing.check_before_dial("loans", lead.id, "d", clock.now + 61)).ok
