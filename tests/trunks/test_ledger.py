"""The line ledger never lets a trunk carry more calls than it has lines."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from callcenter_ari.trunks import LineLedger

CAPACITY = {"pri1": 2, "provider1": 3, "fxo": 0}


def test_acquire_refuses_beyond_capacity() -> None:
    """The third call on a two-line trunk gets no line."""
    ledger = LineLedger({"pri1": 2})
    assert ledger.acquire("a", ["pri1"]) == "pri1"
    assert ledger.acquire("b", ["pri1"]) == "pri1"
    assert ledger.acquire("c", ["pri1"]) is None
    assert ledger.busy("pri1") == 2
    assert ledger.free("pri1") == 0


def test_acquire_picks_the_first_trunk_with_a_free_line() -> None:
    """Preference order is kept; a full trunk is skipped, not failed."""
    ledger = LineLedger({"cheap": 1, "costly": 5})
    assert ledger.acquire("a", ["cheap", "costly"]) == "cheap"
    assert ledger.acquire("b", ["cheap", "costly"]) == "costly"
    assert ledger.holder("b") == "costly"


def test_release_is_idempotent() -> None:
    """A hangup processed twice frees one line, not two."""
    ledger = LineLedger({"pri1": 1})
    ledger.acquire("a", ["pri1"])
    ledger.acquire("b", ["pri1"])
    assert ledger.release("a") == "pri1"
    assert ledger.release("a") is None
    assert ledger.busy("pri1") == 0
    assert ledger.release("never") is None


def test_a_lease_holds_at_most_one_line() -> None:
    """Reusing a live lease id is a programming error, refused before anything changes."""
    ledger = LineLedger({"pri1": 2})
    ledger.acquire("a", ["pri1"])
    with pytest.raises(ValueError, match="already holds"):
        ledger.acquire("a", ["pri1"])
    assert ledger.busy("pri1") == 1


def test_unknown_trunk_is_an_error_not_a_full_trunk() -> None:
    """A misspelt trunk name must surface, not look like congestion."""
    ledger = LineLedger({"pri1": 1})
    with pytest.raises(KeyError, match="pri2"):
        ledger.acquire("a", ["pri2"])


def test_negative_capacity_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        LineLedger({"pri1": -1})


class InterleavedCalls(RuleBasedStateMachine):
    """Calls on several trunks start and end in any order, as concurrent call tasks would."""

    def __init__(self) -> None:
        super().__init__()
        self.ledger = LineLedger(CAPACITY)
        self.model: dict[str, str] = {}

    @rule(lease=st.sampled_from([f"call-{i}" for i in range(8)]), trunks=st.permutations(list(CAPACITY)))
    def acquire(self, lease: str, trunks: list[str]) -> None:
        if lease in self.model:
            return
        got = self.ledger.acquire(lease, trunks)
        if got is None:
            assert all(self.ledger.free(t) == 0 for t in trunks)
        else:
            before = trunks[: trunks.index(got)]
            assert all(self.ledger.free(t) == 0 for t in before)
            self.model[lease] = got

    @rule(lease=st.sampled_from([f"call-{i}" for i in range(8)]))
    def release(self, lease: str) -> None:
        assert self.ledger.release(lease) == self.model.pop(lease, None)

    @invariant()
    def never_beyond_capacity(self) -> None:
        for trunk, lines in CAPACITY.items():
            held = sum(1 for t in self.model.values() if t == trunk)
            assert self.ledger.busy(trunk) == held
            assert 0 <= held <= lines


TestInterleavedCalls = InterleavedCalls.TestCase
