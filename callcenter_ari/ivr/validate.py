"""check-config for IVR flows: what decodes fine but would strand, loop or mislead a caller.

Each error names the key path (``ivr.flows.main.nodes.menu1.options.3: unknown node 'billingg'``). The graph
rules are the ones the session relies on: every target exists, every node is reachable from the start, and a
caller who never presses a key always ends at a terminal node (queue, callback, transfer, voicemail, hangup, or
a survey's end) — so a menu needs a fallback and no chain of fallbacks, plays and routes may loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise
from zoneinfo import ZoneInfo

from callcenter_ari.ivr.config import (
    TERMINAL,
    CollectNode,
    Destination,
    Flow,
    IvrConfig,
    LookupNode,
    MenuNode,
    Node,
    PlayNode,
    Prompt,
    SayNode,
    Schedule,
    ScheduleNode,
    SetNode,
    SurgeNode,
    Survey,
    TransferNode,
    VoicemailNode,
    parse_range,
)
from callcenter_ari.ivr.media import NAME, check_item, reference, render_item, sounds_in

KEYS = frozenset("0123456789*#")
NODE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?$")
PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
EXTENSION = re.compile(r"^[0-9A-Za-z_*#+.-]{1,40}$")
NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


def validate(ivr: IvrConfig, sounds: set[str] | None = None, prefix: str = "ivr") -> list[str]:
    """Every problem in the IVR configuration, each naming its key path; empty when it is usable.

    ``sounds``: the sounds that exist (then prompts may use no other); None uses ``ivr.sounds`` if configured.
    """
    known = sounds if sounds is not None else (set(ivr.sounds) if ivr.sounds is not None else None)
    errors: list[str] = []
    for name, flow in ivr.flows.items():
        errors += _flow(f"{prefix}.flows.{name}", flow, ivr, known)
    for name, schedule in ivr.schedules.items():
        errors += _schedule(f"{prefix}.schedules.{name}", schedule)
    for name, destination in ivr.destinations.items():
        errors += _destination(f"{prefix}.destinations.{name}", destination)
    for name, survey in ivr.surveys.items():
        errors += _survey(f"{prefix}.surveys.{name}", survey, known)
    return errors


# ---- flows ---------------------------------------------------------------------------------------------------


def _flow(path: str, flow: Flow, ivr: IvrConfig, sounds: set[str] | None) -> list[str]:
    errors: list[str] = []
    if flow.start not in flow.nodes:
        errors.append(f"{path}.start: unknown node {flow.start!r}")
    if flow.language and not LANGUAGE.fullmatch(flow.language):
        errors.append(f"{path}.language: {flow.language!r} is not a language code like 'en' or 'de'")
    for name, node in flow.nodes.items():
        where = f"{path}.nodes.{name}"
        if not NODE_NAME.fullmatch(name):
            errors.append(f"{where}: not a valid node name (letters, digits, '_', '-')")
        for field, target in _edges(node):
            if target not in flow.nodes:
                errors.append(f"{where}.{field}: unknown node {target!r}")
        errors += _node(where, node, ivr)
        for field, prompt in _prompts(node):
            errors += _prompt(f"{where}.{field}", prompt, sounds)
    errors += _unreachable(path, flow)
    errors += _loops(path, flow)
    return errors


def _edges(node: Node) -> list[tuple[str, str]]:
    """(field path, target) for every node this one may lead to; the caller's keys or no key at all."""
    match node:
        case MenuNode():
            return [(f"options.{k}", t) for k, t in node.options.items()] + _opt(("fallback", node.fallback))
        case SurgeNode():
            return [("next", node.next), *_opt(("self_service", node.self_service), ("callback", node.callback))]
        case _:
            return _quiet_edges(node)


def _quiet_edges(node: Node) -> list[tuple[str, str]]:
    """The edges a caller who presses nothing may take."""
    match node:
        case MenuNode():
            return _opt(("fallback", node.fallback))
        case CollectNode():
            return [("next", node.next), *_opt(("fallback", node.fallback))]
        case PlayNode() | SayNode() | SetNode() | SurgeNode():
            return [("next", node.next)]
        case ScheduleNode():
            return [("open", node.open), ("closed", node.closed), *_opt(("holiday", node.holiday))]
        case LookupNode():
            return [("next", node.next), ("fallback", node.fallback)] + [
                (f"choices[{i}]", c) for i, c in enumerate(node.choices)
            ]
        case _:
            return []


def _opt(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
    return [(field, target) for field, target in pairs if target]


def _node(where: str, node: Node, ivr: IvrConfig) -> Iterator[str]:
    match node:
        case MenuNode():
            if not node.options:
                yield f"{where}.options: a menu needs at least one option"
            for key in node.options:
                if key not in KEYS:
                    yield f"{where}.options.{key}: not a key (one of 0-9, *, #)"
            if not node.fallback:
                yield f"{where}.fallback: required (where a caller goes after {node.max_retries} retries)"
        case CollectNode():
            if not NAME.fullmatch(node.variable):
                yield f"{where}.variable: {node.variable!r} is not a variable name"
            if node.min_length > node.max_length:
                yield f"{where}.min_length: greater than max_length ({node.min_length} > {node.max_length})"
            if node.pattern:
                try:
                    re.compile(node.pattern)
                except re.error as exc:
                    yield f"{where}.pattern: not a regular expression: {exc}"
            if not node.fallback:
                yield f"{where}.fallback: required (where a caller goes after {node.max_retries} retries)"
        case SayNode():
            if reference(node.value) is None and not render_item(node.say_as, node.value):
                yield f"{where}.value: {node.value!r} cannot be said as {node.say_as}"
        case SetNode():
            if node.language and not LANGUAGE.fullmatch(node.language):
                yield f"{where}.language: {node.language!r} is not a language code like 'en' or 'de'"
            for name in node.variables:
                if not NAME.fullmatch(name):
                    yield f"{where}.variables.{name}: not a variable name"
        case ScheduleNode():
            if node.schedule not in ivr.schedules:
                yield f"{where}.schedule: unknown schedule {node.schedule!r}"
        case LookupNode():
            if not node.url.startswith(("http://", "https://")):
                yield f"{where}.url: {node.url!r} is not an http(s) URL"
            for name in node.send or ():
                if not NAME.fullmatch(name):
                    yield f"{where}.send: {name!r} is not a variable name"
        case SurgeNode():
            for field in ("self_service_key", "callback_key"):
                if getattr(node, field) not in KEYS:
                    yield f"{where}.{field}: not a key (one of 0-9, *, #)"
            if node.self_service_key == node.callback_key:
                yield f"{where}.callback_key: the same key as self_service_key"
        case TransferNode():
            if node.target not in ivr.destinations:
                yield f"{where}.target: unknown destination {node.target!r}"
        case VoicemailNode():
            if not PLAIN.fullmatch(node.mailbox):
                yield f"{where}.mailbox: {node.mailbox!r} is not a valid name"
        case _:
            pass
    if isinstance(node, TERMINAL) and hasattr(node, "queue") and not PLAIN.fullmatch(node.queue):
        yield f"{where}.queue: {node.queue!r} is not a valid queue name"


def _prompts(node: Node) -> list[tuple[str, Prompt]]:
    fields = (
        "prompt",
        "invalid_prompt",
        "timeout_prompt",
        "confirm_prompt",
        "confirm_options_prompt",
        "before",
        "after",
        "wait_prompt",
        "offer_prompt",
    )
    return [(f, getattr(node, f)) for f in fields if hasattr(node, f)]


def _prompt(where: str, prompt: Prompt, sounds: set[str] | None) -> Iterator[str]:
    for i, item in enumerate(prompt):
        problem = check_item(item)
        if problem is not None:
            yield f"{where}[{i}]: {problem}"
    if sounds is not None:
        for name in sounds_in(prompt):
            if name not in sounds:
                yield f"{where}: undeclared sound {name!r}"


def _unreachable(path: str, flow: Flow) -> Iterator[str]:
    seen, todo = set(), [flow.start]
    while todo:
        name = todo.pop()
        if name in seen or name not in flow.nodes:
            continue
        seen.add(name)
        todo += [target for _, target in _edges(flow.nodes[name])]
    for name in flow.nodes:
        if name not in seen and flow.start in flow.nodes:
            yield f"{path}.nodes.{name}: unreachable from start {flow.start!r}"


def _loops(path: str, flow: Flow) -> Iterator[str]:
    """Cycles a caller who presses nothing would go round forever (or the session within one step)."""
    state: dict[str, str] = {}  # "open" while on the DFS stack, "done" after

    def visit(name: str, trail: list[str]) -> Iterator[str]:
        state[name] = "open"
        for field, target in _quiet_edges(flow.nodes[name]):
            if target not in flow.nodes:
                continue
            if state.get(target) == "open":
                loop = " -> ".join([*trail[trail.index(target) :], name, target]) if target in trail else target
                yield (
                    f"{path}.nodes.{name}.{field}: loops back to {target!r} without waiting for a key "
                    f"(a caller who presses nothing would never leave: {loop})"
                )
            elif target not in state:
                yield from visit(target, [*trail, name])
        state[name] = "done"

    for name in flow.nodes:
        if name not in state:
            yield from visit(name, [])


# ---- what flows refer to ---------------------------------------------------------------------------------------


def _schedule(path: str, schedule: Schedule) -> Iterator[str]:
    try:
        ZoneInfo(schedule.timezone)
    except (ValueError, LookupError):
        yield f"{path}.timezone: unknown time zone {schedule.timezone!r} (an IANA name like 'Europe/Berlin')"
    for day, ranges in schedule.hours.items():
        spans = sorted((span, text) for text in ranges if (span := parse_range(text)) is not None)
        for (first, a), (second, b) in pairwise(spans):
            if second[0] < first[1]:
                yield f"{path}.hours.{day}: {a!r} and {b!r} overlap"


def _destination(path: str, destination: Destination) -> Iterator[str]:
    if bool(destination.extension) == bool(destination.number):
        yield f"{path}: set exactly one of extension or number"
    if destination.extension and not EXTENSION.fullmatch(destination.extension):
        yield f"{path}.extension: {destination.extension!r} is not an extension"
    if destination.number:
        if not NUMBER.fullmatch(destination.number):
            yield f"{path}.number: {destination.number!r} is not a phone number (digits, optional leading +)"
        if not destination.trunk:
            yield f"{path}.trunk: required with number (the trunk the call leaves through)"


def _survey(path: str, survey: Survey, sounds: set[str] | None) -> Iterator[str]:
    for field in ("question", "second_question", "thanks", "invalid_prompt"):
        yield from _prompt(f"{path}.{field}", getattr(survey, field), sounds)
    try:
        re.compile(survey.second_pattern)
    except re.error as exc:
        yield f"{path}.second_pattern: not a regular expression: {exc}"
