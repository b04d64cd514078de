"""Checks on what a caller typed and on what the CRM answered, before either is used as data."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from callcenter_ari.ivr.config import CollectNode
from callcenter_ari.ivr.media import NAME, check_item, reference
from callcenter_ari.ivr.messages import SurgeAnnouncement

MAX_VARIABLES = 64
MAX_VALUE = 256


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def entry_ok(node: CollectNode, entry: str) -> bool:
    if not (node.min_length <= len(entry) <= node.max_length) or not entry.isdigit():
        return False
    if node.pattern:
        try:
            if re.fullmatch(node.pattern, entry) is None:
                return False
        except re.error:
            return False
    return node.check != "luhn" or luhn_ok(entry)


class CrmAnswer(msgspec.Struct, frozen=True):
    """The CRM's JSON body. Unknown fields are ignored: a CRM may send more than the IVR reads."""

    variables: dict[str, str | int | float | bool] = {}
    next: str = ""
    say: tuple[str, ...] = ()
    text: str = ""


def parse_answer(data: Any, choices: tuple[str, ...]) -> CrmAnswer | str:
    """The answer, or why it is malformed (then the caller takes the fallback branch)."""
    if data is None:  # 204 No Content: nothing to change
        data = {}
    try:
        answer = msgspec.convert(data, CrmAnswer, strict=True)
    except msgspec.ValidationError as exc:
        return f"malformed: {exc}"
    if len(answer.variables) > MAX_VARIABLES:
        return "malformed: too many variables"
    for name, value in answer.variables.items():
        if not NAME.fullmatch(name):
            return f"malformed: variable name {name[:40]!r}"
        if len(str(value)) > MAX_VALUE:
            return f"malformed: variable {name} too long"
    if answer.next and answer.next not in choices:
        return f"malformed: next {answer.next[:40]!r} is not one of this node's choices"
    for item in answer.say:
        kind_value = item.partition(":")[2] or item
        if check_item(item) is not None or reference(kind_value) is not None:
            return f"malformed: say item {item[:40]!r}"
    if len(answer.text) > MAX_VALUE:
        return "malformed: text too long"
    return answer


def as_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def surge_problems(surge: SurgeAnnouncement) -> list[tuple[str, str]]:
    """What is wrong with a surge announcement a supervisor switches on, as (field, message); empty: usable.
    One check for the API and the command line."""
    found = [(f"prompt[{i}]", why) for i, item in enumerate(surge.prompt) if (why := check_item(item)) is not None]
    if surge.active and not surge.prompt:
        found.append(("prompt", "give at least one media item, e.g. sound:outage-in-your-area"))
    if not NAME.fullmatch(surge.area_variable):
        found.append(("area_variable", "a variable name: a letter or '_', then letters, digits, '_' or '.'"))
    return found
