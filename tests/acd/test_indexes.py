"""The index structures against plain models."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_ari.acd.indexes import Deadlines, Fenwick, SortedKeys


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 400)), max_size=400))
def test_sorted_keys_behave_like_a_sorted_list(ops: list[tuple[bool, int]]) -> None:
    SortedKeys.LOAD = 4  # small blocks, so that splits and empty blocks happen
    try:
        keys, model = SortedKeys(), []
        for add, value in ops:
            key = (value, value % 7)
            if add and key not in model:
                keys.add(key)
                model.append(key)
            elif not add and key in model:
                keys.remove(key)
                model.remove(key)
            model.sort()
            assert list(keys) == model and len(keys) == len(model)
            assert keys.first() == (model[0] if model else None)
            probe = (value,)
            assert keys.rank(probe) == sum(1 for k in model if k < probe)
            assert keys.first_after(probe) == next((k for k in model if k > probe), None)
    finally:
        SortedKeys.LOAD = 256


def test_fenwick_draws_in_proportion_to_weights() -> None:
    tree = Fenwick(0)
    slots = [tree.grow() for _ in range(4)]
    for slot, weight in zip(slots, (1, 0, 3, 6), strict=True):
        tree.set(slot, weight)
    rng = random.Random(3)
    counts = Counter(tree.find(rng.randrange(tree.total)) for _ in range(10_000))
    assert counts[1] == 0
    assert 0.08 < counts[0] / 10_000 < 0.12 and 0.56 < counts[3] / 10_000 < 0.64


def test_deadlines_move_cancel_and_pop_in_order() -> None:
    d = Deadlines()
    d.set("relax", "c1", 30.0)
    d.set("relax", "c2", 10.0)
    d.set("relax", "c1", 5.0)
    d.set("wrapup", "a1", 20.0)
    d.cancel("wrapup", "a1")
    assert d.next() == 5.0
    assert d.pop_due(100.0) == (5.0, "relax", "c1")
    assert d.pop_due(100.0) == (10.0, "relax", "c2")
    assert d.pop_due(100.0) is None and d.next() is None


def test_deadlines_stay_bounded_when_moved_over_and_over() -> None:
    d = Deadlines()
    for n in range(10_000):
        d.set("wrapup", "a1", float(n))
    assert len(d._heap) < 200
