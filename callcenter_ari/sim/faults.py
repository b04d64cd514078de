"""Faults the simulator can inject into ARI requests, for tests and benchmarks of an overloaded or failing Asterisk.

A rule names an operation (by its Swagger nickname, ``answer``, ``originate``; ``*`` for every one), how often it
strikes, and what it does: ``fail`` answers 500 without doing anything (Asterisk refused or crashed on it), ``slow``
does the operation only after ``delay`` seconds (Asterisk too busy to answer in time: a client that gave up still
finds its effect later, as with a real Asterisk under load). Draws come from a seeded generator.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["fail", "slow"]


@dataclass(frozen=True)
class FaultRule:
    operation: str
    kind: FaultKind
    probability: float
    delay: float = 0.0


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self._rng = random.Random(seed)
        self.struck: dict[str, int] = {}  # "<operation>:<kind>" -> times a fault struck

    def set(self, rules: list[FaultRule]) -> None:
        self.rules = list(rules)

    def clear(self) -> None:
        self.rules = []

    def draw(self, operation: str) -> FaultRule | None:
        """The fault that strikes this request, if any (the first matching rule whose draw hits)."""
        for rule in self.rules:
            if rule.operation in ("*", operation) and self._rng.random() < rule.probability:
                key = f"{operation}:{rule.kind}"
                self.struck[key] = self.struck.get(key, 0) + 1
                return rule
        return None
