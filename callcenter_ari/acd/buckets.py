"""Buckets: the unit of the board's indexes. A bucket is one skill need of one queue.

Calls with the same queue, effective requirement (the queue's skills after the relaxation steps the call has
reached, and the call's own needs), member queues (the queue plus overflows reached) and language share a bucket.
The bucket knows, once, which agents are eligible; it holds its waiting calls in a sorted index (priority, then
enqueue time) and its *available* eligible agents in a pool ordered by the queue's strategy, so both "best call
for this agent" and "best agent for this call" are a look at the front of an index.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from callcenter_ari.acd.indexes import Fenwick, Key, SortedKeys
from callcenter_ari.acd.skills import Requirement, render, satisfied, score, unmet
from callcenter_ari.acd.specs import AgentSpec, Strategy


class BucketKey(NamedTuple):
    queue: str
    requirement: Requirement | None
    members: frozenset[str]
    language: str


class Call:
    """A waiting call. ``key`` orders calls: higher priority first, then earlier enqueue time, then arrival."""

    __slots__ = ("bucket", "call_id", "enqueued_at", "key", "language", "needs", "priority", "queue", "stage")

    def __init__(
        self,
        call_id: str,
        queue: str,
        priority: int,
        enqueued_at: float,
        seq: int,
        language: str,
        needs: Requirement | None,
    ) -> None:
        self.call_id = call_id
        self.queue = queue
        self.priority = priority
        self.enqueued_at = enqueued_at
        self.key: Key = (-priority, enqueued_at, seq)
        self.language = language
        self.needs = needs
        self.stage = 0
        self.bucket: Bucket | None = None


class Bucket:
    def __init__(self, key: BucketKey, strategy: Strategy) -> None:
        self.key = key
        self.queue = key.queue
        self.strategy = strategy
        self.requirement = key.requirement
        self.calls = SortedKeys()
        # Eligible agents and their skill score for this bucket's requirement.
        self.eligible: dict[str, int] = {}
        self.logged_in = 0
        self.present = 0
        self._text: str | None = None
        self.pool: OrderedPool | WeightedPool = (
            WeightedPool() if strategy in ("random", "weighted_random") else OrderedPool()
        )

    def why_not(self, spec: AgentSpec) -> str:
        """'' if the agent is eligible, else the reason (for the routing audit)."""
        if not self.key.members.intersection(spec.queues):
            return f"not a member of {'/'.join(sorted(self.key.members))}"
        # An agent who lists no languages takes calls in any; one who lists some takes only those.
        if self.key.language and spec.languages and self.key.language not in spec.languages:
            return f"does not speak {self.key.language}"
        if not satisfied(self.requirement, spec.skills):
            return unmet(self.requirement, spec.skills)
        return ""

    def admit(self, spec: AgentSpec) -> bool:
        if self.why_not(spec):
            return False
        self.eligible[spec.agent_id] = score(self.requirement, spec.skills)
        return True

    def describe(self) -> str:
        """The requirement as text, for the audit (rendered once)."""
        if self._text is None:
            text = render(self.requirement)
            if self.key.language:
                text = f"{text} & language={self.key.language}" if text else f"language={self.key.language}"
            self._text = text
        return self._text


class OrderedPool:
    """Available agents ordered by a strategy key; the key's last element is the agent id."""

    def __init__(self) -> None:
        self.keys = SortedKeys()
        self.key_of: dict[str, Key] = {}

    def __len__(self) -> int:
        return len(self.key_of)

    def add(self, agent_id: str, key: Key) -> None:
        self.key_of[agent_id] = key
        self.keys.add(key)

    def discard(self, agent_id: str) -> None:
        key = self.key_of.pop(agent_id, None)
        if key is not None:
            self.keys.remove(key)

    def first(self) -> str | None:
        key = self.keys.first()
        return None if key is None else str(key[-1])

    def first_after(self, key: Key) -> str | None:
        found = self.keys.first_after(key)
        return None if found is None else str(found[-1])

    def all(self) -> list[str]:
        return [str(k[-1]) for k in self.keys]

    def head(self, n: int) -> list[tuple[str, Key]]:
        return [(str(k[-1]), k[:-1]) for k in self.keys.head(n)]


class WeightedPool:
    """Available agents with integer weights; a draw picks one with probability weight / total, in O(log n)."""

    def __init__(self) -> None:
        self._tree = Fenwick(0)
        self._slot: dict[str, int] = {}
        self._agent: list[str] = []
        self.present: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.present)

    def reserve(self, agent_ids: list[str]) -> None:
        """Give these agents slots in one O(n) rebuild (a bucket's eligible agents, when it is built)."""
        fresh = [a for a in agent_ids if a not in self._slot]
        for agent_id in fresh:
            self._slot[agent_id] = len(self._agent)
            self._agent.append(agent_id)
        self._tree.resize(len(self._agent))

    def add(self, agent_id: str, weight: int) -> None:
        slot = self._slot.get(agent_id)
        if slot is None:
            slot = self._slot[agent_id] = self._tree.grow()
            self._agent.append(agent_id)
        self._tree.set(slot, weight)
        self.present[agent_id] = weight

    def discard(self, agent_id: str) -> None:
        if self.present.pop(agent_id, None) is not None:
            self._tree.set(self._slot[agent_id], 0)

    def draw(self, rng: random.Random) -> tuple[str, int, int]:
        """An agent, the point drawn and the total weight (for the audit)."""
        point = rng.randrange(self._tree.total)
        return self._agent[self._tree.find(point)], point, self._tree.total

    def head(self, n: int) -> list[tuple[str, Key]]:
        return [(agent_id, (weight,)) for agent_id, weight in list(self.present.items())[:n]]

    def all(self) -> list[str]:
        return list(self.present)
