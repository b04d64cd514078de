"""The `callcenter-ari` command: run, demo, sim, check-config and the hardware helpers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callcenter-ari", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from callcenter_ari.sim import cli as sim_cli

    sim_cli.register(sub)
    from callcenter_ari.dahdi import cli as dahdi_cli

    dahdi_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    result = args.func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
