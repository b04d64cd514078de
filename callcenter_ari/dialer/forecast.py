"""How many calls to dial now: the predictive decision, and the abandon budget every mode answers to.

The pacer describes the next few seconds as a ``Picture``: the agents who will be free by the time a call dialed
now is answered (those idle now, plus each busy agent's chance to finish in time) and the people who will need
one (those answered and waiting, plus each ringing call's chance to be a person). Both are sums of independent
yes/no events, taken as normal with the matching mean and variance.

The model is optimistic, and knowingly so: answers bunch, and the dials of the next seconds will count on the same
agents. In the lab the controller keeps ``theta`` at 0.2-1 % for an abandon rate of 1.8 %, which corrects it. A
version that compared agents and people at several points ahead instead of one (an agent free in ten seconds does
not help a person who answers in three) cost twice the time and changed neither the talk time nor that gap.

Dialing ``k`` more calls adds ``k`` such events of the campaign's person rate. The pacer dials the largest ``k``
that passes two tests:

- *controller*: the expected number of people who find no agent, ``E[(demand - supply)+]``, is at most ``theta``
  times the expected people (``theta`` is what the feedback controller turns);
- *budget*: the abandons the calls in flight could cause stay within what the rules still allow, even if every
  one of them were answered by a person at once and no busy agent came free. This is a worst case, not a
  probability, so the rate cannot pass the limit whatever the model gets wrong.

A statistical budget (the shortfall beyond so many standard deviations) was tried and dropped: it won about one
talk minute per agent-hour and passed the limit in three runs of five, early in a campaign when the headroom is a
few abandons and the estimates stand on few calls.
"""

from __future__ import annotations

import math
from typing import NamedTuple

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Picture(NamedTuple):
    idle: int  # agents free now, matched to nobody
    supply_mean: float  # idle + each busy agent's chance of being free within the horizon
    supply_var: float
    demand_mean: float  # people waiting + each ringing call's chance of being a person
    demand_var: float
    unsecured: int  # calls in flight with no agent reserved for them: ringing, and answered but waiting
    person_rate: float  # the chance that a call dialed now is answered by a person


def worst_abandons(picture: Picture, more: int = 0) -> int:
    """Abandons if every unsecured call (and ``more`` new ones) were answered by a person now."""
    return max(0, picture.unsecured + more - picture.idle)


def within_budget(picture: Picture, more: int, headroom: float) -> bool:
    """Calls that cannot cause an abandon (no more unreserved calls than idle agents) are always within it, even
    with the rate over the limit (the false-positive estimate can put it there): dialing them only adds answers."""
    worst = worst_abandons(picture, more)
    return worst == 0 or worst <= headroom


def expected_shortfall_share(picture: Picture, more: int) -> float:
    """The expected share of the coming people who find no agent, with ``more`` calls dialed now. The normal
    curve is poor for a handful of calls, so the shortfall is also held to the worst case (none at all when every
    unreserved call has an idle agent)."""
    p = picture.person_rate
    people = picture.demand_mean + more * p
    worst = worst_abandons(picture, more)
    if people <= 0.0 or worst == 0:
        return 0.0
    mean = people - picture.supply_mean
    variance = picture.demand_var + more * p * (1.0 - p) + picture.supply_var
    return min(float(worst), _positive_part(mean, math.sqrt(variance))) / people


class Dials(NamedTuple):
    calls: int
    steering: bool  # the controller's test set the count (not the budget, nor the cap)


def dials(picture: Picture, *, theta: float, headroom: float, cap: int) -> Dials:
    """The largest number of calls in [0, cap] that passes both tests (both get harder as calls are added)."""

    def passes(more: int) -> bool:
        return within_budget(picture, more, headroom) and expected_shortfall_share(picture, more) <= theta

    low, high = 0, cap
    while low < high:
        middle = (low + high + 1) // 2
        if passes(middle):
            low = middle
        else:
            high = middle - 1
    return Dials(low, low < cap and within_budget(picture, low + 1, headroom))


def _positive_part(mean: float, sd: float) -> float:
    """E[max(X, 0)] for X normal(mean, sd)."""
    if sd <= 1e-12:
        return max(mean, 0.0)
    ratio = mean / sd
    cdf = 0.5 * (1.0 + math.erf(ratio / _SQRT2))
    pdf = _INV_SQRT_2PI * math.exp(-0.5 * ratio * ratio)
    return mean * cdf + sd * pdf
