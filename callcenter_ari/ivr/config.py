"""IVR flows as they appear in the TOML under ``[ivr]``: flows of named nodes, schedules, destinations, surveys.

Every node names the nodes it leads to by their key in the same flow, so the whole graph can be checked before a
call ever runs it (see ``validate``). Prompts are tuples of media items (see ``media``): ``"sound:welcome"`` (or
just ``"welcome"``), ``"digits:{{account}}"``, ``"number:42"``, ``"duration:{{wait}}"``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec

Prompt = tuple[str, ...]
Seconds = Annotated[float, msgspec.Meta(gt=0, le=3600)]
Retries = Annotated[int, msgspec.Meta(ge=0, le=10)]
Length = Annotated[int, msgspec.Meta(ge=1, le=64)]

_RANGE = re.compile(r"^([0-2][0-9]):([0-5][0-9])-([0-2][0-9]):([0-5][0-9])$")
_DATE = re.compile(r"^(?:[0-9]{4}-)?[0-9]{2}-[0-9]{2}$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class _Node(_Section, frozen=True, tag_field="kind"):
    pass


# ---- nodes that wait for the caller ----------------------------------------------------------------------------


class MenuNode(_Node, frozen=True, tag="menu"):
    """Play ``prompt`` and route on one key; invalid keys and silence are retried, then ``fallback``."""

    prompt: Prompt
    options: dict[str, str]  # key ("0".."9", "*", "#") -> node
    fallback: str = ""
    timeout: Seconds = 5.0
    max_retries: Retries = 2
    invalid_prompt: Prompt = ("option-is-invalid",)
    timeout_prompt: Prompt = ()
    interruptible: bool = True


class CollectNode(_Node, frozen=True, tag="collect"):
    """Collect a string of digits into ``variable``, check it, optionally read it back for confirmation."""

    prompt: Prompt
    variable: str
    next: str
    fallback: str = ""
    min_length: Length = 1
    max_length: Length = 16
    terminator: Literal["#", "*", ""] = "#"
    first_digit_timeout: Seconds = 8.0
    inter_digit_timeout: Seconds = 4.0
    pattern: str = ""  # a regular expression the whole entry must match
    check: Literal["none", "luhn"] = "none"
    max_retries: Retries = 2
    invalid_prompt: Prompt = ("option-is-invalid",)
    timeout_prompt: Prompt = ()
    confirm: bool = False
    # Read back as: confirm_prompt + digits:<entry> + confirm_options_prompt; 1 confirms, 2 re-enters.
    confirm_prompt: Prompt = ("you-entered",)
    confirm_options_prompt: Prompt = ("press-1", "to-confirm", "press-2", "to-reenter")
    interruptible: bool = True


# ---- nodes that pass through ------------------------------------------------------------------------------------


class PlayNode(_Node, frozen=True, tag="play"):
    prompt: Prompt
    next: str
    interruptible: bool = False


class SayNode(_Node, frozen=True, tag="say"):
    """Say a value (a literal or ``{{variable}}``) as digits, a number or a duration, between two prompts."""

    value: str
    say_as: Literal["digits", "number", "duration"]
    next: str
    before: Prompt = ()
    after: Prompt = ()
    interruptible: bool = False


class SetNode(_Node, frozen=True, tag="set"):
    """Set the language (prompts then come from that language's sounds) and/or variables."""

    next: str
    language: str = ""
    variables: dict[str, str] = {}


class ScheduleNode(_Node, frozen=True, tag="schedule"):
    schedule: str  # a key of [ivr.schedules]
    open: str
    closed: str
    holiday: str = ""  # empty: holidays take the ``closed`` route


class LookupNode(_Node, frozen=True, tag="lookup"):
    """POST the caller's number and variables to the CRM; route on its answer (see the session for the shape)."""

    url: str
    next: str
    fallback: str
    timeout: Seconds = 3.0
    send: tuple[str, ...] | None = None  # variables to send; None: all
    choices: tuple[str, ...] = ()  # nodes the CRM may choose with "next"
    wait_prompt: Prompt = ()


class SurgeNode(_Node, frozen=True, tag="surge"):
    """Where the current surge announcement (if any) is played; it may offer self-service or a callback."""

    next: str
    self_service: str = ""
    callback: str = ""
    offer_prompt: Prompt = ()
    self_service_key: str = "1"
    callback_key: str = "2"
    timeout: Seconds = 5.0


# ---- terminal nodes: play the prompt to its end, then finish the session ---------------------------------------


class QueueNode(_Node, frozen=True, tag="queue"):
    queue: str
    skills: tuple[str, ...] = ()
    priority: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    language: str = ""  # empty: the session's language
    prompt: Prompt = ()


class CallbackNode(_Node, frozen=True, tag="callback"):
    queue: str
    prompt: Prompt = ()


class TransferNode(_Node, frozen=True, tag="transfer"):
    target: str  # a key of [ivr.destinations]
    prompt: Prompt = ()


class VoicemailNode(_Node, frozen=True, tag="voicemail"):
    mailbox: str
    prompt: Prompt = ("vm-intro",)
    max_seconds: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 120
    beep: bool = True


class HangupNode(_Node, frozen=True, tag="hangup"):
    prompt: Prompt = ("goodbye",)
    reason: str = "ivr"


class SurveyEndNode(_Node, frozen=True, tag="survey_end"):
    survey: str
    answers: tuple[str, ...]
    prompt: Prompt = ()


Node = (
    MenuNode
    | CollectNode
    | PlayNode
    | SayNode
    | SetNode
    | ScheduleNode
    | LookupNode
    | SurgeNode
    | QueueNode
    | CallbackNode
    | TransferNode
    | VoicemailNode
    | HangupNode
    | SurveyEndNode
)
TERMINAL = (QueueNode, CallbackNode, TransferNode, VoicemailNode, HangupNode, SurveyEndNode)


class Flow(_Section, frozen=True):
    start: str
    nodes: dict[str, Node]
    language: str = ""  # the language a session starts in unless the call brings one


# ---- what nodes refer to ----------------------------------------------------------------------------------------


class Schedule(_Section, frozen=True):
    """Opening hours per weekday as "HH:MM-HH:MM" ranges in local time ("24:00" ends a day), holidays by date."""

    timezone: str
    hours: dict[str, tuple[str, ...]] = {}  # "mon".."sun" -> ranges
    holidays: tuple[str, ...] = ()  # "YYYY-MM-DD" once, "MM-DD" every year

    def __post_init__(self) -> None:
        for day, ranges in self.hours.items():
            if day not in WEEKDAYS:
                raise ValueError(f"hours.{day}: not a weekday ({', '.join(WEEKDAYS)})")
            for text in ranges:
                if parse_range(text) is None:
                    raise ValueError(f"hours.{day}: {text!r} is not a range like '08:00-17:30' (end after start)")
        for text in self.holidays:
            if not _DATE.fullmatch(text):
                raise ValueError(f"holidays: {text!r} is not a date like '2025-12-25' or '12-25'")


def parse_range(text: str) -> tuple[int, int] | None:
    """Minutes since local midnight of the start and end of "HH:MM-HH:MM", or None if it is not one."""
    match = _RANGE.fullmatch(text)
    if match is None:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or end > 24 * 60 or end <= start:
        return None
    return start, end


class Destination(_Section, frozen=True):
    """Where a transfer may go: an internal extension, or an external number through a trunk."""

    extension: str = ""
    number: str = ""
    trunk: str = ""


class Survey(_Section, frozen=True):
    """The post-call survey: a score from 1 to 5 and an optional second question."""

    question: Prompt
    second_question: Prompt = ()
    second_pattern: str = "[1-5]"
    thanks: Prompt = ("thank-you-for-calling",)
    invalid_prompt: Prompt = ("option-is-invalid",)
    timeout: Seconds = 8.0
    max_retries: Retries = 1


class IvrConfig(_Section, frozen=True):
    flows: dict[str, Flow] = {}
    schedules: dict[str, Schedule] = {}
    destinations: dict[str, Destination] = {}
    surveys: dict[str, Survey] = {}
    sounds: tuple[str, ...] | None = None  # when set, prompts may only use these sounds
