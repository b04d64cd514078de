"""Scale: the surge with one and with two `callcenter-ari run` processes of one tenant on one Redis, each serving
its own simulator (its own "Asterisk"), sharing every agent and the queue's global order.

Each process is a real subprocess (as deployed), so two processes can use two cores; each simulator is one too.
The same total traffic is offered in both runs, split evenly between the simulators. Measured: completed calls per
second (callers whose call ended with an agent conversation, over the window from the first injection to the last
end), and CPU per call (the app processes' CPU, from psutil, over the calls). The scaling factor is the ratio of
the two runs' completed calls per second. The overload guard is set out of the way, so that calls offered faster
than they complete wait rather than being shed. On a machine whose cores are shared with other work (and with the
simulators and Redis), the factor says what this machine gave, not what the design allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import psutil
from redis.asyncio import Redis

from bench.harness import (
    DID,
    QUEUE,
    REDIS_URL,
    agent_endpoint,
    agent_id,
    delete_prefix,
    new_prefix,
    stored_calls,
)
from bench.simproc import SIM_PASSWORD, SIM_USER, SimControl, simulator

TENANT = "bench"


@dataclass(frozen=True)
class ScaleSpec:
    calls: int = 3000  # in all, split between the processes
    rate: float = 1000.0  # new calls per second in all: above what one process completes on a small machine
    agents: int = 1000
    talk: float = 1.0
    answer_after: float = 0.05


@dataclass
class ScaleResult:
    processes: int
    calls: int
    completed: int
    lost: int  # calls with no ended record: refused by the overload guard (congestion, no record) or lost
    window: float
    completed_per_second: float
    cpu_ms_per_call: float
    app_cpu_util: float  # app CPU seconds per wall second, all processes (2.0 = two cores)
    sim_cpu_util: float  # the simulators' likewise
    outcomes: dict[str, int] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {
            "processes": self.processes,
            "calls": self.calls,
            "completed": self.completed,
            "not completed": self.calls - self.completed,
            "no record": self.lost,
            "window s": round(self.window, 2),
            "completed calls/s": round(self.completed_per_second, 1),
            "CPU ms/call": round(self.cpu_ms_per_call, 2),
            "app CPU (cores)": round(self.app_cpu_util, 2),
            "sim CPU (cores)": round(self.sim_cpu_util, 2),
        }


def _toml(tables: dict[str, dict[str, Any]]) -> str:
    return "".join(
        f"[{name}]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
        for name, values in tables.items()
    )


def app_config(ari_url: str, *, prefix: str, node: str, agents: int) -> str:
    """The surge's configuration (bench/harness.py ``bench_config``) as a file for `callcenter-ari run`."""
    tables: dict[str, dict[str, Any]] = {
        "app": {"app_name": "callcenter", "tenant": TENANT, "node": node, "shutdown_grace_seconds": 1.0},
        "ari": {"url": ari_url, "username": SIM_USER, "password": SIM_PASSWORD, "transport": "websocket"},
        "redis": {"url": REDIS_URL, "prefix": prefix},
        "http": {"enabled": False},
        "log": {"level": "info"},
        "inbound": {"greeting": "sound:beep", "default_queue": QUEUE},
        # Calls offered faster than they complete wait for the process instead of being shed: completed calls per
        # second over the window is then what the process (and its simulator) gets through.
        "overload": {"max_calls": 50_000, "max_pending_requests": 10_000, "max_ari_lag_seconds": 60.0},
        f"dids.{DID}": {"queue": QUEUE},
        f"queues.{QUEUE}": {"wrapup_seconds": 0.0, "ring_timeout_seconds": 15.0, "max_wait_seconds": 3600.0},
    }
    for i in range(agents):
        tables[f"agents.{agent_id(i)}"] = {"endpoint": agent_endpoint(i), "queues": [QUEUE], "logged_in": True}
    return _toml(tables)


async def run_scale(processes: int, spec: ScaleSpec) -> ScaleResult:
    prefix = new_prefix()
    redis = Redis.from_url(REDIS_URL)
    workdir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    apps: list[subprocess.Popen[bytes]] = []
    try:
        async with contextlib.AsyncExitStack() as stack:
            sims = [stack.enter_context(simulator(seed=n + 1)) for n in range(processes)]
            controls = [await stack.enter_async_context(SimControl(sim.base_url)) for sim in sims]
            for control in controls:
                for start in range(0, spec.agents, 200):
                    chunk = range(start, min(start + 200, spec.agents))
                    await asyncio.gather(
                        *(control.add_phone(agent_endpoint(i), spec.answer_after, spec.talk) for i in chunk)
                    )
            env = {key: value for key, value in os.environ.items() if not key.startswith("CALLCENTER_")}
            for n, sim in enumerate(sims):
                config = workdir / f"n{n}.toml"
                config.write_text(app_config(sim.base_url, prefix=prefix, node=f"n{n}", agents=spec.agents))
                apps.append(_spawn(config, env))
            await _running(redis, prefix, processes, apps)
            await anyio.sleep(4.5)  # two presence beats: every process knows how many run
            ps = [psutil.Process(app.pid) for app in apps]
            cpu0, sim_cpu0 = sum(_cpu(p) for p in ps), sum(sim.cpu_seconds() for sim in sims)
            wall0 = time.perf_counter()
            share = [spec.calls // processes + (n < spec.calls % processes) for n in range(processes)]
            await asyncio.gather(
                *(
                    control.traffic(count, spec.rate / processes, {"patience": None, "talk": None})
                    for control, count in zip(controls, share, strict=True)
                )
            )
            budget = spec.calls / spec.rate + spec.talk + 120.0
            with anyio.move_on_after(budget):
                pairs = list(zip(controls, share, strict=True))
                while not all([await _finished(control, count) for control, count in pairs]):  # noqa: ASYNC110 - polled
                    await anyio.sleep(0.05)
            window = time.perf_counter() - wall0
            cpu = sum(_cpu(p) for p in ps) - cpu0
            sim_cpu = sum(sim.cpu_seconds() for sim in sims) - sim_cpu0
            for app in apps:
                app.terminate()
            for app in apps:
                app.wait(timeout=30)
        records = await stored_calls(redis, f"{prefix}:{TENANT}:call:*")
    finally:
        for app in apps:
            if app.poll() is None:
                app.kill()
                app.wait()
        await delete_prefix(redis, f"{prefix}:*")
        await redis.aclose()
    outcomes: dict[str, int] = {}
    for record in records:
        key = record.outcome if record.phase == "ended" else f"live:{record.phase}"
        outcomes[key] = outcomes.get(key, 0) + 1
    completed = outcomes.get("completed", 0)
    return ScaleResult(
        processes=processes,
        calls=spec.calls,
        completed=completed,
        lost=spec.calls - sum(1 for record in records if record.phase == "ended"),
        window=window,
        completed_per_second=completed / window,
        cpu_ms_per_call=cpu * 1e3 / spec.calls,
        app_cpu_util=cpu / window,
        sim_cpu_util=sim_cpu / window,
        outcomes=outcomes,
    )


def _spawn(config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`callcenter-ari run` on this configuration, as deployed (its logs go nowhere: their cost counts)."""
    command = [sys.executable, "-m", "callcenter_ari", "run", "--config", str(config)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def _finished(control: SimControl, calls: int) -> bool:
    """Every call of this simulator was injected and has ended (no channel left)."""
    stats = await control.stats()
    return int(stats["calls_injected"]) >= calls and int(stats["channels_live"]) == 0


async def _running(redis: Redis, prefix: str, count: int, apps: list[subprocess.Popen[bytes]]) -> None:
    """Every process has renewed its lease (it is up and connected to Redis)."""
    with anyio.fail_after(60):
        while await redis.zcard(f"{prefix}:{TENANT}:instances") < count:
            for app in apps:
                if app.poll() is not None:
                    raise RuntimeError(f"an app process exited with {app.returncode}")
            await anyio.sleep(0.1)
