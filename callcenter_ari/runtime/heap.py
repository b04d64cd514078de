"""The garbage collector, set for a process that serves calls: `callcenter-ari run` calls ``tune`` before it starts
and ``settle`` once every tenant serves.

Calls allocate many short-lived objects, nearly all freed by reference counting; what CPython's cyclic collector
finds to scan is mostly what the process made at start and keeps for good (modules, the configuration, the agents'
board: about 100,000 objects with 1,000 agents). With its defaults a full collection came every few seconds under
load and scanned all of them, 53-69 ms with the event loop standing still: the p99 from an event's timestamp to its
request was 29-41 ms at 420 calls/s. Frozen once started (``gc.freeze``: no collection scans them again), with the
youngest generation collected every 10,000 allocations instead of 700, no full collection fell in the measured
window and that p99 was 8-13 ms (BENCHMARKS.md, fifth pass). Cyclic garbage is still collected, later: the
generations' thresholds bound how long.
"""

from __future__ import annotations

import gc

import structlog

log = structlog.get_logger(__name__)

# Allocations between collections of the youngest generation, then collections of each generation between those of
# the next (CPython's defaults: 700, 10, 10).
THRESHOLDS = (10_000, 50, 100)


def tune() -> None:
    gc.set_threshold(*THRESHOLDS)


def settle() -> None:
    """What exists now lives as long as the process: collected once more, then left out of every collection."""
    gc.collect()
    gc.freeze()
    log.info("app.heap_settled", frozen=gc.get_freeze_count(), thresholds=list(gc.get_threshold()))
