"""Memory: N calls up at once (answered, greeted, waiting in the queue with no agent logged in): bytes per call.

Two figures: Python heap growth traced by tracemalloc (exact, and attributable to the file that allocated it),
and the process's RSS growth (what the operating system sees, allocator slack included) in a separate run
without tracemalloc, since tracing adds its own memory.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import anyio
import psutil

from bench.harness import bench_config, build_app, delete_prefix, new_prefix, quiet_logs
from bench.simproc import SimControl, simulator

RAMP_RATE = 1000.0  # new calls per second while filling the queue


@dataclass
class MemoryResult:
    calls: int
    traced_bytes_per_call: float
    rss_bytes_per_call: float
    ramp_seconds: float
    top_sites: list[tuple[str, float]] = field(default_factory=list)  # (file, bytes per call)

    def row(self) -> dict[str, Any]:
        return {
            "live calls": self.calls,
            "heap KB/call (tracemalloc)": self.traced_bytes_per_call / 1024,
            "RSS KB/call": self.rss_bytes_per_call / 1024,
            "ramp s": self.ramp_seconds,
        }


async def _hold_calls(calls: int, *, trace: bool) -> tuple[float, float, list[tuple[str, float]]]:
    """Bring `calls` calls into the queue; returns (bytes per call, seconds to get there, top allocation sites)."""
    quiet_logs()
    with simulator() as sim:
        async with SimControl(sim.base_url) as control:
            prefix = new_prefix()
            app = build_app(bench_config(sim.base_url, prefix=prefix, agents=0))
            process = psutil.Process()
            try:
                async with anyio.create_task_group() as tg:
                    await tg.start(app.run)
                    await app.store.flush()
                    gc.collect()
                    if trace:
                        tracemalloc.start(1)
                        before_snapshot = tracemalloc.take_snapshot()
                        before = tracemalloc.get_traced_memory()[0]
                    else:
                        before = process.memory_info().rss
                    started = time.perf_counter()
                    await control.traffic(calls, RAMP_RATE, {"patience": None, "talk": None})
                    with anyio.fail_after(900):  # with tracemalloc on, 10,000 calls take minutes (5 or more on 2 cores)
                        while _queued(app) < calls:  # noqa: ASYNC110 - the state is the app's, polled
                            await anyio.sleep(0.25)
                    ramp = time.perf_counter() - started
                    await app.store.flush()
                    gc.collect()
                    sites: list[tuple[str, float]] = []
                    if trace:
                        after = tracemalloc.get_traced_memory()[0]
                        stats = tracemalloc.take_snapshot().compare_to(before_snapshot, "filename")
                        sites = [(_short(s.traceback[0].filename), s.size_diff / calls) for s in stats[:8]]
                        tracemalloc.stop()
                    else:
                        after = process.memory_info().rss
                    app.stop()
            finally:
                await delete_prefix(app.store.redis, f"{prefix}:*")
                await app.store.redis.aclose()
    return (after - before) / calls, ramp, sites


def _queued(app: Any) -> int:
    return sum(1 for task in app.services.calls.values() if task.machine.record.phase == "queued")


def _short(path: str) -> str:
    for marker in ("site-packages/", "callcenter_ari/", "lib/python3.11/"):
        if marker in path:
            return (
                path.split(marker, 1)[1]
                if marker != "callcenter_ari/"
                else "callcenter_ari/" + path.split(marker, 1)[1]
            )
    return path


def _hold_calls_in_process(calls: int, trace: bool) -> tuple[float, float, list[tuple[str, float]]]:
    return anyio.run(functools.partial(_hold_calls, calls, trace=trace), backend_options={"use_uvloop": True})


def run_memory(calls: int) -> MemoryResult:
    """Each measurement in a fresh process: RSS growth is meaningless in a process whose heap has been used."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        rss, ramp, _ = pool.submit(_hold_calls_in_process, calls, False).result()
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        traced, _, sites = pool.submit(_hold_calls_in_process, calls, True).result()
    return MemoryResult(calls, traced, rss, ramp, sites)
