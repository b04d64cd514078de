"""`callcenter-ari dahdi genconf`: validate cards.toml and write DAHDI's and Asterisk's generated configs."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console, RenderableType
from rich.console import Group as RichGroup
from rich.table import Table

from callcenter_ari.dahdi.layout import group_channels, group_role, number_channels, ranges, spans_in_order
from callcenter_ari.dahdi.model import Cards, DigitalSpan, HardwareError, load
from callcenter_ari.dahdi.render import render_all
from callcenter_ari.dahdi.validate import validate

DEFAULT_CARDS = Path("hardware/dahdi/cards.toml")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dahdi = subparsers.add_parser("dahdi", help="DAHDI telephony cards (E1/T1 PRI, analog FXS/FXO)")
    commands = dahdi.add_subparsers(dest="dahdi_command", required=True, metavar="COMMAND")
    genconf = commands.add_parser(
        "genconf",
        help="generate system.conf and the chan_dahdi/dialplan includes from cards.toml",
        description=(
            "Validate the card description and write system.conf (for dahdi_cfg), chan_dahdi_generated.conf "
            "and extensions_dahdi_generated.conf (for Asterisk). Exit status 1 if the description is refused."
        ),
    )
    genconf.add_argument("--cards", type=Path, default=DEFAULT_CARDS, help=f"default: {DEFAULT_CARDS}")
    target = genconf.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="directory to write the generated files into")
    target.add_argument("--check", action="store_true", help="only validate and show the summary")
    genconf.set_defaults(func=run_genconf)


def run_genconf(args: argparse.Namespace) -> int:
    # soft_wrap: one message per line whatever the terminal width, so the output stays greppable.
    console = Console(soft_wrap=True)
    errors = Console(stderr=True, soft_wrap=True)
    try:
        cards = load(args.cards)
    except HardwareError as exc:
        _print_problems(errors, args.cards, exc.problems)
        return 1
    report = validate(cards)
    for warning in report.warnings:
        errors.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if report.errors:
        _print_problems(errors, args.cards, list(report.errors))
        return 1
    console.print(_summary(cards))
    if args.check:
        console.print(f"[green]{args.cards}: OK[/]", highlight=False)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in render_all(cards, args.cards.name).items():
        (args.out / name).write_text(text, encoding="utf-8")
        console.print(f"wrote {args.out / name}", highlight=False)
    return 0


def _print_problems(console: Console, path: Path, problems: list[str]) -> None:
    console.print(f"[red]{path}: refused[/]", highlight=False)
    for problem in problems:
        console.print(f"  [red]error:[/] {problem}", highlight=False)


def _summary(cards: Cards) -> RenderableType:
    layout = number_channels(cards)
    spans = Table(title="DAHDI spans")
    for column in ("span", "hardware", "channels"):
        spans.add_column(column)
    for span in spans_in_order(cards):
        chans = layout[span.span]
        if isinstance(span, DigitalSpan):
            hardware = f"{span.type} {span.signalling} {span.switchtype or span.mfcr2_variant}"
        else:
            hardware = f"analog, {len(span.fxs)} FXS / {len(span.fxo)} FXO of {span.ports} ports"
        spans.add_row(str(span.span), hardware, ranges(list(range(chans.first, chans.first + chans.count))))
    # The lines column is what `[trunks.<name>]` in the app's config should allow on that group.
    groups = Table(title="Trunk groups")
    for column in ("group", "name", "role", "context", "channels", "lines"):
        groups.add_column(column)
    for group in cards.group:
        channels = group_channels(cards, layout, group)
        role = group_role(cards, group)
        groups.add_row(f"g{group.number}", group.name, role, group.context, ranges(channels), str(len(channels)))
    return RichGroup(spans, groups)
