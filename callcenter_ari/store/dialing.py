"""What the dialer asks of a campaign's leads: claim the due ones, check one right before dialling, report how an
attempt ended, give a lead back, and recover the claims of a dialer that died.

Decide, then act: the leads due are read, the pure ``dial_decision`` judges each (calling hours in its zone, retry
rules, the do-not-call list, the limits), and one Lua script claims the chosen ones, refusing any that changed
since they were read, was put on the do-not-call list or abandoned meanwhile, or would pass the day's limit. A
claim is a lease: ``holder`` names the dialer, and a lease not renewed or settled by its end is released by
``release_expired`` as a failed attempt (the dialer could not say whether the call was made).
"""

from __future__ import annotations

import msgspec
import structlog

from callcenter_ari.campaigns.hours import local_day
from callcenter_ari.campaigns.model import DAY, Attempt, Campaign, CampaignError, Lead, LeadState
from callcenter_ari.campaigns.rules import DialDecision, after_attempt, claimed, dial_decision, released
from callcenter_ari.store.campaigns import CampaignStore
from callcenter_ari.store.errors import translating
from callcenter_ari.store.keys import checked
from callcenter_ari.store.leads import LeadStore

log = structlog.get_logger(__name__)

DEFAULT_LEASE = 600.0
_ROUNDS = 4  # reads of the due set per claim: leads found outside their hours are moved on, then read again
_ATTEMPTS = 3


class LeaseLost(CampaignError):
    """The lead is not (or no longer) claimed by this holder: its lease ended or another dialer took it."""


class CampaignGone(LeaseLost):
    """The lead's campaign is not in Redis: deleted (only a draft is, and nothing dials a draft), or Redis lost its
    data, in which case the dialer writes back what it holds and the claim is good again."""


class DialCheck(msgspec.Struct, frozen=True):
    ok: bool
    reason: str  # "ok", "do_not_call", "lease_lost"


@translating
class LeadDialing:
    def __init__(self, campaigns: CampaignStore, leads: LeadStore) -> None:
        self.campaigns = campaigns
        self.leads = leads

    async def claim_due(
        self, campaign_id: str, now: float, limit: int, holder: str, *, lease_seconds: float = DEFAULT_LEASE
    ) -> list[Lead]:
        """Up to ``limit`` leads that may be dialled now, moved to ``dialing`` under ``holder``'s lease until
        ``now + lease_seconds``; nothing unless the campaign is running. No lead is handed to two holders."""
        checked(holder, "holder")
        campaign = await self.campaigns.require(campaign_id)
        if campaign.state != "running" or limit <= 0:
            return []
        day_key = self.leads.keys.campaign_calls(campaign.id, local_day(campaign.time_zone, now))
        out: list[Lead] = []
        for _ in range(_ROUNDS):
            calls_today = await self.leads.calls_on(day_key)
            if campaign.max_calls_per_day and calls_today >= campaign.max_calls_per_day:
                break
            wanted = limit - len(out)
            ids = await self.leads.due(campaign.id, now, wanted * 2 + 8)
            if not ids or wanted <= 0:
                break
            chosen = await self._judge(campaign, ids, now, calls_today)
            pairs = [(lead, claimed(lead, holder, now + lease_seconds)) for lead in chosen[:wanted]]
            quota = campaign.max_calls_per_day or None
            since = now - campaign.retry.abandoned.after_seconds
            results = await self.leads.claim(campaign.id, pairs, day_key=day_key, quota=quota, abandoned_since=since)
            for (old, new), result in zip(pairs, results, strict=True):
                if result == "ok":
                    out.append(new)
                elif result == "dnc":
                    await self._close(campaign, old, "do_not_call")
            if "quota" in results or len(out) >= limit:
                break
        return out

    async def _judge(self, campaign: Campaign, ids: list[str], now: float, calls_today: int) -> list[Lead]:
        """The leads among ``ids`` that may be dialled now; the others are moved to when they may, or closed."""
        leads = [lead for lead in await self.leads.get_many(campaign.id, ids) if lead is not None]
        numbers = [lead.number for lead in leads]
        listed = await self.leads.on_dnc(numbers)
        abandoned = await self.leads.abandoned(numbers)
        chosen: list[Lead] = []
        for lead, on_dnc, abandoned_at in zip(leads, listed, abandoned, strict=True):
            decision = dial_decision(
                campaign, lead, now, on_dnc=on_dnc, abandoned_at=abandoned_at, calls_today=calls_today
            )
            if decision.allowed:
                chosen.append(lead)
            else:
                await self._defer(campaign, lead, decision, now)
        return chosen

    async def _defer(self, campaign: Campaign, lead: Lead, decision: DialDecision, now: float) -> None:
        if decision.final_state is not None:
            await self._close(campaign, lead, decision.final_state)
        elif decision.reason != "daily_limit":
            # No opening within the horizon (every day a holiday): ask again tomorrow rather than at every claim.
            later = decision.next_at if decision.next_at is not None else now + DAY
            await self.leads.swap(campaign.id, lead, msgspec.structs.replace(lead, next_at=later))

    async def _close(self, campaign: Campaign, lead: Lead, state: LeadState) -> None:
        closed = msgspec.structs.replace(lead, state=state, holder="", lease_until=0.0, next_at=0.0)
        if await self.leads.swap(campaign.id, lead, closed):
            log.info("campaign.lead_closed", campaign=campaign.id, lead=lead.id, state=state)

    async def check_before_dial(self, campaign_id: str, lead_id: str, holder: str, now: float) -> DialCheck:
        """The last word before the originate: still ours, and not put on the do-not-call list since the claim
        (a preview can sit on an agent's screen for minutes). A listed lead is closed as do_not_call."""
        lead = await self.leads.get(campaign_id, lead_id)
        if lead is None or lead.state != "dialing" or lead.holder != holder or lead.lease_until <= now:
            return DialCheck(False, "lease_lost")
        if (await self.leads.on_dnc([lead.number]))[0]:
            campaign = await self.campaigns.require(campaign_id)
            await self._close(campaign, lead, "do_not_call")
            await self.leads.give_back_call(self.day_key(campaign, now))
            return DialCheck(False, "do_not_call")
        return DialCheck(True, "ok")

    async def record_attempt(self, campaign_id: str, lead_id: str, holder: str, attempt: Attempt) -> Lead:
        """How the call went; the lead is scheduled by the retry rules, done, or exhausted. Raises LeaseLost."""
        for _ in range(_ATTEMPTS):
            campaign, lead = await self._held(campaign_id, lead_id, holder)
            after = after_attempt(campaign, lead, attempt)
            counters = {"attempts": 1, f"outcome:{attempt.outcome}": 1}
            if attempt.outcome == "answered":
                counters["contacts"] = 1
            abandoned_at = attempt.end if attempt.outcome == "abandoned" else None
            if await self.leads.swap(campaign.id, lead, after, counters, abandoned_at=abandoned_at):
                return after
        raise LeaseLost(f"lead {lead_id} keeps changing; try again")

    async def release(self, campaign_id: str, lead_id: str, holder: str, now: float) -> Lead:
        """Give a claimed lead back undialled; it is due again at once and its call does not count for the day."""
        for _ in range(_ATTEMPTS):
            campaign, lead = await self._held(campaign_id, lead_id, holder)
            back = released(lead, now)
            if await self.leads.swap(campaign.id, lead, back):
                await self.leads.give_back_call(self.day_key(campaign, now))
                return back
        raise LeaseLost(f"lead {lead_id} keeps changing; try again")

    async def renew(self, campaign_id: str, lead_id: str, holder: str, until: float) -> Lead:
        """Extend a claim (a long call); raises LeaseLost when it is no longer ours."""
        for _ in range(_ATTEMPTS):
            campaign, lead = await self._held(campaign_id, lead_id, holder)
            longer = msgspec.structs.replace(lead, lease_until=until)
            if await self.leads.swap(campaign.id, lead, longer):
                return longer
        raise LeaseLost(f"lead {lead_id} keeps changing; try again")

    async def release_expired(self, campaign_id: str, now: float, limit: int = 500) -> list[Lead]:
        """Settle the claims whose lease ended (a dialer that stopped or died) as failed attempts."""
        settled: list[Lead] = []
        for lead_id in await self.leads.lapsed(campaign_id, now, limit):
            lead = await self.leads.get(campaign_id, lead_id)
            if lead is None or lead.state != "dialing" or lead.lease_until > now:
                continue
            lapse = Attempt(at=lead.lease_until, outcome="failed", detail=f"lease of {lead.holder} expired")
            try:
                settled.append(await self.record_attempt(campaign_id, lead_id, lead.holder, lapse))
            except LeaseLost:
                continue  # settled by its holder meanwhile
        if settled:
            log.warning("campaign.leases_expired", campaign=campaign_id, leads=len(settled))
        return settled

    async def _held(self, campaign_id: str, lead_id: str, holder: str) -> tuple[Campaign, Lead]:
        # A campaign gone (deleted, or Redis lost its data) holds no lead for anyone: the holder's claim is lost,
        # as when its lease ended, and its dialer goes on with its other campaigns.
        campaign = await self.campaigns.get(campaign_id)
        if campaign is None:
            raise CampaignGone(f"lead {lead_id[:64]!r}: campaign {campaign_id[:64]!r} is gone")
        lead = await self.leads.get(campaign_id, lead_id)
        if lead is None or lead.state != "dialing" or lead.holder != holder:
            raise LeaseLost(f"lead {lead_id[:64]!r} is not claimed by {holder[:64]!r}")
        return campaign, lead

    def day_key(self, campaign: Campaign, now: float) -> str:
        return self.leads.keys.campaign_calls(campaign.id, local_day(campaign.time_zone, now))
