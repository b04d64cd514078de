"""The garbage collector as `callcenter-ari run` sets it (runtime/heap.py). The process-wide settings are put back
after each test: the test process keeps CPython's defaults."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from callcenter_ari.runtime import heap


@pytest.fixture(autouse=True)
def collector_put_back() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_tune_sets_the_generations_thresholds() -> None:
    heap.tune()
    assert gc.get_threshold() == heap.THRESHOLDS == (10_000, 50, 100)


def test_settle_leaves_what_exists_out_of_every_collection_and_not_what_comes_later() -> None:
    gc.unfreeze()
    before = len(gc.get_objects())
    heap.settle()
    frozen = gc.get_freeze_count()
    assert frozen >= before // 2  # the start's objects: frozen, no longer in any generation
    assert len(gc.get_objects()) < before - frozen // 2
    made_later = [[n] for n in range(1000)]  # containers: tracked by the collector
    assert gc.get_freeze_count() == frozen
    assert any(obj is made_later[0] for obj in gc.get_objects())  # in a generation: collected as before
