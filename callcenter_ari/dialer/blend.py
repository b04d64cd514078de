"""Blended agents: whether an agent who can take both inbound and outbound calls works the campaign now.

Inbound comes first. A blended agent is lent to the campaign only while the hotline does not need them: nobody
they could take is waiting, the inbound service level is at or above its floor, no caller has waited past the
longest acceptable wait, and enough other blended agents stay free for the next inbound call. Once the level drops
below the floor, the hotline is "at risk" and keeps its blended agents until the level is back above a higher
mark (``resume_above``), so that agents do not flap between the two on every call.

The ACD has the figures (``acd.stats`` computes the service level per queue); the runtime asks ``assess`` whenever
a blended agent comes free and tells the pacer ``AgentAvailable`` or ``AgentAway(reason="inbound")``. An agent
already on a campaign call finishes it: the policy only decides where a free agent goes next.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Work = Literal["inbound", "outbound"]
Reason = Literal["inbound_waiting", "service_level", "long_wait", "keep_free", "spare"]


class BlendPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """``service_level_floor``: the share of inbound calls answered within the queue's target below which the
    hotline is at risk (the configurable threshold); ``resume_above``: the level it must regain before blended
    agents go back to outbound; ``longest_wait``: seconds a waiting inbound caller makes the hotline at risk
    whatever the level; ``keep_free``: blended agents left idle for inbound at all times."""

    service_level_floor: float = 0.80
    resume_above: float = 0.85
    longest_wait: float = 30.0
    keep_free: int = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.service_level_floor <= self.resume_above <= 1.0:
            raise ValueError("blend policy: need 0 <= service_level_floor <= resume_above <= 1")
        if self.longest_wait <= 0 or self.keep_free < 0:
            raise ValueError("blend policy: longest_wait must be positive and keep_free not negative")


class Inbound(msgspec.Struct, frozen=True, kw_only=True):
    """The hotline as the agent's inbound queues see it now. ``service_level`` None: no inbound call ended in
    the current interval yet. ``waiting``: callers this agent could take; ``free_blended``: other blended agents
    idle for inbound (this one not counted)."""

    service_level: float | None
    waiting: int = 0
    longest_wait: float = 0.0
    free_blended: int = 0


class Assessment(msgspec.Struct, frozen=True):
    work: Work
    reason: Reason
    at_risk: bool  # carry it to the next assessment: the hysteresis lives here


def assess(policy: BlendPolicy, inbound: Inbound, *, at_risk: bool = False) -> Assessment:
    """Where a free blended agent goes; ``at_risk`` is the previous assessment's, for the hysteresis."""
    level = inbound.service_level
    if level is None:
        risk = at_risk and inbound.waiting > 0
    elif at_risk:
        risk = level < policy.resume_above
    else:
        risk = level < policy.service_level_floor
    if inbound.waiting > 0 and inbound.longest_wait >= policy.longest_wait:
        return Assessment("inbound", "long_wait", True)
    if risk:
        return Assessment("inbound", "service_level", True)
    if inbound.waiting > 0:
        return Assessment("inbound", "inbound_waiting", False)
    if inbound.free_blended < policy.keep_free:
        return Assessment("inbound", "keep_free", False)
    return Assessment("outbound", "spare", False)
