"""`callcenter-ari sim`: run the ARI simulator as its own process (the load generator for benchmarks)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sim", help="run the Asterisk ARI simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    parser.add_argument("--clock", choices=("real", "manual"), default="real")
    parser.add_argument("--app", default="callcenter")
    # The same ARI user as the example configuration's [ari], and the password `run` reads, so that `run` with
    # the example file and the same environment connects to the simulator as it would to Asterisk.
    parser.add_argument("--username", default="callcenter", help="ARI user (default: callcenter, as ari.conf)")
    parser.add_argument(
        "--password", default=None, help="default: $SIM_ARI_PASSWORD, else $ARI_PASSWORD, else 'asterisk'"
    )
    parser.add_argument(
        "--replies-unfiltered",
        action="store_true",
        help="send REST over WebSocket replies whatever the application's event filter (Asterisk 22 filters them)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from callcenter_ari.sim import SimConfig, Simulator

    password = args.password or os.environ.get("SIM_ARI_PASSWORD") or os.environ.get("ARI_PASSWORD") or "asterisk"
    config = SimConfig(
        app=args.app,
        username=args.username,
        password=password,
        seed=args.seed,
        clock=args.clock,
        speed=args.speed,
        filter_replies=not args.replies_unfiltered,
    )
    asyncio.run(_serve(Simulator(config), args.host, args.port))
    return 0


async def _serve(sim: Any, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with sim.serve(host, port) as server:
        app, user = sim.config.app, sim.config.username
        print(f"ARI simulator listening on {server.base_url}/ari (app {app}, user {user})", flush=True)
        await stop.wait()
