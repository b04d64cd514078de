"""Surge: callers through the whole inbound path (answer, greeting, queue, agent, hang-up) against the simulator.

Two shapes: a burst (N callers within a couple of seconds) and a sustained rate. Agents are simulator phones that
answer quickly and hang up after a short talk; wrap-up is 0, so the agent pool turns over as fast as it can.
Every injected call must end with an ended record in Redis, otherwise it counts as lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import anyio

from bench.harness import (
    Probe,
    agent_endpoint,
    bench_config,
    build_app,
    delete_prefix,
    new_prefix,
    percentile,
    quiet_logs,
    stored_calls,
)
from bench.profile import Profile, Sampler
from bench.simproc import SimControl, simulator


@dataclass(frozen=True)
class SurgeSpec:
    name: str
    calls: int
    rate: float | None  # new calls per second; None: all at once
    agents: int = 1000
    talk: float = 1.0
    answer_after: float = 0.05
    greeting: str = "sound:beep"  # 0.42 s: stands in for the IVR
    transport: str = "websocket"


@dataclass
class SurgeResult:
    spec: SurgeSpec
    offered_rate: float
    achieved_rate: float
    window: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    wire_p50_ms: float
    wire_p99_ms: float
    cpu_ms_per_call: float
    cpu_ms_per_request: float
    requests_per_call: float
    events_per_call: float
    redis_rt_per_call: float
    ended: int
    lost: int
    outcomes: dict[str, int] = field(default_factory=dict)
    app_cpu_util: float = 0.0
    sim_cpu_util: float = 0.0
    timed_out: bool = False
    profile: Profile | None = None

    def row(self) -> dict[str, Any]:
        return {
            "benchmark": self.spec.name,
            "calls": self.spec.calls,
            "offered calls/s": self.offered_rate,
            "achieved calls/s": self.achieved_rate,
            "p50 ms": self.p50_ms,
            "p99 ms": self.p99_ms,
            "max ms": self.max_ms,
            "wire p99 ms": self.wire_p99_ms,
            "CPU ms/call": self.cpu_ms_per_call,
            "CPU ms/request": self.cpu_ms_per_request,
            "requests/call": self.requests_per_call,
            "events/call": self.events_per_call,
            "Redis RT/call": self.redis_rt_per_call,
            "app CPU %": self.app_cpu_util * 100,
            "sim CPU %": self.sim_cpu_util * 100,
            "lost": self.lost,
        }


async def run_surge(spec: SurgeSpec, *, profile: bool = False) -> SurgeResult:
    quiet_logs()
    with simulator() as sim:
        async with SimControl(sim.base_url) as control:
            prefix = new_prefix()
            config = bench_config(sim.base_url, prefix=prefix, agents=spec.agents, transport=spec.transport)
            for start in range(0, spec.agents, 200):
                chunk = range(start, min(start + 200, spec.agents))
                await asyncio.gather(
                    *(control.add_phone(agent_endpoint(i), spec.answer_after, spec.talk) for i in chunk)
                )
            app = build_app(config)
            probe = Probe(app)
            ended = anyio.Event()
            finished = [0]

            def on_event(kind: str, fields: dict[str, Any]) -> None:
                if kind == "call.ended":
                    finished[0] += 1
                    if finished[0] >= spec.calls:
                        ended.set()

            app.services.observers.append(on_event)
            pattern = f"{prefix}:*"
            try:
                async with anyio.create_task_group() as tg:
                    await tg.start(app.run)
                    await app.store.flush()
                    probe.reset()
                    trips0, cpu0, sim_cpu0, wall0 = (
                        app.store.round_trips,
                        time.process_time(),
                        sim.cpu_seconds(),
                        (time.perf_counter()),
                    )
                    with Sampler() if profile else contextlib.nullcontext() as sampler:
                        await control.traffic(spec.calls, spec.rate, {"patience": None, "talk": None})
                        budget = (spec.calls / spec.rate if spec.rate else 2.0) + spec.talk + 60.0
                        with anyio.move_on_after(budget) as scope:
                            await ended.wait()
                    await app.store.flush()
                    wall = time.perf_counter() - wall0
                    cpu = time.process_time() - cpu0
                    sim_cpu = sim.cpu_seconds() - sim_cpu0
                    trips = app.store.round_trips - trips0
                    app.stop()
                records = await stored_calls(app.store.redis, f"{app.store.keys.base}:call:*")
            finally:
                await delete_prefix(app.store.redis, pattern)
                await app.store.redis.aclose()
    outcomes: dict[str, int] = {}
    for record in records:
        key = record.outcome if record.phase == "ended" else f"live:{record.phase}"
        outcomes[key] = outcomes.get(key, 0) + 1
    ended_ok = sum(count for key, count in outcomes.items() if not key.startswith("live:"))
    answer_window = probe.last_answer - probe.first_answer
    calls = spec.calls
    wire = probe.wire_corrected()
    return SurgeResult(
        spec=spec,
        offered_rate=spec.rate or float(calls),
        achieved_rate=(probe.answers - 1) / answer_window if answer_window > 0 else float("nan"),
        window=wall,
        p50_ms=percentile(probe.app_latency, 50) * 1e3,
        p99_ms=percentile(probe.app_latency, 99) * 1e3,
        max_ms=max(probe.app_latency, default=float("nan")) * 1e3,
        wire_p50_ms=percentile(wire, 50) * 1e3,
        wire_p99_ms=percentile(wire, 99) * 1e3,
        cpu_ms_per_call=cpu * 1e3 / calls,
        cpu_ms_per_request=cpu * 1e3 / max(1, probe.requests),
        requests_per_call=probe.requests / calls,
        events_per_call=probe.events / calls,
        redis_rt_per_call=trips / calls,
        ended=ended_ok,
        lost=calls - ended_ok,
        outcomes=outcomes,
        app_cpu_util=cpu / wall,
        sim_cpu_util=sim_cpu / wall,
        timed_out=scope.cancelled_caught,
        profile=sampler.summary() if isinstance(sampler, Sampler) else None,
    )
