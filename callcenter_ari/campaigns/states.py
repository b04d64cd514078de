"""A campaign's life: draft, running, paused, stopped, finished, and the actions that move it, as one table.

An action not in the table for the current state raises ``InvalidTransition`` and changes nothing. Stopped and
finished are final: their leads and results stay for statistics and export, and calling again is a new campaign.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from callcenter_ari.campaigns.model import Campaign, CampaignError, CampaignState

Action = Literal["start", "pause", "resume", "stop", "finish"]
ACTIONS: tuple[Action, ...] = ("start", "pause", "resume", "stop", "finish")

TRANSITIONS: dict[tuple[CampaignState, Action], CampaignState] = {
    ("draft", "start"): "running",
    ("draft", "stop"): "stopped",
    ("running", "pause"): "paused",
    ("running", "stop"): "stopped",
    ("running", "finish"): "finished",  # the dialer, when no lead is left to call
    ("paused", "resume"): "running",
    ("paused", "stop"): "stopped",
    ("paused", "finish"): "finished",
}

# The spec may change while nothing is being dialled from it; leads may be added until the campaign is over.
EDITABLE: frozenset[CampaignState] = frozenset({"draft", "paused"})
TAKES_LEADS: frozenset[CampaignState] = frozenset({"draft", "running", "paused"})


class InvalidTransition(CampaignError):
    pass


def transition(campaign: Campaign, action: Action, now: float) -> Campaign:
    target = TRANSITIONS.get((campaign.state, action))
    if target is None:
        allowed = sorted(a for (state, a) in TRANSITIONS if state == campaign.state)
        hint = f"; from {campaign.state}: {', '.join(allowed)}" if allowed else f"; {campaign.state} is final"
        raise InvalidTransition(f"campaign {campaign.id} is {campaign.state}: cannot {action}{hint}")
    return msgspec.structs.replace(campaign, state=target, updated_at=now)
