"""The surge against a real Asterisk: `python -m bench surge --ari-url URL --ari-user U --asterisk-pid PID`.

The application (the production `Application`, in a child process as for the simulator runs) serves calls that
this process places through Asterisk's own ARI at each rate: a caller is `Local/<did>@cc-inbound`, whose `;2`
half enters the app's Stasis entry as a trunk call does, while the `;1` half runs `cc-caller-hangup` (answers,
3 s of silence, hangs up); agents are `Local/<n>@cc-answer` (answer at once, stay). Callers are created in ulaw,
as a G.711 trunk delivers them (without a format Asterisk resamples the 8 kHz prompts for every call). The
dialplan is in asterisk/etc/extensions_bench.conf.

Over the same window (from the first call placed to the last call ended), the app's CPU is its child's
`process_time` and Asterisk's is read from /proc/PID/stat (user + system), so both are per completed call and
their ratio holds however busy the machine is otherwise. The load generator's own CPU (this process, placing
calls over HTTP) is counted in neither.

The same code drives the simulator when given its URL and pid (the simulator has the same contexts), which is
how it is tested without an Asterisk at hand.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
DID = "5551000"
CALLER_CONTEXT = "cc-caller-hangup"  # answers, 3 s of silence, hangs up
AGENT_CONTEXT = "cc-answer"  # answers and stays
INBOUND_CONTEXT = "cc-inbound"  # Stasis(callcenter,inbound,local,<did>)


@dataclass(frozen=True)
class RealSpec:
    ari_url: str
    ari_user: str
    ari_password: str
    rate: float
    seconds: float
    agents: int = 400
    greeting: str = "sound:beep"


@dataclass
class RealResult:
    rate: float
    calls: int
    ended: int
    outcomes: dict[str, int]
    window: float
    app_cpu_ms_per_call: float
    asterisk_cpu_ms_per_call: float
    ratio: float  # app / Asterisk
    redis_commands_per_call: float = 0.0
    redis_rt_per_call: float = 0.0

    def row(self) -> dict[str, Any]:
        return {
            "calls/s": self.rate,
            "calls": self.calls,
            "ended": self.ended,
            "completed": self.outcomes.get("completed", 0),
            "app CPU ms/call": self.app_cpu_ms_per_call,
            "Asterisk CPU ms/call": self.asterisk_cpu_ms_per_call,
            "app / Asterisk": self.ratio,
            "Redis cmd/call": self.redis_commands_per_call,
            "window s": self.window,
        }


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc/PID/stat (fields 14 and 15, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def agent_endpoint(i: int) -> str:
    return f"Local/{1000 + i}@{AGENT_CONTEXT}"


# ------------------------------------------------------------------------------------------------ parent side


def run_real(spec: RealSpec, asterisk_pid: int) -> RealResult:
    """One rate: start the app in a child, place ``rate * seconds`` calls, read both processes' CPU."""
    calls = max(1, round(spec.rate * spec.seconds))
    code = "import sys; sys.path.insert(0, sys.argv[1]); from bench.real import child_main; child_main(sys.argv[2])"
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(ROOT), json.dumps({**asdict(spec), "calls": calls})],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        line = child.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the application did not start against {spec.ari_url}: {line!r}")
        asterisk0 = process_cpu_seconds(asterisk_pid)
        child.stdin.write("go\n")
        child.stdin.flush()
        asyncio.run(_place_calls(spec, calls))
        line = child.stdout.readline()
        asterisk = process_cpu_seconds(asterisk_pid) - asterisk0
        if not line.startswith("{"):
            raise RuntimeError(f"the application's run failed: {line!r}")
        data = json.loads(line)
    finally:
        if child.poll() is None:
            child.terminate()
        child.wait(30)
    ended = int(data["ended"])
    asterisk_ms = asterisk * 1e3 / max(1, ended)
    app_ms = float(data["cpu"]) * 1e3 / max(1, ended)
    return RealResult(
        rate=spec.rate,
        calls=calls,
        ended=ended,
        outcomes=data["outcomes"],
        window=float(data["window"]),
        app_cpu_ms_per_call=app_ms,
        asterisk_cpu_ms_per_call=asterisk_ms,
        ratio=app_ms / asterisk_ms if asterisk_ms else float("nan"),
        redis_commands_per_call=float(data["commands"]) / max(1, ended),
        redis_rt_per_call=float(data["round_trips"]) / max(1, ended),
    )


async def _place_calls(spec: RealSpec, calls: int) -> None:
    """Originate the callers at the rate, each as a Local pair into the app's Stasis entry."""
    auth = aiohttp.BasicAuth(spec.ari_user, spec.ari_password)
    url = spec.ari_url.rstrip("/") + "/ari/channels"
    started = time.perf_counter()
    async with aiohttp.ClientSession(auth=auth) as session:

        async def one(n: int) -> None:
            query = {
                "endpoint": f"Local/{DID}@{INBOUND_CONTEXT}",
                "context": CALLER_CONTEXT,
                "extension": "1",
                "priority": "1",
                "callerId": f"+1555{n:07d}",
                "formats": "ulaw",
            }
            async with session.post(url, params=query) as reply:
                if reply.status >= 300:
                    raise RuntimeError(f"originate refused: {reply.status} {await reply.text()}")

        pending = []
        for n in range(calls):
            delay = started + n / spec.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(asyncio.ensure_future(one(n)))
        await asyncio.gather(*pending)


# ------------------------------------------------------------------------------------------------ child side


def child_main(spec_json: str) -> None:
    import anyio

    data = json.loads(spec_json)
    calls = int(data.pop("calls"))
    spec = RealSpec(**data)
    from bench.harness import heap_as_run_sets_it

    heap_as_run_sets_it("start")
    result = anyio.run(lambda: _serve(spec, calls), backend_options={"use_uvloop": True})
    print(json.dumps(result), flush=True)


async def _serve(spec: RealSpec, calls: int) -> dict[str, Any]:
    import anyio

    from bench.counting import counting_redis
    from bench.harness import (
        bench_config,
        build_app,
        delete_prefix,
        heap_as_run_sets_it,
        new_prefix,
        outcomes_of,
        quiet_logs,
        stored_calls,
        when_all_ended,
    )

    quiet_logs()
    prefix = new_prefix()
    config = bench_config(
        spec.ari_url,
        prefix=prefix,
        agents=spec.agents,
        greeting=spec.greeting,
        username=spec.ari_user,
        password=spec.ari_password,
        endpoint=agent_endpoint,
    )
    app = build_app(config)
    ended = when_all_ended(app, calls)
    try:
        with counting_redis() as traffic:
            async with anyio.create_task_group() as tg:
                await tg.start(app.run)
                heap_as_run_sets_it("serving")
                await app.store.flush()
                print("ready", flush=True)
                await anyio.to_thread.run_sync(sys.stdin.readline)
                traffic.reset()
                cpu0, wall0 = time.process_time(), time.perf_counter()
                with anyio.move_on_after(calls / spec.rate + 120):
                    await ended.wait()
                await app.store.flush()
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                commands, trips = traffic.snapshot()
                app.stop()
        records = await stored_calls(app.store.redis, f"{app.store.keys.base}:call:*")
    finally:
        await delete_prefix(app.store.redis, f"{prefix}:*")
        await app.store.redis.aclose()
    outcomes = outcomes_of(records)
    return {
        "ended": sum(n for key, n in outcomes.items() if not key.startswith("live:")),
        "outcomes": outcomes,
        "cpu": cpu,
        "window": wall,
        "commands": sum(commands.values()),
        "round_trips": trips,
    }
