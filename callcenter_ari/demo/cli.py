"""`callcenter-ari demo`: the call center against the built-in simulator, with simulated callers and agents.

Everything runs in this process except Redis, which is the configured one (``--redis-url`` or ``REDIS_URL``) or
a private redis-server started for the demo. The application is the production one, connected to the simulator
over real HTTP and WebSocket.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import sys
import time
from collections.abc import Iterator
from importlib import resources

import anyio
import msgspec
from redis.asyncio import Redis
from rich.console import Console
from rich.live import Live

from callcenter_ari import config as configuration
from callcenter_ari import logs
from callcenter_ari.config import Config
from callcenter_ari.demo.redis_server import private_redis
from callcenter_ari.demo.view import Tally, render, summary
from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import CallerScript, PhoneBehaviour, SimConfig, Simulator


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser("demo", help="run the whole call center against the built-in Asterisk simulator")
    demo.add_argument("--calls", type=int, default=0, help="stop after this many calls (0: until Ctrl-C)")
    demo.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0: no limit)")
    demo.add_argument("--rate", type=float, default=6.0, help="new calls per simulated minute (default 6)")
    demo.add_argument("--speed", type=float, default=5.0, help="simulated seconds per real second (default 5)")
    demo.add_argument("--seed", type=int, default=1, help="random seed for callers and agents")
    demo.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", ""), help="use this Redis (default: a private one)"
    )
    demo.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    if args.speed <= 0 or args.rate <= 0 or args.calls < 0 or args.duration < 0:
        print("demo: --speed and --rate must be positive; --calls and --duration not negative", file=sys.stderr)
        return 2
    console = Console()
    with _redis(args.redis_url) as redis_url:
        try:
            anyio.run(_demo, args, redis_url, console)
        except KeyboardInterrupt:
            pass
    return 0


@contextlib.contextmanager
def _redis(url: str) -> Iterator[str]:
    if url:
        yield url
        return
    with private_redis() as private:
        yield private


def demo_config(ari_url: str, redis_url: str) -> Config:
    text = resources.files("callcenter_ari.demo").joinpath("demo.toml").read_text(encoding="utf-8")
    loaded = configuration.loads(text, environ=os.environ)
    return msgspec.structs.replace(
        loaded,
        ari=msgspec.structs.replace(loaded.ari, url=ari_url),
        redis=msgspec.structs.replace(loaded.redis, url=redis_url, prefix=f"ccdemo{os.getpid()}"),
    )


# The demo's prompts and how long each plays, in simulated seconds.
DEMO_SOUNDS = {"demo/welcome": 3.0, "demo/main-menu": 5.0, "demo/invalid": 1.5, "demo/enter-account": 3.0}


def caller_mix(rng: random.Random) -> tuple[tuple[CallerScript, float], ...]:
    """Callers choose in the menu (some barge in, one in ten types nothing and lands in the fallback); most wait
    patiently, some give up after a while (abandons), a few hang up during the welcome."""
    menu = 4.0  # seconds after answer: the welcome is over and the main menu is playing

    def caller(keys: tuple[tuple[float, str], ...], patience: float | None = None) -> CallerScript:
        # Callers hang up when they are done, unless the agent ends the call first (a persistent agent never does).
        return CallerScript(dtmf=keys, patience=patience, talk=rng.uniform(40, 120))

    return (
        (caller(((menu, "1"),)), 4.0),  # report an outage
        (caller(((menu, "2"), (menu + 4, "123456#"))), 2.0),  # billing, with an account number
        (caller(((menu, "3"),)), 1.0),  # new connection
        (caller(((menu + 2, "9"),)), 1.0),  # Spanish seat
        (caller(()), 1.0),  # no key: the menu's fallback
        (caller(((menu, "1"),), patience=rng.uniform(30, 90)), 2.0),  # gives up if the wait is long
        (CallerScript(max_duration=1.5), 0.5),  # hangs up during the welcome
    )


async def _demo(args: argparse.Namespace, redis_url: str, console: Console) -> None:
    rng = random.Random(args.seed)
    logs.configure("warning", "console")
    password = os.environ.get("DEMO_ARI_PASSWORD", "demo-secret")
    sim = Simulator(
        SimConfig(username="callcenter", password=password, seed=args.seed, speed=args.speed, sounds=DEMO_SOUNDS)
    )
    async with sim.serve() as server:
        config = demo_config(server.base_url, redis_url)
        for agent in config.agents.values():
            # A persistent agent's phone stays up in their bridge between callers: it never hangs up on its own.
            talk = None if agent.persistent else rng.uniform(20, 100)
            sim.add_phone(agent.endpoint, PhoneBehaviour(answer_after=rng.uniform(1, 4), talk=talk))
        redis = Redis.from_url(redis_url)
        app = Application(config, redis=redis, clock=sim.clock)  # one clock, at the demo's speed, for both
        tally = Tally()
        app.services.observers.append(tally)
        try:
            async with anyio.create_task_group() as tg:
                await tg.start(app.run)
                callers = anyio.CancelScope()
                tg.start_soon(_call_in, sim, rng, args, callers)
                await _watch(app, tally, args, console)
                callers.cancel()
                app.stop()
            stored_calls = len(await redis.keys(f"{config.redis.prefix}:*:call:*"))
            stored_events = await redis.xlen(app.store.keys.events)
            console.print(summary(tally, stored_calls, stored_events))
            if args.redis_url:
                console.print(f"  the demo's keys stay in {args.redis_url} under {config.redis.prefix}:")
        finally:
            await redis.aclose()


async def _call_in(sim: Simulator, rng: random.Random, args: argparse.Namespace, scope: anyio.CancelScope) -> None:
    """Callers arrive as a Poisson process at ``--rate`` per simulated minute, until ``--calls`` or cancelled."""
    mix = caller_mix(rng)
    scripts, weights = [script for script, _ in mix], [weight for _, weight in mix]
    dids = ("5551000", "5551000", "5551001", "5551002")
    placed = 0
    with scope:
        while not args.calls or placed < args.calls:
            await anyio.sleep(rng.expovariate(args.rate / 60.0) / args.speed)
            caller = f"+1555{rng.randrange(10**7):07d}"
            sim.place_call(
                rng.choice(dids), caller, f"Caller {caller[-4:]}", "provider1", rng.choices(scripts, weights)[0]
            )
            placed += 1


async def _watch(app: Application, tally: Tally, args: argparse.Namespace, console: Console) -> None:
    """Show the live view until Ctrl-C, the duration, or the last of ``--calls`` calls has ended."""
    started = time.monotonic()
    interactive = console.is_terminal
    last_line = 0.0
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        stop = anyio.Event()

        async def on_signal() -> None:
            async for _ in signals:
                stop.set()
                return

        async with anyio.create_task_group() as tg:
            tg.start_soon(on_signal)
            view = Live(console=console, auto_refresh=False) if interactive else contextlib.nullcontext()
            with view as live:
                while not stop.is_set():
                    elapsed = time.monotonic() - started
                    if live is not None:
                        live.update(render(app, tally, elapsed, args.speed), refresh=True)
                    elif elapsed - last_line >= 5.0:
                        last_line = elapsed
                        console.print(render(app, tally, elapsed, args.speed))
                    if args.duration and elapsed >= args.duration:
                        break
                    if args.calls and tally.offered >= args.calls and tally.ended >= args.calls:
                        break
                    with anyio.move_on_after(0.25):
                        await stop.wait()
            tg.cancel_scope.cancel()
