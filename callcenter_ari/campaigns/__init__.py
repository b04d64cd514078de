"""Outbound campaigns, pure: the campaign and its lead list, what a CSV row becomes, and when a lead may be dialled.

No I/O and no clock of its own: time is an input. ``reader`` turns bytes of a CSV file into candidate leads and
rejected rows, ``rules`` decides whether a lead may be dialled now (calling hours in its zone, retry rules,
do-not-call) and what an attempt or a disposition does to it, ``states`` holds the campaign's legal transitions.
Storage is ``store/campaigns.py``, ``store/leads.py``, ``store/dnc.py`` and ``store/lead_imports.py``.
"""

from callcenter_ari.campaigns.model import (
    RETRY_OUTCOMES,
    Attempt,
    Campaign,
    CampaignError,
    CampaignSpec,
    CampaignState,
    DialMode,
    Disposition,
    Lead,
    LeadState,
    Outcome,
    RetryRule,
    RetryRules,
)
from callcenter_ari.campaigns.rules import DialDecision, after_attempt, apply_disposition, dial_decision, dial_target
from callcenter_ari.campaigns.states import ACTIONS, InvalidTransition, transition

__all__ = [
    "ACTIONS",
    "RETRY_OUTCOMES",
    "Attempt",
    "Campaign",
    "CampaignError",
    "CampaignSpec",
    "CampaignState",
    "DialDecision",
    "DialMode",
    "Disposition",
    "InvalidTransition",
    "Lead",
    "LeadState",
    "Outcome",
    "RetryRule",
    "RetryRules",
    "after_attempt",
    "apply_disposition",
    "dial_decision",
    "dial_target",
    "transition",
]
