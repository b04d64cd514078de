"""What the pacer measures about its campaign: how dials end and when, and how long agents talk and wrap up.

Every figure comes from the last few hundred observations, so a list that turns from mobiles at lunch to
landlines in the afternoon moves the estimates within minutes (Samuelson's "real-time estimation updating").
Distributions are kept whole, as sorted samples, not as means: the chance that an agent who has talked for four
minutes is free within ten seconds depends on the shape of the talk times, not only on their average.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections import deque
from collections.abc import Iterable

WINDOW = 400
TRUSTED = 30  # samples needed before a distribution is believed
_LEAN = 5.0  # weight, in dials, of the overall person rate in the rate after a given ringing time


class Samples:
    """The last ``size`` values (0: no limit, the owner drops them), in arrival order and also sorted, so that
    counts below a value are a binary search."""

    def __init__(self, size: int = WINDOW) -> None:
        self._size = size
        self._fifo: deque[float] = deque()
        self._sorted: list[float] = []
        self._sum = 0.0

    def add(self, value: float) -> None:
        if self._size and len(self._fifo) == self._size:
            self.drop_oldest()
        self._fifo.append(value)
        insort(self._sorted, value)
        self._sum += value

    def drop_oldest(self) -> None:
        old = self._fifo.popleft()
        self._sum -= old
        del self._sorted[bisect_right(self._sorted, old) - 1]

    def __len__(self) -> int:
        return len(self._fifo)

    def mean(self, default: float = 0.0) -> float:
        return self._sum / len(self._fifo) if self._fifo else default

    @property
    def sorted(self) -> list[float]:
        return self._sorted


class DialOutcomes:
    """How recent dials ended: answered by a person or not, and how long after the dial.

    The person rate starts from a prior of ``prior_rate`` worth ``prior_weight`` dials, high on purpose: before
    the campaign has shown its real rate, the pacer expects more people than will answer, so it dials fewer.
    """

    def __init__(self, size: int = WINDOW, prior_rate: float = 0.5, prior_weight: float = 10.0) -> None:
        self._size = size
        self._order: deque[bool] = deque()  # which of the two windows each of the last dials went to
        self.person_times = Samples(0)
        self.other_times = Samples(0)
        self._prior = prior_rate * prior_weight
        self._weight = prior_weight

    def add(self, person: bool, seconds: float) -> None:
        if len(self._order) == self._size:
            (self.person_times if self._order.popleft() else self.other_times).drop_oldest()
        self._order.append(person)
        (self.person_times if person else self.other_times).add(seconds)

    def __len__(self) -> int:
        return len(self.person_times) + len(self.other_times)

    def person_rate(self) -> float:
        persons = len(self.person_times)
        return (persons + self._prior) / (len(self) + self._weight)

    def time_to_person(self, default: float) -> float:
        return self.person_times.mean(default)

    def expected_persons(self, elapsed: Iterable[float]) -> tuple[float, float]:
        """Mean and variance of the number of people among calls still unanswered after these times (one each).

        A call's chance is counted on the dials that took longer than it has rung, leaning on the overall rate
        while they are few: early in a campaign only the quick outcomes have come back, and a call ringing longer
        than all of them is not thereby unlikely to be answered.
        """
        lean = _LEAN * self.person_rate()
        persons, others = self.person_times.sorted, self.other_times.sorted
        n_persons, n_others = len(persons), len(others)
        mean = variance = 0.0
        for seconds in elapsed:
            above = n_persons - bisect_right(persons, seconds)
            chance = (above + lean) / (above + n_others - bisect_right(others, seconds) + _LEAN)
            mean += chance
            variance += chance * (1.0 - chance)
        return mean, variance


class HandleTimes:
    """Talk and wrap-up durations of the campaign's recent calls, and the chance an agent is free soon."""

    def __init__(self, size: int = WINDOW) -> None:
        self.talk = Samples(size)
        self.wrapup = Samples(size)

    def expected_free(self, talking: Iterable[float], wrapping: Iterable[float], horizon: float) -> tuple[float, float]:
        """Mean and variance of the number of agents free within ``horizon``, given how long each has been talking
        or in wrap-up.

        An agent talking for ``elapsed`` is free in time with P(talk <= elapsed + horizon - mean wrap-up | talk >
        elapsed), counted on the talk samples; one in wrap-up likewise on the wrap-up samples. With no sample
        longer than ``elapsed`` nothing says when this call ends, and the chance is 0: the pacer does not count on
        agents it cannot predict. Nor with fewer than ``TRUSTED`` samples: the first calls to end are the short
        ones, and a distribution made of them alone would promise agents too soon.
        """
        mean = variance = 0.0
        for samples, elapsed_list, ahead in (
            (self.talk, talking, horizon - self.wrapup.mean()),
            (self.wrapup, wrapping, horizon),
        ):
            values = samples.sorted
            count = len(values)
            if count < TRUSTED or ahead <= 0:
                continue
            for elapsed in elapsed_list:
                done = bisect_right(values, elapsed)
                if done < count:
                    chance = (bisect_right(values, elapsed + ahead) - done) / (count - done)
                    mean += chance
                    variance += chance * (1.0 - chance)
        return mean, variance
