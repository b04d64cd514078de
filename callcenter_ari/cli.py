"""The `callcenter-ari` command: run, demo, sim, check-config and the hardware helpers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import anyio

from callcenter_ari import config as configuration
from callcenter_ari.config import Config, ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callcenter-ari", description="Call center for Asterisk over ARI.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="connect to Asterisk and serve calls")
    run.add_argument("--config", required=True, help="TOML configuration file")
    run.set_defaults(func=_run)

    check = sub.add_parser("check-config", help="validate a configuration file without starting anything")
    check.add_argument("file")
    check.set_defaults(func=_check_config)

    from callcenter_ari.dahdi import cli as dahdi_cli
    from callcenter_ari.demo import cli as demo_cli
    from callcenter_ari.sim import cli as sim_cli

    demo_cli.register(sub)
    sim_cli.register(sub)
    dahdi_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


def load_config_or_exit(path: str) -> Config:
    try:
        return configuration.load(path)
    except ConfigError as exc:
        print(f"{path}: invalid configuration:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _check_config(args: argparse.Namespace) -> int:
    loaded = load_config_or_exit(args.file)
    print(
        f"{args.file}: OK ({len(loaded.queues)} queues, {len(loaded.agents)} agents, "
        f"{len(loaded.dids)} DID routes, {len(loaded.trunks)} trunks)"
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    from redis.asyncio import Redis

    from callcenter_ari import logs
    from callcenter_ari.runtime.app import Application

    loaded = load_config_or_exit(args.config)
    if not loaded.redis.url:
        print(f"{args.config}: redis.url is required for `run` (only `demo` starts its own Redis)", file=sys.stderr)
        return 2
    logs.configure(loaded.log.level, loaded.log.format)

    async def serve() -> None:
        redis = Redis.from_url(loaded.redis.url)
        app = Application(loaded, redis=redis)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(app.handle_signals)
                await app.run()
                tg.cancel_scope.cancel()
        finally:
            await redis.aclose()

    try:
        anyio.run(serve)
    except OSError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
