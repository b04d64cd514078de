"""check-config: each rejected case, with the key path in the message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from callcenter_ari.ivr import IvrConfig, validate

Edit = Callable[[dict[str, Any]], None]


def base() -> dict[str, Any]:
    return {
        "flows": {
            "main": {
                "start": "menu1",
                "nodes": {
                    "menu1": {
                        "kind": "menu",
                        "prompt": ["main-menu"],
                        "options": {"1": "billing", "2": "hours", "3": "acct"},
                        "fallback": "billing",
                    },
                    "hours": {"kind": "schedule", "schedule": "office", "open": "billing", "closed": "bye"},
                    "acct": {
                        "kind": "collect",
                        "prompt": ["enter"],
                        "variable": "account",
                        "next": "crm",
                        "fallback": "billing",
                    },
                    "crm": {"kind": "lookup", "url": "https://crm/x", "next": "billing", "fallback": "billing"},
                    "billing": {"kind": "queue", "queue": "billing"},
                    "bye": {"kind": "hangup", "prompt": ["goodbye"]},
                },
            }
        },
        "schedules": {"office": {"timezone": "Europe/Berlin", "hours": {"mon": ["08:00-12:00", "13:00-17:00"]}}},
        "destinations": {"ops": {"extension": "200"}},
    }


# The sounds the default prompts use (invalid input, read-back, goodbye).
DEFAULT_SOUNDS = {"option-is-invalid", "you-entered", "press-1", "to-confirm", "press-2", "to-reenter", "goodbye"}


def errors(edit: Edit, sounds: set[str] | None = None) -> list[str]:
    raw = copy.deepcopy(base())
    edit(raw)
    return validate(msgspec.convert(raw, IvrConfig, strict=True), sounds)


def nodes(raw: dict[str, Any]) -> dict[str, Any]:
    return raw["flows"]["main"]["nodes"]  # type: ignore[no-any-return]


def test_the_base_is_valid() -> None:
    assert errors(lambda raw: None) == []
    assert errors(lambda raw: None, sounds={"main-menu", "enter", *DEFAULT_SOUNDS}) == []


def _set(node: str, **values: Any) -> Edit:
    return lambda raw: nodes(raw)[node].update(values)


def _add(name: str, **node: Any) -> Edit:
    return lambda raw: nodes(raw).__setitem__(name, node)


def _chain(*edits: Edit) -> Edit:
    def run(raw: dict[str, Any]) -> None:
        for edit in edits:
            edit(raw)

    return run


P = "ivr.flows.main"

REJECTED: dict[str, tuple[Edit, str]] = {
    "dangling option": (
        _set("menu1", options={"1": "billing", "2": "hours", "3": "acct", "4": "billingg"}),
        f"{P}.nodes.menu1.options.4: unknown node 'billingg'",
    ),
    "dangling start": (lambda raw: raw["flows"]["main"].update(start="nope"), f"{P}.start: unknown node 'nope'"),
    "dangling next": (_set("acct", next="crmm"), f"{P}.nodes.acct.next: unknown node 'crmm'"),
    "dangling schedule route": (_set("hours", closed="byee"), f"{P}.nodes.hours.closed: unknown node 'byee'"),
    "dangling lookup choice": (_set("crm", choices=["x"]), f"{P}.nodes.crm.choices[0]: unknown node 'x'"),
    "unreachable node": (_add("lost", kind="hangup"), f"{P}.nodes.lost: unreachable from start 'menu1'"),
    "menu without options": (_set("menu1", options={}), f"{P}.nodes.menu1.options: a menu needs at least one option"),
    "menu without fallback": (_set("menu1", fallback=""), f"{P}.nodes.menu1.fallback: required"),
    "menu option not a key": (
        _set("menu1", options={"1": "billing", "2": "hours", "3": "acct", "12": "bye"}),
        f"{P}.nodes.menu1.options.12: not a key",
    ),
    "menu fallback loop": (
        _chain(
            _set("menu1", fallback="menu2", options={"1": "billing", "2": "hours", "3": "acct", "4": "menu2"}),
            _add("menu2", kind="menu", prompt=["m2"], options={"1": "bye"}, fallback="menu1"),
        ),
        "loops back to 'menu1' without waiting for a key",
    ),
    "menu without a way out": (
        _chain(
            _set("menu1", options={"1": "billing", "2": "hours", "3": "acct", "9": "trap"}),
            _add("trap", kind="menu", prompt=["t"], options={"1": "trap"}, fallback="trap"),
        ),
        f"{P}.nodes.trap.fallback: loops back to 'trap'",
    ),
    "pass-through loop": (
        _chain(_set("crm", next="again"), _add("again", kind="set", next="crm")),
        f"{P}.nodes.again.next: loops back to 'crm'",
    ),
    "collect without fallback": (_set("acct", fallback=""), f"{P}.nodes.acct.fallback: required"),
    "collect bad pattern": (_set("acct", pattern="[0-9"), f"{P}.nodes.acct.pattern: not a regular expression"),
    "collect min above max": (_set("acct", min_length=9, max_length=4), f"{P}.nodes.acct.min_length: greater"),
    "collect bad variable": (_set("acct", variable="a b"), f"{P}.nodes.acct.variable: 'a b' is not a variable"),
    "undeclared sound": (_set("bye", prompt=["goodbyee"]), f"{P}.nodes.bye.prompt: undeclared sound 'goodbyee'"),
    "bad media kind": (_set("bye", prompt=["tts:hello"]), f"{P}.nodes.bye.prompt[0]: 'tts:hello': unknown media kind"),
    "sound from a variable": (_set("bye", prompt=["sound:{{x}}"]), "a sound name cannot come from a variable"),
    "bad number": (_set("bye", prompt=["number:lots"]), f"{P}.nodes.bye.prompt[0]: 'number:lots': not a valid number"),
    "unknown schedule": (_set("hours", schedule="ofice"), f"{P}.nodes.hours.schedule: unknown schedule 'ofice'"),
    "overlapping hours": (
        lambda raw: raw["schedules"]["office"]["hours"].update(mon=["08:00-12:00", "11:30-17:00"]),
        "ivr.schedules.office.hours.mon: '08:00-12:00' and '11:30-17:00' overlap",
    ),
    "unknown time zone": (
        lambda raw: raw["schedules"]["office"].update(timezone="Europe/Berlinn"),
        "ivr.schedules.office.timezone: unknown time zone 'Europe/Berlinn'",
    ),
    "transfer to unknown destination": (
        _chain(_set("bye", kind="transfer", target="opps"), lambda raw: nodes(raw)["bye"].pop("prompt")),
        f"{P}.nodes.bye.target: unknown destination 'opps'",
    ),
    "destination with both": (
        lambda raw: raw["destinations"]["ops"].update(number="+4930123", trunk="t"),
        "ivr.destinations.ops: set exactly one of extension or number",
    ),
    "external number without trunk": (
        lambda raw: raw["destinations"].update(ext={"number": "+4930123"}),
        "ivr.destinations.ext.trunk: required with number",
    ),
    "bad external number": (
        lambda raw: raw["destinations"].update(ext={"number": "0800-CALLME", "trunk": "t"}),
        "ivr.destinations.ext.number: '0800-CALLME' is not a phone number",
    ),
    "lookup url": (_set("crm", url="crm.local/x"), f"{P}.nodes.crm.url: 'crm.local/x' is not an http(s) URL"),
    "bad language": (
        _chain(_set("menu1", fallback="lang"), _add("lang", kind="set", language="../fr", next="billing")),
        f"{P}.nodes.lang.language: '../fr' is not a language code",
    ),
    "bad node name": (
        _chain(_set("menu1", fallback="a b"), _add("a b", kind="hangup")),
        f"{P}.nodes.a b: not a valid node name",
    ),
    "surge same keys": (
        _chain(
            _set("menu1", fallback="surge"),
            _add("surge", kind="surge", next="billing", callback="bye", self_service_key="2", callback_key="2"),
        ),
        f"{P}.nodes.surge.callback_key: the same key as self_service_key",
    ),
    "survey bad pattern": (
        lambda raw: raw.update(surveys={"s": {"question": ["q"], "second_pattern": "[1-"}}),
        "ivr.surveys.s.second_pattern: not a regular expression",
    ),
    "survey undeclared sound": (
        lambda raw: raw.update(surveys={"s": {"question": ["rate-uss"], "thanks": []}}),
        "ivr.surveys.s.question: undeclared sound 'rate-uss'",
    ),
}


@pytest.mark.parametrize(("edit", "message"), REJECTED.values(), ids=REJECTED.keys())
def test_rejected(edit: Edit, message: str) -> None:
    found = errors(edit, sounds={"main-menu", "enter", "m2", "t", "q", *DEFAULT_SOUNDS})
    assert any(message in e for e in found), found


def test_sounds_from_the_configuration_are_used_when_none_are_passed() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["sounds"] = ["main-menu", "enter", *(DEFAULT_SOUNDS - {"goodbye"})]

    assert errors(edit) == [f"{P}.nodes.bye.prompt: undeclared sound 'goodbye'"]


def test_prefix_names_where_the_section_lives() -> None:
    raw = base()
    nodes(raw)["menu1"]["options"]["3"] = "billingg"
    found = validate(msgspec.convert(raw, IvrConfig, strict=True), prefix="tenants.acme.ivr")
    assert "tenants.acme.ivr.flows.main.nodes.menu1.options.3: unknown node 'billingg'" in found
