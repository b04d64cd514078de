"""Surge: callers through the whole inbound path (answer, greeting or IVR, queue, agent, hang-up) against the
simulator, with the figures counted where they cannot flatter.

Two shapes: a burst (N callers within a couple of seconds) and a sustained rate; two profiles: `plain` (a beep
for greeting, wrap-up 0, no webhook subscriber) and `production` (a two-level IVR menu answered with keys, a
wrap-up, one webhook subscriber on a local receiver in its own process; the run ends once the outbox has
delivered every event). Agents are simulator phones that answer quickly and hang up after a short talk.

What is counted, and where:
- completed calls: call records in Redis whose phase is `ended`, every outcome listed (`failed` is a failure), and
  the simulator's own count of channels still up at the end (0 when every call, caller and agent leg, is gone);
  completed calls/s is their number over the window from the first event to the last `call.ended`;
- Redis commands and round trips at redis-py's connection, for all the process's traffic (bench/counting.py);
- ARI frames in and out as the simulator counts them on its side of the socket (events and replies sent, request
  frames received);
- latency from the event's own timestamp (Asterisk's, millisecond resolution, same host clock) to the request it
  causes, and from a call's `call.queued` to its first agent originate (agents free).

The measured application runs in a child process (`python -m bench.surge SPEC_JSON`, or with `--source DIR` the
project at another commit: see `bench/against.py`), so that two commits run the same load the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class SurgeSpec:
    name: str
    calls: int
    rate: float | None  # new calls per second; None: all at once
    agents: int = 1000
    talk: float = 1.0
    answer_after: float = 0.05
    profile: str = "plain"  # or "production"
    transport: str = "websocket"
    loop: str = "uvloop"  # the measured process's event loop (`callcenter-ari run` uses uvloop), or "asyncio"


@dataclass
class SurgeResult:
    spec: SurgeSpec
    source: str  # the project tree measured
    offered_rate: float
    completed_rate: float  # ended calls per second, first event to last call.ended
    answer_rate: float  # Answer requests per second (the figure the first benchmark called "achieved")
    window: float
    p50_ms: float  # dispatcher receiving the event to the request
    p99_ms: float
    stamp_p50_ms: float  # the event's own timestamp to the request
    stamp_p99_ms: float
    stamp_max_ms: float
    offer_p50_ms: float  # call.queued to the agent originate
    offer_p99_ms: float
    cpu_ms_per_call: float  # all the app's CPU over the window, per completed call
    requests_per_call: float
    events_per_call: float
    redis_commands_per_call: float
    redis_rt_per_call: float
    redis_executed_per_call: float  # the server's count of data commands run, scripts' inner ones included
    frames_in_per_call: float  # frames the app received (events and replies)
    frames_out_per_call: float  # frames (or HTTP requests) the app sent
    ended: int
    failed: int
    lost: int
    sim_channels_left: int
    shed: dict[str, int] = field(default_factory=dict)  # calls given the overload treatment, by reason
    webhooks_received: int = 0
    webhook_connections: int = 0  # TCP connections the receiver saw them on
    outcomes: dict[str, int] = field(default_factory=dict)
    redis_by_command: dict[str, float] = field(default_factory=dict)
    redis_rt_by_source: dict[str, float] = field(default_factory=dict)  # round trips per call, by sender
    app_cpu_util: float = 0.0
    sim_cpu_util: float = 0.0
    # The app process's read and write system calls (sockets: Redis, ARI, webhooks), from /proc/self/io; each one on
    # loopback TCP runs the peer's receive path too, so they are much of the CPU that is not Python.
    reads_per_call: float = 0.0
    writes_per_call: float = 0.0
    timed_out: bool = False
    profile: dict[str, Any] | None = None

    def row(self) -> dict[str, Any]:
        return {
            "benchmark": self.spec.name,
            "tree": self.source,
            "calls": self.spec.calls,
            "offered/s": self.offered_rate,
            "completed/s": self.completed_rate,
            "answers/s": self.answer_rate,
            "p99 ms (timestamp)": self.stamp_p99_ms,
            "p99 ms (dispatcher)": self.p99_ms,
            "enqueue->offer p99 ms": self.offer_p99_ms,
            "CPU ms/call": self.cpu_ms_per_call,
            "Redis cmd/call": self.redis_commands_per_call,
            "Redis RT/call": self.redis_rt_per_call,
            "Redis run/call": self.redis_executed_per_call,
            "frames in/call": self.frames_in_per_call,
            "frames out/call": self.frames_out_per_call,
            "read syscalls/call": self.reads_per_call,
            "write syscalls/call": self.writes_per_call,
            "webhooks/call": self.webhooks_received / max(1, self.ended - self.failed),
            "app CPU %": self.app_cpu_util * 100,
            "sim CPU %": self.sim_cpu_util * 100,
            "failed": self.failed,
            "shed": sum(self.shed.values()),
            "lost": self.lost,
            "sim ch left": self.sim_channels_left,
        }


# ---------------------------------------------------------------------------------------------- parent side


def run_child(spec: SurgeSpec, *, source: Path | None = None, profile: bool = False) -> SurgeResult:
    """Run one surge in a child process on the project at ``source`` (default: this tree) and read its result."""
    source = (source or ROOT).resolve()
    # This tree's `bench` package is imported first (its submodules then come from it); `callcenter_ari`, imported
    # by nothing before, resolves from `source`, put first on the path.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import bench; sys.path.insert(0, sys.argv[2]);"
        "from bench.surge import child_main; child_main(sys.argv[3], sys.argv[4] == '1')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), str(source), json.dumps(asdict(spec)), "1" if profile else "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"surge child on {source} failed ({done.returncode}): {done.stderr[-3000:]}")
    data = json.loads(lines[-1])
    data["spec"] = SurgeSpec(**data["spec"])
    return SurgeResult(**data)


# ---------------------------------------------------------------------------------------------- child side


def _syscalls() -> tuple[int, int]:
    """This process's read and write system calls so far (Linux; zeros elsewhere)."""
    try:
        fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    except OSError:
        return 0, 0
    return int(fields["syscr"]), int(fields["syscw"])


def child_main(spec_json: str, profile: bool) -> None:
    import anyio

    import callcenter_ari
    from bench.harness import heap_as_run_sets_it

    spec = SurgeSpec(**json.loads(spec_json))
    options = {"use_uvloop": spec.loop == "uvloop"}
    heap_as_run_sets_it("start")
    result = anyio.run(lambda: run_surge(spec, profile=profile), backend_options=options)
    result.source = str(Path(callcenter_ari.__file__).resolve().parent.parent)
    out = asdict(result)
    print(json.dumps(out, default=str), flush=True)


@contextlib.contextmanager
def _receiver() -> Any:
    process = subprocess.Popen([sys.executable, "-m", "bench.receiver"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"webhook receiver did not start: {line!r}")
        yield line.split("listening on ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(5)


async def _outbox_drained(app: Any) -> None:
    """Wait until the webhook outbox has delivered every event of the run: the window, and the CPU charged to the
    calls, then hold all their deliveries whatever the outbox's lag when the last call ended (runs that stopped at
    the last call charged between 2.5 and 7.6 deliveries a call, by how far behind the outbox happened to be). The
    polling itself is a few commands every 0.2 s, counted with the rest."""
    import anyio

    while True:
        status = await app.webhooks.status()
        if status.unread == status.unacknowledged == status.scheduled == 0:
            return
        await anyio.sleep(0.2)


# Not data commands: the scripts' own calls (their writes are counted one by one) and this measurement's.
_NOT_DATA = {"eval", "evalsha", "info", "script"}


async def _executed(redis: Any) -> int:
    """Commands Redis has run (INFO commandstats), a script's writes one by one, the scripts themselves not: what a
    batch folded into one script still costs the server. The whole server's count: other clients of the same
    Redis during the run are counted too, so this figure holds on an otherwise idle Redis."""
    stats = await redis.info("commandstats")
    return sum(
        int(value["calls"])
        for name, value in stats.items()
        if name.startswith("cmdstat_") and name.split("_", 1)[1].split("|")[0] not in _NOT_DATA
    )


def _shed(app: Any) -> dict[str, int]:
    metric = getattr(app.services.metrics, "calls_shed", None)
    if metric is None:
        return {}
    return {
        sample.labels.get("reason", "?"): int(sample.value)
        for family in metric.collect()
        for sample in family.samples
        if sample.name.endswith("_total") and sample.value
    }


async def run_surge(spec: SurgeSpec, *, profile: bool = False) -> SurgeResult:
    import anyio

    from bench.counting import counting_redis
    from bench.harness import (
        PRODUCTION_KEYS,
        Probe,
        agent_endpoint,
        bench_config,
        build_app,
        delete_prefix,
        heap_as_run_sets_it,
        new_prefix,
        outcomes_of,
        percentile,
        quiet_logs,
        stored_calls,
        when_all_ended,
    )
    from bench.profile import Sampler
    from bench.simproc import SimControl, measured_tree_lists_replies, simulator

    quiet_logs()
    production = spec.profile == "production"
    script: dict[str, Any] = {"patience": None, "talk": None}
    if production:
        script["dtmf"] = [list(key) for key in PRODUCTION_KEYS]
    with (
        simulator(filter_replies=measured_tree_lists_replies()) as sim,
        _receiver() if production else contextlib.nullcontext() as hook_url,
    ):
        async with SimControl(sim.base_url) as control:
            prefix = new_prefix()
            config = bench_config(
                sim.base_url, prefix=prefix, agents=spec.agents, transport=spec.transport, production=production
            )
            for start in range(0, spec.agents, 200):
                chunk = range(start, min(start + 200, spec.agents))
                await asyncio.gather(
                    *(control.add_phone(agent_endpoint(i), spec.answer_after, spec.talk) for i in chunk)
                )
            app = build_app(config)
            probe = Probe(app)
            ended = when_all_ended(app, spec.calls)
            pattern = f"{prefix}:*"
            webhooks_received = webhook_connections = webhooks_before = 0
            try:
                with counting_redis() as traffic:
                    async with anyio.create_task_group() as tg:
                        await tg.start(app.run)
                        heap_as_run_sets_it("serving")
                        if hook_url is not None:
                            await app.webhooks.create_subscription(hook_url)
                        await app.store.flush()
                        await anyio.sleep(0.5)  # let start-up traffic settle
                        if hook_url is not None:
                            # The agents' log-ins of the start are events too: delivered before the window opens.
                            await _outbox_drained(app)
                            async with __import__("aiohttp").ClientSession() as session:
                                reply = await session.get(hook_url.replace("/hook", "/count"))
                                webhooks_before = int((await reply.json())["received"])
                        executed0 = await _executed(app.store.redis)
                        probe.reset()
                        traffic.reset()
                        before = await control.stats()
                        cpu0, sim_cpu0, wall0 = time.process_time(), sim.cpu_seconds(), time.perf_counter()
                        io0 = _syscalls()
                        with Sampler() if profile else contextlib.nullcontext() as sampler:
                            await control.traffic(spec.calls, spec.rate, script)
                            budget = (spec.calls / spec.rate if spec.rate else 2.0) + spec.talk + 60.0
                            with anyio.move_on_after(budget) as scope:
                                await ended.wait()
                                if hook_url is not None:
                                    await _outbox_drained(app)
                        await app.store.flush()
                        wall = time.perf_counter() - wall0
                        cpu = time.process_time() - cpu0
                        io = [after - before for after, before in zip(_syscalls(), io0, strict=True)]
                        sim_cpu = sim.cpu_seconds() - sim_cpu0
                        commands, trips = traffic.snapshot()
                        sources = Counter(traffic.sources)
                        executed = await _executed(app.store.redis) - executed0
                        await anyio.sleep(1.5)  # agent legs and wrap-ups finish; the simulator settles
                        after = await control.stats()
                        if hook_url is not None:
                            async with __import__("aiohttp").ClientSession() as session:
                                reply = await session.get(hook_url.replace("/hook", "/count"))
                                counts = await reply.json()
                                webhooks_received = int(counts["received"]) - webhooks_before
                                webhook_connections = int(counts["connections"])
                        shed = _shed(app)
                        app.stop()
                records = await stored_calls(app.store.redis, f"{app.store.keys.base}:call:*")
            finally:
                await delete_prefix(app.store.redis, pattern)
                await app.store.redis.aclose()
    outcomes = outcomes_of(records)
    ended_count = sum(count for key, count in outcomes.items() if not key.startswith("live:"))
    failed = outcomes.get("failed", 0)
    calls = spec.calls
    # Per call means per completed call: CPU, commands and frames spent on calls shed, failed or still live at the
    # end are charged to the ones that ended well (all of them, when the load is carried).
    served = max(1, ended_count - failed)
    completed_window = (max(probe.ended_at) - probe.first_event) if probe.ended_at else float("nan")
    answer_window = probe.last_answer - probe.first_answer
    events = after["events_sent"] - before["events_sent"]
    replies = after.get("ws_replies_sent", 0) - before.get("ws_replies_sent", 0)
    frames_out = (after.get("ws_frames_in", 0) - before.get("ws_frames_in", 0)) + (
        after.get("http_requests", 0) - before.get("http_requests", 0)
    )
    stamp = probe.wire_latency  # raw: both processes read the same clock
    return SurgeResult(
        spec=spec,
        source="",
        offered_rate=spec.rate or float(calls),
        completed_rate=ended_count / completed_window if completed_window > 0 else float("nan"),
        answer_rate=(probe.answers - 1) / answer_window if answer_window > 0 else float("nan"),
        window=wall,
        p50_ms=percentile(probe.app_latency, 50) * 1e3,
        p99_ms=percentile(probe.app_latency, 99) * 1e3,
        stamp_p50_ms=percentile(stamp, 50) * 1e3,
        stamp_p99_ms=percentile(stamp, 99) * 1e3,
        stamp_max_ms=max(stamp, default=float("nan")) * 1e3,
        offer_p50_ms=percentile(probe.offer_latency, 50) * 1e3,
        offer_p99_ms=percentile(probe.offer_latency, 99) * 1e3,
        cpu_ms_per_call=cpu * 1e3 / served,
        requests_per_call=probe.requests / served,
        events_per_call=probe.events / served,
        redis_commands_per_call=sum(commands.values()) / served,
        redis_rt_per_call=trips / served,
        redis_executed_per_call=executed / served,
        frames_in_per_call=(events + replies) / served,
        frames_out_per_call=frames_out / served,
        reads_per_call=io[0] / served,
        writes_per_call=io[1] / served,
        ended=ended_count,
        failed=failed,
        lost=calls - ended_count,
        sim_channels_left=int(after["channels_live"]),
        shed=shed,
        webhooks_received=webhooks_received,
        webhook_connections=webhook_connections,
        outcomes=outcomes,
        redis_by_command={name: round(count / served, 2) for name, count in commands.most_common()},
        redis_rt_by_source={name: round(count / served, 2) for name, count in sources.most_common(12)},
        app_cpu_util=cpu / wall,
        sim_cpu_util=sim_cpu / wall,
        timed_out=scope.cancelled_caught,
        profile=asdict(summary) if isinstance(sampler, Sampler) and (summary := sampler.summary()) else None,
    )
