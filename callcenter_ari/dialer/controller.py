"""The feedback controller: it turns how boldly the pacer dials so that the abandon rate settles at its target.

The forecast is a model, and models are off (answers bunch, agents linger in wrap-up). So the share of people the
forecast may leave without an agent, ``theta``, is corrected by what happens: every person connected raises it by
a small factor, every abandon lowers it by a large one, sized so that the two balance exactly when abandons are
``target`` of the answered calls:

    log theta += gain                      per person connected
    log theta -= gain * (1 - target) / target   per abandon

Below the target ``theta`` climbs and the pacer dials ahead more; above it ``theta`` drops fast (at a 2.25 %
target one abandon undoes about 43 connections). It is integral action on the abandon rate in log space, bounded
so that a quiet hour does not wind it up without limit. And it only climbs while it is what limits the dialing:
when the budget or the lines hold the pacer back, abandons are rare for another reason, and a ``theta`` wound up
meanwhile would over-dial the moment the budget allows (integrator wind-up).
"""

from __future__ import annotations

import math


class AbandonController:
    def __init__(self, target: float, *, gain: float = 0.01, span: float = 20.0) -> None:
        if not 0.0 < target < 1.0:
            raise ValueError(f"target abandon rate {target} must be between 0 and 1")
        self.target = target
        self._up = gain
        self._down = gain * (1.0 - target) / target
        self._low = math.log(target / span)
        self._high = math.log(min(0.5, target * span))
        self._log_theta = math.log(target)

    @property
    def theta(self) -> float:
        return math.exp(self._log_theta)

    def observe(self, abandoned: bool, *, steering: bool = True) -> None:
        """One person answered: ``abandoned`` or connected. ``steering``: whether ``theta`` limited the dialing."""
        if abandoned:
            self._log_theta = max(self._low, self._log_theta - self._down)
        elif steering:
            self._log_theta = min(self._high, self._log_theta + self._up)
