"""When a waiting caller is offered a callback ("press 1 to be called back, you keep your place").

Per queue: after ``offer_after`` seconds of waiting, or as soon as the estimated wait is over ``offer_when_wait_over``
seconds, whichever comes first; once per call. A queue with neither offers nothing by itself (its relaxation step
``action = "callback"``, an IVR ``callback`` node or the surge announcement still can).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Seconds = Annotated[float, msgspec.Meta(gt=0, le=86_400)]


class OfferPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    offer_after: Seconds | None = None
    offer_when_wait_over: Seconds | None = None

    @property
    def offers(self) -> bool:
        return self.offer_after is not None or self.offer_when_wait_over is not None


def offer_check_at(policy: OfferPolicy, enqueued_at: float) -> float | None:
    """When the waiting time alone makes the offer (a timer for the caller), or None."""
    return None if policy.offer_after is None else enqueued_at + policy.offer_after


def offer_due(policy: OfferPolicy, waited: float, ewt: float | None) -> bool:
    """Offer now? ``waited``: seconds in line so far; ``ewt``: the estimated wait, if the queue has one."""
    if policy.offer_after is not None and waited >= policy.offer_after:
        return True
    return policy.offer_when_wait_over is not None and ewt is not None and ewt > policy.offer_when_wait_over
