"""`python -m bench [surge|scale|memory|routing|ari|import ...] [--quick] [--profile] [--json PATH]`: run the
benchmarks, print one table per benchmark and a verdict per target of issue 7 (and the import's of issue 16)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import anyio
import psutil
from rich.console import Console

from bench import report
from bench.ari_path import run_ari_path
from bench.lead_import import run_import
from bench.memory import run_memory
from bench.routing import log_growth, run_routing
from bench.scale import ScaleSpec, run_scale
from bench.surge import SurgeSpec, run_surge

BENCHMARKS = ("routing", "ari", "memory", "surge", "scale", "import")
ASTERISK_CPU_MS_PER_CALL = (1.1, 1.8)


# The measured process runs on the same event loop as `callcenter-ari run` (uvloop) unless --loop says otherwise.
LOOP: dict[str, Any] = {"use_uvloop": True}


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu model": model,
        "RAM GB": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }


def surge(quick: bool, profile: bool, console: Console, out: dict[str, Any]) -> list[str]:
    specs = (
        [SurgeSpec("burst 1,000 in 1 s", 1000, 1000.0), SurgeSpec("sustained 500/s x 4 s", 2000, 500.0)]
        if quick
        else [SurgeSpec("burst 2,000 in 2 s", 2000, 1000.0), SurgeSpec("sustained 500/s x 20 s", 10_000, 500.0)]
    )
    results = [anyio.run(run_surge, spec, backend_options=LOOP) for spec in specs]
    if profile:
        # A separate pass: py-spy takes CPU of its own on this small machine, so it never runs in a measured pass.
        profiled = anyio.run(lambda: run_surge(specs[-1], profile=True), backend_options=LOOP)
        if profiled.profile is not None:
            out["profile"] = {
                "run": specs[-1].name,
                "samples": profiled.profile.samples,
                "by_package": profiled.profile.by_package,
                "own_inclusive": profiled.profile.own_inclusive,
                "own_self": profiled.profile.own_self,
            }
            title = f"Profile of a separate {specs[-1].name} pass (py-spy)"
            report.shares(console, f"{title}: self time by package", profiled.profile.by_package)
            report.shares(console, f"{title}: our functions, inclusive", profiled.profile.own_inclusive)
            report.shares(console, f"{title}: our functions, self", profiled.profile.own_self)
    rows = [r.row() for r in results]
    for row, result in zip(rows, results, strict=True):
        low, high = ASTERISK_CPU_MS_PER_CALL
        row["x Asterisk CPU/call"] = f"{result.cpu_ms_per_call / high:.1f}-{result.cpu_ms_per_call / low:.1f}"
    report.table(console, "Surge: full inbound path against the simulator (separate process)", rows)
    out["surge"] = [
        {**row, "outcomes": r.outcomes, "timed_out": r.timed_out} for row, r in zip(rows, results, strict=True)
    ]
    burst, sustained = results
    verdicts = [
        _verdict(
            "sustained >= 500 new calls/s",
            sustained.achieved_rate >= 495 and sustained.lost == 0 and sustained.app_cpu_util < 0.95,
            f"{sustained.achieved_rate:.0f}/s at {sustained.app_cpu_util:.0%} of a core, p99 {sustained.p99_ms:.1f} ms",
        ),
        _verdict(
            "burst p99 event->request <= 50 ms",
            burst.p99_ms <= 50,
            f"p99 {burst.p99_ms:.1f} ms in the app ({burst.wire_p99_ms:.0f} ms from Asterisk's timestamp)",
        ),
        _verdict("no call lost", burst.lost == 0 and sustained.lost == 0, f"lost {burst.lost} + {sustained.lost}"),
        _verdict(
            "<= 0.2 ms CPU per ARI request",
            sustained.cpu_ms_per_request <= 0.2,
            f"{sustained.cpu_ms_per_request:.3f} ms (all app CPU / requests)",
        ),
        _verdict(
            "CPU/call <= Asterisk's 1.1-1.8 ms",
            sustained.cpu_ms_per_call <= ASTERISK_CPU_MS_PER_CALL[1],
            f"{sustained.cpu_ms_per_call:.2f} ms/call",
        ),
    ]
    return verdicts


def scale(quick: bool, console: Console, out: dict[str, Any]) -> list[str]:
    """The surge with one, then two processes (each with its own simulator): the scaling factor, measured."""
    spec = ScaleSpec(calls=600, rate=300.0) if quick else ScaleSpec()
    results = [anyio.run(run_scale, processes, spec, backend_options=LOOP) for processes in (1, 2)]
    rows = [result.row() for result in results]
    one, two = results
    factor = two.completed_per_second / one.completed_per_second if one.completed_per_second else float("nan")
    for row in rows:
        row["scaling"] = round(row["completed calls/s"] / one.completed_per_second, 2)
    report.table(console, f"Scale: {spec.calls} calls offered at {spec.rate:g}/s, one vs two processes", rows)
    out["scale"] = {"spec": {"calls": spec.calls, "rate": spec.rate, "agents": spec.agents}, "runs": rows}
    out["scale"]["outcomes"] = [result.outcomes for result in results]
    # Offered above what one process completes, the overload guard refuses the excess (congestion): not a loss.
    return [f"INFO    scaling factor (two processes / one, completed calls/s): {factor:.2f}"]


def memory(quick: bool, console: Console, out: dict[str, Any]) -> list[str]:
    result = run_memory(1000 if quick else 10_000)
    report.table(console, "Memory: calls waiting in queue at once", [result.row()])
    report.table(
        console,
        "Memory: heap growth by allocating file",
        [{"file": site, "bytes/call": size} for site, size in result.top_sites],
    )
    out["memory"] = {**result.row(), "top_sites": result.top_sites}
    worst = max(result.traced_bytes_per_call, result.rss_bytes_per_call)
    return [_verdict("< 20 KB per live call", worst < 20 * 1024, f"{worst / 1024:.1f} KB ({result.calls} calls)")]


def routing(quick: bool, console: Console, out: dict[str, Any]) -> list[str]:
    results = run_routing(quick)
    report.table(console, "Routing: ACD board decision time (pure, no I/O)", [r.row() for r in results])
    out["routing"] = [r.row() for r in results]
    target = [r for r in results if r.agents == 1000 and r.waiting == 5000]
    worst = max((max(r.enqueue_us, r.ready_us) for r in target), default=float("nan"))
    verdicts = [_verdict("routing decision < 0.1 ms (1,000 agents, 5,000 waiting)", worst < 100, f"{worst:.1f} µs")]
    growth = log_growth(results)
    if growth is not None:
        ratio, log_ratio = growth
        verdicts.append(
            _verdict(
                "grows no faster than log(waiting)",
                ratio <= log_ratio,
                f"time x{ratio:.2f} vs log x{log_ratio:.2f} (waiting 100 -> 50,000)",
            )
        )
    return verdicts


def ari(quick: bool, console: Console, out: dict[str, Any]) -> list[str]:
    events, rest = anyio.run(run_ari_path, quick, backend_options=LOOP)
    report.table(console, "ARI events: recorded Asterisk 22 stream", [r.row(events[0].cpu_us) for r in events])
    report.table(console, "ARI REST requests against the simulator", [r.row(rest[0].cpu_us) for r in rest])
    out["ari"] = {"events": [r.row(events[0].cpu_us) for r in events], "rest": [r.row(rest[0].cpu_us) for r in rest]}
    ws = min(r.cpu_us for r in rest if r.name.startswith("REST over WebSocket"))
    return [_verdict("transport CPU per request <= 0.2 ms", ws <= 200, f"{ws:.0f} µs (REST over WebSocket)")]


def lead_import(quick: bool, console: Console, out: dict[str, Any]) -> list[str]:
    results = run_import(quick)
    rows = [r.row() for r in results]
    report.table(console, "Lead-list import: CSV file to Redis (the API's and the command line's import)", rows)
    out["import"] = rows
    worst = max(r.traced_peak_mb for r in results)
    growth = max(r.rss_growth_mb for r in results)
    return [
        _verdict(
            "import memory bounded (tracemalloc peak < 32 MB, RSS growth < 64 MB)",
            worst < 32 and growth < 64,
            f"peak {worst:.1f} MB traced, RSS +{growth:.0f} MB over {results[0].rows:,} rows",
        )
    ]


def _verdict(target: str, met: bool, detail: str) -> str:
    return f"{'MET ' if met else 'NOT MET'}  {target}: {detail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("benchmarks", nargs="*", choices=[*BENCHMARKS, []], help="default: all")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under a minute in all")
    parser.add_argument("--profile", action="store_true", help="add a py-spy profiled pass of the sustained surge")
    parser.add_argument(
        "--loop", choices=("uvloop", "asyncio"), default="uvloop", help="event loop of the measured process (as `run`)"
    )
    parser.add_argument("--json", type=Path, default=Path(__file__).with_name("results") / "latest.json")
    args = parser.parse_args(argv)
    LOOP["use_uvloop"] = args.loop == "uvloop"
    console = Console(width=200)
    chosen = args.benchmarks or list(BENCHMARKS)
    out: dict[str, Any] = {"machine": machine(), "quick": args.quick, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    report.table(console, "Machine", [out["machine"]])
    verdicts: list[str] = []
    started = time.perf_counter()
    steps = {
        "routing": lambda: routing(args.quick, console, out),
        "ari": lambda: ari(args.quick, console, out),
        "memory": lambda: memory(args.quick, console, out),
        "surge": lambda: surge(args.quick, args.profile, console, out),
        "scale": lambda: scale(args.quick, console, out),
        "import": lambda: lead_import(args.quick, console, out),
    }
    for name in BENCHMARKS:
        if name in chosen:
            try:
                verdicts += steps[name]()
            except Exception as exc:  # one failed benchmark is a finding; the others still run and report
                traceback.print_exception(exc)
                verdicts.append(f"FAILED  {name}: {type(exc).__name__}: {str(exc)[:300]}")
                out[f"{name} error"] = repr(exc)[:2000]
    out["verdicts"] = verdicts
    out["seconds"] = round(time.perf_counter() - started, 1)
    console.print("\n[bold]Targets (issue 7)[/bold]")
    for line in verdicts:
        console.print(("[green]" if line.startswith("MET") else "[red]") + line, markup=True, highlight=False)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2, default=str))
    console.print(f"\n{out['seconds']} s; results in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
