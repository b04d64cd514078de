"""The `callcenter-ari` command: run, demo, sim, check-config and the hardware helpers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio
import msgspec
import structlog

from callcenter_ari import config as configuration
from callcenter_ari.config import STANDBY_WITHOUT_WAIT, Config, ConfigError
from callcenter_ari.fencing import EXIT_STEPPED_DOWN, SteppedDown
from callcenter_ari.platform_config import TenantFile, load_platform

if TYPE_CHECKING:
    from callcenter_ari.runtime.platform import Platform


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callcenter-ari", description="Call center for Asterisk over ARI.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="connect to Asterisk and serve calls")
    run.add_argument(
        "--config",
        required=True,
        action="append",
        help="TOML configuration file of a tenant; repeat it to serve several tenants in one process (a platform)",
    )
    run.add_argument(
        "--standby",
        action="store_true",
        help="hot standby: act for the node only while holding its lease in Redis, as [standby] enabled = true "
        "(start the active and the standby both with it)",
    )
    run.add_argument(
        "--http-port", type=int, help="serve health, metrics and the API on this port instead of http.port"
    )
    run.set_defaults(func=_run)

    check = sub.add_parser(
        "check-config", help="validate configuration files (several: as tenants of one platform) without starting"
    )
    check.add_argument("file", nargs="+")
    check.set_defaults(func=_check_config)

    from callcenter_ari.dahdi import cli as dahdi_cli

    surge = sub.add_parser("surge", help="switch the surge announcement every new caller hears on or off")
    surge.add_argument("action", choices=("on", "off", "show"))
    surge.add_argument("--config", required=True, help="TOML configuration file (for Redis and the tenant)")
    surge.add_argument("--prompt", action="append", default=[], help="media to play, e.g. sound:outage (repeatable)")
    surge.add_argument("--area", action="append", default=[], help="only callers whose CRM area is this (repeatable)")
    surge.add_argument("--area-variable", default="area", help="the IVR variable that holds the caller's area")
    surge.add_argument("--offer-self-service", action="store_true")
    surge.add_argument("--offer-callback", action="store_true")
    surge.set_defaults(func=_surge)

    from callcenter_ari import campaign_cli
    from callcenter_ari.demo import cli as demo_cli
    from callcenter_ari.dialer import cli as dialer_cli
    from callcenter_ari.sim import cli as sim_cli

    demo_cli.register(sub)
    sim_cli.register(sub)
    dahdi_cli.register(sub)
    dialer_cli.register(sub)
    campaign_cli.register(sub)
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


def load_platform_or_exit(paths: Sequence[str]) -> list[TenantFile]:
    """One file: today's single-tenant process; several: the tenants of one platform, checked together."""
    if len(paths) == 1:
        return [TenantFile(paths[0], load_config_or_exit(paths[0]))]
    try:
        return load_platform(paths)
    except ConfigError as exc:
        print(f"invalid platform configuration:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _check_config(args: argparse.Namespace) -> int:
    for tenant in load_platform_or_exit(args.file):
        loaded = tenant.config
        print(
            f"{tenant.path}: OK (tenant {loaded.app.tenant}, Stasis application {loaded.app.app_name}: "
            f"{len(loaded.queues)} queues, {len(loaded.agents)} agents, "
            f"{len(loaded.dids)} DID routes, {len(loaded.trunks)} trunks)"
        )
    return 0


def _surge(args: argparse.Namespace) -> int:
    from callcenter_ari.ivr import SurgeAnnouncement
    from callcenter_ari.runtime.surge import InvalidSurge, SurgeService
    from callcenter_ari.store.connection import connected, tenant_keys
    from callcenter_ari.store.surge import SurgeStore

    loaded = load_config_or_exit(args.config)

    async def apply() -> SurgeAnnouncement:
        # The same service and checks as the API's PUT and DELETE /api/v1/ivr/surge.
        async with connected(loaded.redis) as redis:
            service = SurgeService(SurgeStore(redis, tenant_keys(loaded.redis, loaded.app.tenant)))
            if args.action == "on":
                return await service.switch_on(
                    SurgeAnnouncement(
                        prompt=tuple(args.prompt),
                        area_variable=args.area_variable,
                        areas=tuple(args.area),
                        offer_self_service=args.offer_self_service,
                        offer_callback=args.offer_callback,
                    )
                )
            if args.action == "off":
                return await service.switch_off()
            await service.refresh()
            return service.current()

    try:
        current = anyio.run(apply)
    except InvalidSurge as exc:
        print(f"surge {args.action}: refused: {exc}", file=sys.stderr)
        return 2
    state = "on" if current.active else "off"
    areas = f" for areas {', '.join(current.areas)}" if current.areas else ""
    print(f"surge announcement {state}{areas}: {' '.join(current.prompt) or '-'}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from callcenter_ari import logs, wiring
    from callcenter_ari.runtime import heap
    from callcenter_ari.store.connection import connected

    async def settle_once_started(platform: Platform) -> None:
        await platform.started.wait()
        heap.settle()  # what the start made (configuration, board, modules) is left out of every collection

    tenants = [with_options(tenant, args) for tenant in load_platform_or_exit(args.config)]
    first = tenants[0].config  # [redis], [http] and [log] are the same in every tenant's file
    if first.redis.mode == "url" and not first.redis.url:
        print(f"{tenants[0].path}: redis.url is required for `run` (only `demo` starts its own Redis)", file=sys.stderr)
        return 2
    logs.configure(first.log.level, first.log.format)

    async def serve() -> None:
        async with connected(first.redis) as redis:  # one connection pool for every tenant
            platform = wiring.platform([tenant.config for tenant in tenants], redis=redis)
            async with anyio.create_task_group() as tg:
                tg.start_soon(platform.handle_signals)
                tg.start_soon(settle_once_started, platform)
                await platform.run()
                tg.cancel_scope.cancel()

    heap.tune()
    try:
        anyio.run(serve, backend_options={"use_uvloop": True})  # the hot loop: uvloop's event loop
    except OSError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1
    except BaseException as exc:
        stepped = stepped_down(exc)
        if stepped is None:
            raise
        # Another process acts for the node now (hot standby): exit so that a supervisor starts this one again,
        # as a standby.
        structlog.get_logger("callcenter_ari.cli").error("app.stepped_down", reason=stepped.reason)
        return EXIT_STEPPED_DOWN
    return 0


def with_options(tenant: TenantFile, args: argparse.Namespace) -> TenantFile:
    """A tenant's configuration with what the command line sets over it (``--standby``, ``--http-port``)."""
    config = tenant.config
    if args.standby:
        if config.redis.wait_replicas:
            print(f"{tenant.path}: {STANDBY_WITHOUT_WAIT}", file=sys.stderr)
            raise SystemExit(2)
        config = msgspec.structs.replace(config, standby=msgspec.structs.replace(config.standby, enabled=True))
    if args.http_port is not None:
        if not 1 <= args.http_port <= 65535:
            print(f"--http-port: {args.http_port} is not a TCP port", file=sys.stderr)
            raise SystemExit(2)
        config = msgspec.structs.replace(config, http=msgspec.structs.replace(config.http, port=args.http_port))
    return TenantFile(tenant.path, config)


def stepped_down(exc: BaseException) -> SteppedDown | None:
    """The ``SteppedDown`` that ended the task tree, however deep in exception groups."""
    if isinstance(exc, SteppedDown):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = stepped_down(inner)
            if found is not None:
                return found
    return None


if __name__ == "__main__":
    sys.exit(main())
