"""`callcenter-ari dialer-lab`: simulate a campaign in each dial mode with the production pacer, print a table."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import msgspec

from callcenter_ari.dialer.lab import LabResult, LabSettings, run
from callcenter_ari.dialer.settings import Mode

MODES: tuple[Mode, ...] = ("preview", "progressive", "predictive")

_HELP = {
    "agents": "agents on the campaign, persistent (joined with no ring)",
    "hours": "virtual hours to simulate from the campaign's start",
    "answer_rate": "share of dials answered at all (person or machine)",
    "machine_rate": "share of answered calls that are answering machines",
    "amd_false_positives": "share of machine verdicts that were people (the ledger's reasoned estimate too)",
    "amd_seconds": "seconds from the answer to the detection's verdict",
    "busy_rate": "share of unanswered dials that are busy or fail at once (the rest ring out)",
    "ring_mean": "mean seconds from dial to answer",
    "ring_sd": "standard deviation of that time",
    "ring_timeout": "seconds an unanswered call rings (at least 15)",
    "talk_mean": "mean talk seconds",
    "talk_sd": "standard deviation of talk seconds",
    "wrapup_mean": "mean wrap-up seconds",
    "wrapup_sd": "standard deviation of wrap-up seconds",
    "lines": "trunk lines for the campaign",
    "preview_seconds": "seconds an agent reads a lead in preview mode (mean)",
    "message_seconds": "length of the safe-harbour message",
    "limit": "abandon limit (share of calls answered by a person)",
    "rule": "us: 30-day periods; uk: calendar days, AMD false positives counted",
    "ratio": "progressive mode's lines per available agent",
    "setpoint": "share of the limit the predictive controller aims at",
    "seed": "random seed (every mode gets the same one)",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lab = subparsers.add_parser(
        "dialer-lab",
        help="simulate an outbound campaign in each dial mode and compare them",
        description=(
            "Simulate a campaign on a virtual clock with the production pacer, once per dial mode, and print talk "
            "and idle minutes per agent-hour, the abandon rate as the rule measures it, and the calls placed."
        ),
    )
    for field in msgspec.structs.fields(LabSettings):
        kind: Any = type(field.default)
        extra: dict[str, Any] = {"choices": ("us", "uk")} if field.name == "rule" else {}
        lab.add_argument(
            "--" + field.name.replace("_", "-"),
            type=kind,
            default=field.default,
            help=f"{_HELP[field.name]} (default {field.default})",
            **extra,
        )
    lab.add_argument("--modes", default=",".join(MODES), help="modes to run, comma-separated (default: all)")
    lab.set_defaults(func=run_lab)


def run_lab(args: argparse.Namespace) -> int:
    values = {field.name: getattr(args, field.name) for field in msgspec.structs.fields(LabSettings)}
    requested = {mode.strip() for mode in args.modes.split(",") if mode.strip()}
    modes = [mode for mode in MODES if mode in requested]
    try:
        settings = LabSettings(**values)
        if not modes or len(modes) != len(requested):
            raise ValueError(f"--modes: expected some of {', '.join(MODES)}, got {args.modes!r}")
    except ValueError as exc:
        print(f"dialer-lab: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    results = [run(settings, mode) for mode in modes]
    print(describe(settings))
    print()
    print(table(results))
    print()
    print(f"{settings.hours:g} virtual hours per mode in {time.perf_counter() - started:.1f} s of wall time")
    return 0


def describe(settings: LabSettings) -> str:
    persons = settings.answer_rate * (1 - settings.machine_rate)
    return (
        f"{settings.agents} agents, {settings.lines} lines, {settings.hours:g} h; answered {settings.answer_rate:.0%} "
        f"of dials, machines {settings.machine_rate:.0%} of answers (people {persons:.1%} of dials), AMD false "
        f"positives {settings.amd_false_positives:.1%} of machine verdicts; talk {settings.talk_mean:g}±"
        f"{settings.talk_sd:g} s, wrap-up {settings.wrapup_mean:g}±{settings.wrapup_sd:g} s, ring "
        f"{settings.ring_mean:g}±{settings.ring_sd:g} s; limit {settings.limit:.0%} ({settings.rule} rule); "
        f"seed {settings.seed}"
    )


def table(results: list[LabResult]) -> str:
    base = next((result.talk_minutes for result in results if result.mode == "progressive"), 0.0)
    lines = [
        "| mode | talk min/agent-h | vs progressive | idle min/agent-h | abandoned | calls placed | connected "
        "| abandons (+AMD false positives) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        versus = f"{result.talk_minutes / base:.2f}x" if base else "-"
        lines.append(
            f"| {result.mode} | {result.talk_minutes:.1f} | {versus} | {result.idle_minutes:.1f} "
            f"| {result.abandon_rate:.2%} | {result.placed:,} | {result.connected:,} "
            f"| {result.abandoned} ({result.true_abandoned}) |"
        )
    return "\n".join(lines)
