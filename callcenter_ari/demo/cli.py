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
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from importlib import resources
from pathlib import Path

import anyio
import msgspec
from rich.console import Console
from rich.live import Live

from callcenter_ari import config as configuration
from callcenter_ari import logs, wiring
from callcenter_ari.campaigns.model import CampaignSpec
from callcenter_ari.campaigns.reader import ReadOptions
from callcenter_ari.config import Config
from callcenter_ari.demo.redis_server import private_redis
from callcenter_ari.demo.view import Tally, render, summary
from callcenter_ari.ivr import SurgeAnnouncement
from callcenter_ari.pages import WALLBOARD_PATH
from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import CallerScript, PhoneBehaviour, SimConfig, Simulator
from callcenter_ari.store.connection import client_for_url

RATE = 2.5  # calls per simulated minute: about half of the six agents' capacity, a healthy service level
SURGE_FACTOR = 3.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser("demo", help="run the whole call center against the built-in Asterisk simulator")
    demo.add_argument("--calls", type=int, default=0, help="stop after this many calls (0: until Ctrl-C)")
    demo.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0: no limit)")
    demo.add_argument(
        "--rate",
        type=float,
        default=RATE,
        help=f"new calls per simulated minute (default {RATE:g}: the six agents keep up)",
    )
    demo.add_argument(
        "--surge",
        type=float,
        nargs="?",
        const=0.0,
        default=None,
        metavar="AFTER",
        help="a storm: after AFTER seconds (default at once) calls come three times as fast and callers hear the "
        "surge announcement",
    )
    demo.add_argument("--speed", type=float, default=5.0, help="simulated seconds per real second (default 5)")
    demo.add_argument("--seed", type=int, default=1, help="random seed for callers and agents")
    demo.add_argument(
        "--http-port", type=int, default=0, help="the API's and the pages' port on 127.0.0.1 (default: a free one)"
    )
    demo.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", ""), help="use this Redis (default: a private one)"
    )
    demo.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    if args.speed <= 0 or args.rate <= 0 or args.calls < 0 or args.duration < 0 or (args.surge or 0) < 0:
        print("demo: --speed and --rate must be positive; --calls, --duration, --surge not negative", file=sys.stderr)
        return 2
    if not 0 <= args.http_port <= 65535:
        print("demo: --http-port must be between 0 and 65535", file=sys.stderr)
        return 2
    console = Console()
    # The application's log goes to a file: warnings (an overdue work order) would tear the live view apart.
    log_file = Path(tempfile.gettempdir()) / f"callcenter-demo-{os.getpid()}.log"
    with log_file.open("a", encoding="utf-8") as log_stream, _redis(args.redis_url) as redis_url:
        logs.configure("info", "json", stream=log_stream)
        try:
            anyio.run(_demo, args, redis_url, console, str(log_file))
        except KeyboardInterrupt:
            console.print("demo: interrupted before its summary")
    return 0


@contextlib.contextmanager
def _redis(url: str) -> Iterator[str]:
    if url:
        yield url
        return
    with private_redis() as private:
        yield private


def demo_config(ari_url: str, redis_url: str, http_port: int = 0) -> Config:
    text = resources.files("callcenter_ari.demo").joinpath("demo.toml").read_text(encoding="utf-8")
    loaded = configuration.loads(text, environ=os.environ)
    return msgspec.structs.replace(
        loaded,
        ari=msgspec.structs.replace(loaded.ari, url=ari_url),
        redis=msgspec.structs.replace(loaded.redis, url=redis_url, prefix=f"ccdemo{os.getpid()}"),
        http=msgspec.structs.replace(loaded.http, port=http_port),
    )


def pages_banner(port: int | None) -> str:
    """Where the wallboard is, and how to sign in (the demo's own tokens, unless the environment set others)."""
    if port is None:
        return "  the pages are off ([http] enabled = false)"
    supervisor = "$DEMO_SUPERVISOR_TOKEN" if "DEMO_SUPERVISOR_TOKEN" in os.environ else "demo-supervisor-token"
    agent = "$DEMO_AGENT_TOKEN" if "DEMO_AGENT_TOKEN" in os.environ else "demo-agent-ann-token"
    return (
        f"  wallboard: http://127.0.0.1:{port}{WALLBOARD_PATH}  (sign in with {supervisor};"
        f" the agent desktop of Ann Lee with {agent})"
    )


# The demo's prompts and how long each plays, in simulated seconds.
DEMO_SOUNDS = {
    "demo/welcome": 3.0,
    "demo/main-menu": 5.0,
    "demo/invalid": 1.5,
    "demo/enter-account": 3.0,
    "demo/you-entered": 1.0,
    "demo/surge": 4.0,
}
CALLBACK_KEYS_AT = 75.0  # seconds after answer: a caller who takes the callback offer presses 1, then 1 again


def caller_mix(rng: random.Random) -> tuple[tuple[CallerScript, float], ...]:
    """Callers choose in the menu (some barge in, one in ten types nothing and lands in the fallback); most wait
    patiently, some give up after a while (abandons), a few hang up during the welcome."""
    menu = 4.0  # seconds after answer: the welcome is over and the main menu is playing

    def caller(keys: tuple[tuple[float, str], ...], patience: float | None = None) -> CallerScript:
        # Callers hang up when they are done, unless the agent ends the call first (a persistent agent never does).
        return CallerScript(dtmf=keys, patience=patience, talk=rng.uniform(30, 90))

    return (
        (caller(((menu, "1"),)), 4.0),  # report an outage
        (caller(((menu, "2"), (menu + 4, "123456#"))), 2.0),  # billing, with an account number
        (caller(((menu, "3"),)), 1.0),  # new connection
        (caller(((menu + 2, "9"),)), 1.0),  # Spanish seat
        (caller(()), 1.0),  # no key: the menu's fallback
        (caller(((menu, "1"),), patience=rng.uniform(30, 90)), 2.0),  # gives up if the wait is long
        # Lands in support (no key) and takes the callback offer, keeping the number they call from.
        (caller(((CALLBACK_KEYS_AT, "1"), (CALLBACK_KEYS_AT + 6, "1"))), 1.5),
        (CallerScript(max_duration=1.5), 0.5),  # hangs up during the welcome
    )


async def _demo(args: argparse.Namespace, redis_url: str, console: Console, log_file: str) -> None:
    rng = random.Random(args.seed)
    password = os.environ.get("DEMO_ARI_PASSWORD", "demo-secret")
    sim = Simulator(
        SimConfig(username="callcenter", password=password, seed=args.seed, speed=args.speed, sounds=DEMO_SOUNDS)
    )
    async with sim.serve() as server:
        config = demo_config(server.base_url, redis_url, args.http_port)
        for agent in config.agents.values():
            # A persistent agent's phone stays up in their bridge between callers: it never hangs up on its own.
            talk = None if agent.persistent else rng.uniform(20, 80)
            sim.add_phone(agent.endpoint, PhoneBehaviour(answer_after=rng.uniform(1, 4), talk=talk))
        # Customers called back pick up after a few rings and talk a while.
        sim.add_phone(
            "PJSIP/*@outbound-carrier", PhoneBehaviour(answer_after=rng.uniform(3, 8), talk=rng.uniform(30, 90))
        )
        redis = client_for_url(redis_url)
        app = wiring.application(config, redis=redis, clock=sim.clock)  # one clock, at the demo's speed, for both
        tally = Tally()
        app.services.observers.append(tally)
        traffic = Traffic(args.rate)
        try:
            async with anyio.create_task_group() as tg:
                await tg.start(app.run)
                console.print(pages_banner(app.http_port))
                await _campaign(app, sim, rng)
                callers = anyio.CancelScope()
                tg.start_soon(_call_in, sim, rng, args, traffic, callers)
                if args.surge is not None:
                    tg.start_soon(_surge, app, traffic, args.surge, callers)
                await _watch(app, tally, traffic, args, console)
                callers.cancel()
                app.stop()
            stored_calls = len(await redis.keys(f"{config.redis.prefix}:*:call:*"))
            stored_events = await redis.xlen(app.store.keys.events)
            console.print(summary(tally, stored_calls, stored_events, log_file))
            if args.redis_url:
                console.print(f"  the demo's keys stay in {args.redis_url} under {config.redis.prefix}:")
        finally:
            await redis.aclose()


CAMPAIGN_LEADS = 200


async def _campaign(app: Application, sim: Simulator, rng: random.Random) -> None:
    """The outbound campaign beside the hotline: predictive, answering-machine detection on, a lead list of
    customers of whom about a third answer in person (docs/DIALER.md)."""
    rows = ["name,phone"]
    for n in range(CAMPAIGN_LEADS):
        number = f"+1202555{n:04d}"
        rows.append(f"Customer {n},{number}")
        draw = rng.random()
        kind = "answer" if draw < 0.35 else "machine" if draw < 0.45 else "busy" if draw < 0.55 else "noanswer"
        talk = rng.uniform(30, 120) if kind == "answer" else None
        behaviour = PhoneBehaviour(answer_after=rng.uniform(3, 12), talk=talk, kind=kind)  # type: ignore[arg-type]
        sim.add_phone(f"PJSIP/{number}@provider1", behaviour)
    spec = CampaignSpec(
        name="Contract renewals",
        queue="renewals",
        trunk="provider1",
        dial_mode="predictive",
        amd=True,
        time_zone="UTC",
        calling_hours=["00:00-23:59"],
        calling_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    )
    await app.campaigns.create("renewals", spec, by="demo")

    async def source() -> AsyncIterator[bytes]:
        yield ("\n".join(rows) + "\n").encode()

    await app.campaigns.import_leads("renewals", source(), ReadOptions(), dry_run=False, by="demo")
    await app.campaigns.act("renewals", "start", by="demo")


class Traffic:
    """How fast callers arrive now (per simulated minute), and whether a surge is on."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.surge = False


async def _surge(app: Application, traffic: Traffic, after: float, scope: anyio.CancelScope) -> None:
    """A storm: calls come faster, and a supervisor switches the surge announcement on (the IVR's surge node)."""
    with scope:
        await anyio.sleep(after)
        await app.surge.switch_on(SurgeAnnouncement(prompt=("sound:demo/surge",)))
        traffic.rate, traffic.surge = traffic.rate * SURGE_FACTOR, True


async def _call_in(
    sim: Simulator, rng: random.Random, args: argparse.Namespace, traffic: Traffic, scope: anyio.CancelScope
) -> None:
    """Callers arrive as a Poisson process at ``traffic.rate`` per simulated minute, until ``--calls`` or
    cancelled."""
    mix = caller_mix(rng)
    scripts, weights = [script for script, _ in mix], [weight for _, weight in mix]
    dids = ("5551000", "5551000", "5551001", "5551002")
    placed = 0
    with scope:
        while not args.calls or placed < args.calls:
            await anyio.sleep(rng.expovariate(traffic.rate / 60.0) / args.speed)
            caller = f"+1202555{rng.randrange(10**4):04d}"  # a number a callback may go to
            sim.place_call(
                rng.choice(dids), caller, f"Caller {caller[-4:]}", "provider1", rng.choices(scripts, weights)[0]
            )
            placed += 1


async def _watch(app: Application, tally: Tally, traffic: Traffic, args: argparse.Namespace, console: Console) -> None:
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
                        live.update(render(app, tally, elapsed, args.speed, surge=traffic.surge), refresh=True)
                    elif elapsed - last_line >= 5.0:
                        last_line = elapsed
                        console.print(render(app, tally, elapsed, args.speed, surge=traffic.surge))
                    if args.duration and elapsed >= args.duration:
                        break
                    if args.calls and tally.started >= args.calls and tally.ended >= args.calls:
                        break
                    with anyio.move_on_after(0.25):
                        await stop.wait()
            tg.cancel_scope.cancel()
