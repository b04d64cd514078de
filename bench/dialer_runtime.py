"""The dialer at run time, not the lab: the production application dials a campaign through the simulator (its real
originates, answering-machine detection in the dialplan, persistent agents' bridges) on one manual clock, joined by
the in-process transport, with the real Redis. Per dial mode, the same seed: talk minutes per agent-hour, calls
placed and connected, abandons, the most lines up at once, and the CPU the process spent.

`python -m bench.dialer_runtime [--agents 10] [--lines 30] [--minutes 60] [--seed 1] [--modes ...]`

The world is the lab's defaults, drawn per lead: 35 % of dials answered after 9±4 s (uniform 5-13), 20 % of
answers machines, 10 % of the rest busy, the others ring out (25 s); talk 60-180 s; wrap-up 15 s.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from redis.asyncio import Redis

from bench.harness import REDIS_URL, delete_prefix, new_prefix, quiet_logs
from callcenter_ari import config as configuration
from callcenter_ari.campaigns.model import CampaignSpec, RetryRule, RetryRules
from callcenter_ari.campaigns.reader import ReadOptions
from callcenter_ari.clock import ManualClock
from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import PhoneBehaviour, SimConfig, Simulator

USER, PASSWORD = "callcenter", "bench-secret"
ONCE = RetryRule(after_seconds=86_400, max_retries=0)


def world(rng: random.Random, sim: Simulator, leads: int) -> list[str]:
    numbers = []
    for n in range(leads):
        number = f"+1202{555 - n // 10_000}{n % 10_000:04d}"
        numbers.append(number)
        draw = rng.random()
        if draw < 0.35:
            kind = "machine" if rng.random() < 0.20 else "answer"
        else:
            kind = "busy" if rng.random() < 0.10 else "noanswer"
        talk = rng.uniform(60.0, 180.0) if kind == "answer" else None
        sim.add_phone(
            f"PJSIP/{number}@provider1",
            PhoneBehaviour(answer_after=rng.uniform(5.0, 13.0), talk=talk, kind=kind),  # type: ignore[arg-type]
        )
    return numbers


def app_config(agents: int, lines: int, prefix: str) -> Any:
    data: dict[str, Any] = {
        "app": {"tenant": "bench", "shutdown_grace_seconds": 1},
        "ari": {"url": "http://in-process.invalid", "username": USER, "password": PASSWORD},
        "redis": {"url": REDIS_URL, "prefix": prefix},
        "http": {"enabled": False},
        "trunks": {"provider1": {"kind": "pjsip", "endpoint": "provider1", "capacity": lines, "region": "US"}},
        "queues": {"out": {"wrapup_seconds": 15}},
        "agents": {f"p{i}": {"endpoint": f"PJSIP/p{i}", "queues": ["out"], "persistent": True} for i in range(agents)},
    }
    return configuration.from_mapping(data, environ={})


async def run_mode(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    sim = Simulator(SimConfig(app="callcenter", username=USER, password=PASSWORD, seed=args.seed, clock="manual"))
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    for i in range(args.agents):
        sim.add_phone(f"PJSIP/p{i}", PhoneBehaviour(answer_after=0.5))
    leads = int(args.minutes * args.agents * 4) + 100  # more than any mode dials in the time
    numbers = world(random.Random(args.seed), sim, leads)
    prefix = new_prefix()
    redis = Redis.from_url(REDIS_URL)

    async def barrier() -> None:
        await redis.ping()
        await redis.ping()

    clock.barriers.append(barrier)
    config = app_config(args.agents, args.lines, prefix)
    app = Application(config, redis=redis, clock=clock, ari_transport=sim.transport)
    events: list[tuple[str, dict[str, Any]]] = []
    app.services.observers.append(lambda kind, fields: events.append((kind, dict(fields))))
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(app.run)
            await sim.settle()
            await sim.advance(1.0)  # the agents' lines come up
            spec = CampaignSpec(
                name="bench", queue="out", trunk="provider1", dial_mode=mode, amd=True, time_zone="UTC",  # type: ignore[arg-type]
                calling_hours=["00:00-23:59"], calling_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                retry=RetryRules(busy=ONCE, no_answer=ONCE, machine=ONCE, failed=ONCE, abandoned=ONCE),
            )  # fmt: skip
            await app.campaigns.create("bench", spec, by="bench")

            async def source() -> AsyncIterator[bytes]:
                yield ("name,phone\n" + "".join(f"c{n},{number}\n" for n, number in enumerate(numbers))).encode()

            await app.campaigns.import_leads("bench", source(), ReadOptions(), dry_run=False, by="bench")
            await app.campaigns.act("bench", "start", by="bench")
            started, cpu = clock.now(), time.process_time()
            most = 0
            for _ in range(int(args.minutes * 60)):
                await sim.advance(1.0)
                most = max(most, sum(1 for c in sim.core.channels if c.startswith("dl-")))
            cpu = time.process_time() - cpu
            elapsed = clock.now() - started
            figures = await app.dialer.figures(await app.campaigns.campaigns.require("bench"))
            tg.cancel_scope.cancel()
    finally:
        await delete_prefix(redis, f"{prefix}:*")
        await redis.aclose()
    joined = {f["call_id"]: float(f["at"]) for k, f in events if k == "dialer.connected"}
    talk = sum(
        min(float(f["at"]), started + elapsed) - joined[f["call_id"]]
        for k, f in events
        if k == "dialer.call_ended" and f["call_id"] in joined
    )
    talk += sum(started + elapsed - at for call, at in joined.items() if not _ended(events, call))
    agent_hours = args.agents * elapsed / 3600
    placed = sum(1 for o in sim.originates() if o["endpoint"].endswith("@provider1"))
    return {
        "mode": mode,
        "talk min/agent-h": talk / 60 / agent_hours,
        "calls placed": placed,
        "connected": len(joined),
        "abandoned": figures.periods[0].abandoned,
        "abandon rate": figures.periods[0].rate,
        "most lines up": most,
        "CPU s": cpu,
    }


def _ended(events: list[tuple[str, dict[str, Any]]], call_id: str) -> bool:
    return any(k == "dialer.call_ended" and f["call_id"] == call_id for k, f in events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--lines", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--modes", default="progressive,predictive")
    args = parser.parse_args()
    quiet_logs()
    rows = [anyio.run(run_mode, mode, args) for mode in args.modes.split(",")]
    print(
        f"{args.agents} agents, {args.lines} lines, {args.minutes:g} simulated minutes, seed {args.seed}; "
        "35 % answered, 20 % of answers machines (AMD in the dialplan), talk 60-180 s, wrap-up 15 s"
    )
    base = rows[0]["talk min/agent-h"] or 1.0
    print("| mode | talk min/agent-h | vs first | calls placed | connected | abandoned | most lines up | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['mode']} | {r['talk min/agent-h']:.1f} | {r['talk min/agent-h'] / base:.2f}x | "
            f"{r['calls placed']} | {r['connected']} | {r['abandoned']:g} ({r['abandon rate']:.2%}) | "
            f"{r['most lines up']} | {r['CPU s']:.1f} |"
        )


if __name__ == "__main__":
    main()
