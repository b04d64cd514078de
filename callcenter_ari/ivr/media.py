"""Prompts to ARI media URIs: ``sound:``, ``digits:``, ``number:``, and durations said as numbers and words.

A prompt item may refer to a session variable as ``{{name}}`` (not ``${...}``, which the configuration loader
expands from the environment before the IVR ever sees the file); the value is checked against what the item says
(digits, a number) before it becomes part of a media URI, and an item whose value does not fit is left out
rather than sent to Asterisk. Sound names are plain path words, so nothing a caller or the CRM says can reach
outside the sound folder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

SOUND = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*(?:/[A-Za-z0-9_][A-Za-z0-9_-]*)*$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$")
_DIGITS = re.compile(r"^[0-9*#]{1,64}$")
_NUMBER = re.compile(r"^-?[0-9]{1,12}$")
_REF = re.compile(r"^\{\{ *([A-Za-z_][A-Za-z0-9_.]{0,63}) *\}\}$")
KINDS = ("sound", "digits", "number", "duration")

# Words said between the numbers of a duration, singular and plural (Asterisk core sounds).
DURATION_WORDS = (
    (3600, "hour", "hours"),
    (60, "minute", "minutes"),
    (1, "second", "seconds"),
)


def split(item: str) -> tuple[str, str]:
    """("sound", "welcome") for "sound:welcome" and for "welcome"."""
    kind, sep, value = item.partition(":")
    if not sep:
        return "sound", item
    return kind, value


def reference(value: str) -> str | None:
    """The variable name of "{{name}}", or None for a literal."""
    match = _REF.fullmatch(value)
    return match.group(1) if match else None


def check_item(item: str) -> str | None:
    """Why a configured prompt item is not usable, or None when it is."""
    kind, value = split(item)
    if kind not in KINDS:
        return f"{item!r}: unknown media kind {kind!r} (use {', '.join(KINDS)})"
    if reference(value) is not None:
        return None if kind != "sound" else f"{item!r}: a sound name cannot come from a variable"
    if render_item(kind, value) == ():
        return f"{item!r}: not a valid {kind}"
    return None


def render(prompt: tuple[str, ...], variables: Mapping[str, str]) -> tuple[str, ...]:
    """The ARI media URIs for a prompt, with variables substituted; unusable items are dropped."""
    out: list[str] = []
    for item in prompt:
        kind, value = split(item)
        name = reference(value)
        if name is not None:
            if kind == "sound" or name not in variables:
                continue
            value = variables[name]
        out.extend(render_item(kind, value))
    return tuple(out)


def render_item(kind: str, value: str) -> tuple[str, ...]:
    if kind == "sound":
        return (f"sound:{value}",) if SOUND.fullmatch(value) and len(value) <= 128 else ()
    if kind == "digits":
        return say_digits(value)
    if kind == "number":
        return (f"number:{int(value)}",) if _NUMBER.fullmatch(value) else ()
    if kind == "duration":
        return say_duration(int(value)) if _NUMBER.fullmatch(value) else ()
    return ()


def say_digits(value: str) -> tuple[str, ...]:
    return (f"digits:{value}",) if _DIGITS.fullmatch(value) else ()


def say_number(value: int) -> tuple[str, ...]:
    return (f"number:{value}",)


def say_duration(seconds: int) -> tuple[str, ...]:
    """90 -> number:1 minute number:30 seconds; 0 -> number:0 seconds."""
    seconds = max(0, seconds)
    if seconds == 0:
        return ("number:0", "sound:seconds")
    out: list[str] = []
    for unit, one, many in DURATION_WORDS:
        count, seconds = divmod(seconds, unit)
        if count:
            out += [f"number:{count}", f"sound:{one if count == 1 else many}"]
    return tuple(out)


def sounds_in(prompt: tuple[str, ...]) -> list[str]:
    """The literal sound names a prompt plays (durations add their unit words)."""
    names = []
    for item in prompt:
        kind, value = split(item)
        if kind == "sound" and reference(value) is None:
            names.append(value)
        elif kind == "duration":
            names += [word for _, one, many in DURATION_WORDS for word in (one, many)]
    return names
