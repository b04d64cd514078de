"""When a lead may be dialled, and what an attempt or the agent's disposition does to it.

``dial_decision`` is asked right before a lead is claimed: the campaign must be running, the lead open, its
number not on the do-not-call list, its attempts under the limits, the retry wait of its last outcome over (and
72 hours, by default, since any campaign of the tenant abandoned the number), the campaign's calls of the day
under its limit, and the calling hours open in the lead's zone. It answers yes, or no with the reason and the
earliest time it may be asked again (None: never). ``after_attempt`` and ``apply_disposition`` return the lead
as it is afterwards. Nothing here reads a clock; ``now`` is given.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from callcenter_ari.campaigns.hours import next_midnight, next_open
from callcenter_ari.campaigns.model import (
    RETRY_OUTCOMES,
    Attempt,
    Campaign,
    CampaignError,
    CampaignSpec,
    Lead,
    LeadState,
)
from callcenter_ari.trunks import TrunkConfig, dial_string, parse_number

Reason = Literal[
    "ok",
    "campaign_not_running",
    "closed",
    "do_not_call",
    "max_attempts",
    "retry_wait",
    "recently_abandoned",
    "daily_limit",
    "outside_hours",
]
OPEN_STATES: frozenset[LeadState] = frozenset({"new", "scheduled"})


class DialDecision(msgspec.Struct, frozen=True):
    allowed: bool
    reason: Reason
    next_at: float | None  # allowed: now; otherwise when to ask again (None: never)
    final_state: LeadState | None = None  # a state the lead should move to now ("exhausted", "do_not_call")


def zone_of(campaign: Campaign, lead: Lead) -> str:
    return lead.zone or campaign.time_zone


def dial_decision(
    campaign: Campaign,
    lead: Lead,
    now: float,
    *,
    on_dnc: bool = False,
    abandoned_at: float | None = None,
    calls_today: int = 0,
) -> DialDecision:
    """May ``lead`` be dialled at ``now``? ``abandoned_at``: when any campaign of the tenant last abandoned the
    number; ``calls_today``: the campaign's calls so far in its own day."""
    if campaign.state != "running":
        return DialDecision(False, "campaign_not_running", None)
    if lead.state not in OPEN_STATES:
        return DialDecision(False, "closed", None)
    if on_dnc:
        return DialDecision(False, "do_not_call", None, "do_not_call")
    if len(lead.attempts) >= campaign.max_attempts or _retries_spent(campaign, lead):
        return DialDecision(False, "max_attempts", None, "exhausted")
    waits: list[tuple[float, Reason]] = [(lead.next_at, "retry_wait"), (_retry_at(campaign, lead), "retry_wait")]
    if abandoned_at is not None:
        waits.append((abandoned_at + campaign.retry.abandoned.after_seconds, "recently_abandoned"))
    if campaign.max_calls_per_day and calls_today >= campaign.max_calls_per_day:
        waits.append((next_midnight(campaign.time_zone, now), "daily_limit"))
    earliest, reason = max(waits, key=lambda wait: wait[0])
    if earliest <= now:
        earliest, reason = now, "outside_hours"
    opens = next_open(campaign, zone_of(campaign, lead), earliest)
    if opens is None:
        return DialDecision(False, "outside_hours", None)
    if opens <= now:
        return DialDecision(True, "ok", now)
    return DialDecision(False, reason, opens)


def after_attempt(campaign: Campaign, lead: Lead, attempt: Attempt) -> Lead:
    """The lead once ``attempt`` is over: done when a person answered (the disposition may reopen it), else
    scheduled after its outcome's wait, within the calling hours, or exhausted when no try is left."""
    tried = msgspec.structs.replace(lead, attempts=[*lead.attempts, attempt], holder="", lease_until=0.0)
    if attempt.outcome == "answered":
        return msgspec.structs.replace(tried, state="done", next_at=0.0)
    if len(tried.attempts) >= campaign.max_attempts or _retries_spent(campaign, tried):
        return msgspec.structs.replace(tried, state="exhausted", next_at=0.0)
    return _schedule(campaign, tried, _retry_at(campaign, tried))


def apply_disposition(campaign: Campaign, lead: Lead, code: str, note: str, by: str, now: float) -> Lead:
    """The agent's result of the lead's last call, answered by a person. Raises CampaignError (an unknown code,
    a lead being dialled, a last call that nobody answered)."""
    disposition = campaign.disposition(code)
    if disposition is None:
        raise CampaignError(f"code: unknown disposition {code[:32]!r} (this campaign's: {_codes(campaign)})")
    last = lead.last
    if lead.state == "dialing" or last is None or last.outcome != "answered":
        outcome = "none yet" if last is None else last.outcome
        raise CampaignError(f"lead {lead.id} has no answered call to dispose of (last outcome: {outcome})")
    disposed = msgspec.structs.replace(last, disposition=code, note=note, disposed_at=now, disposed_by=by)
    lead = msgspec.structs.replace(lead, attempts=[*lead.attempts[:-1], disposed])
    if disposition.then == "do_not_call":
        return msgspec.structs.replace(lead, state="do_not_call", next_at=0.0)
    if disposition.then == "retry" and len(lead.attempts) < campaign.max_attempts:
        return _schedule(campaign, lead, now + disposition.retry_after_seconds)
    state: LeadState = "done" if disposition.then == "done" else "exhausted"
    return msgspec.structs.replace(lead, state=state, next_at=0.0)


def released(lead: Lead, now: float) -> Lead:
    """A claimed lead given back undialled (no line free, the agent skipped it in preview)."""
    state: LeadState = "scheduled" if lead.attempts else "new"
    return msgspec.structs.replace(lead, state=state, holder="", lease_until=0.0, next_at=now)


def claimed(lead: Lead, holder: str, lease_until: float) -> Lead:
    return msgspec.structs.replace(lead, state="dialing", holder=holder, lease_until=lease_until)


def dial_target(campaign: CampaignSpec, lead: Lead, trunks: dict[str, TrunkConfig]) -> tuple[str, str]:
    """The dial string and caller id for a lead: built from the validated number and the configured trunk only,
    never from what a file said. Raises InvalidNumber (a number that no longer reads) or KeyError (no trunk)."""
    trunk = trunks[campaign.trunk]
    number = parse_number(lead.number, trunk.region)
    return dial_string(trunk, number), campaign.caller_id or trunk.caller_id or ""


def _retry_at(campaign: Campaign, lead: Lead) -> float:
    last = lead.last
    if last is None or last.outcome not in RETRY_OUTCOMES:
        return 0.0
    rule = campaign.retry.rule(last.outcome)
    return last.end + (rule.after_seconds if rule is not None else 0.0)


def _retries_spent(campaign: Campaign, lead: Lead) -> bool:
    """The last outcome's own limit: ``max_retries`` tries again after that outcome, counted over the lead."""
    last = lead.last
    rule = campaign.retry.rule(last.outcome) if last is not None else None
    if last is None or rule is None or rule.max_retries is None:
        return False
    return sum(1 for a in lead.attempts if a.outcome == last.outcome) > rule.max_retries


def _schedule(campaign: Campaign, lead: Lead, earliest: float) -> Lead:
    opens = next_open(campaign, zone_of(campaign, lead), earliest)
    return msgspec.structs.replace(lead, state="scheduled", next_at=earliest if opens is None else opens)


def _codes(campaign: CampaignSpec) -> str:
    return ", ".join(d.code for d in campaign.dispositions)
