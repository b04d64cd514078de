"""An outbound leg: one call we place to a number outside, through a trunk, and what became of it.

Pure, no I/O. The owner (a callback, a campaign's dialer) builds an ``OutboundRequest``; the request is checked
here before anything reaches a dial string: the number is a ``PhoneNumber`` (built only by ``parse_number``),
the leg id, the application arguments and the channel variables are plain tokens, the caller id is a valid
number. The runtime (``runtime/outbound.py``) takes a trunk line, originates, and feeds what Asterisk says into an
``OutboundLeg``, which turns it into the owner's events:

    dialing --up-->       answered --gone--> ended(cause)
    dialing --gone-->     not reached: no answer | busy | failed(cause)
    dialing --refused-->  not reached: failed (no free line, or the originate itself refused)

A leg is reached once or not at all: after the first outcome, later inputs change nothing but the end of an
answered leg. What a dial status or a hang-up cause means follows Asterisk's Dial(): NOANSWER or cause 18/19 is
no answer, BUSY or cause 17 is busy, a leg its owner hung up while it rang is CANCEL, everything else
(CONGESTION, CHANUNAVAIL, 21, 34, 38...) a failure with its cause.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from callcenter_ari.trunks.phone import E164, InvalidNumber, PhoneNumber, parse_number

# ARI joins appArgs with ',' and a channel id ends up in event routing: keep both to plain tokens.
_TOKEN = re.compile(r"[A-Za-z0-9_.+:-]{1,64}")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_VALUE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
_NAME_FORBIDDEN = re.compile(r"[\"<>\\\x00-\x1f\x7f]")

CAUSE_BUSY = 17
CAUSE_NO_USER_RESPONDING = 18
CAUSE_NO_ANSWER = 19
_NO_ANSWER_CAUSES = frozenset({CAUSE_NO_USER_RESPONDING, CAUSE_NO_ANSWER})


class InvalidRequest(ValueError):
    """A request the runtime must not send: names the field."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field


class OutboundRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What to dial. ``leg_id`` is the channel id and the trunk line's lease: one leg, one line, one channel."""

    leg_id: str
    number: PhoneNumber
    trunks: tuple[str, ...]  # in preference order; the first with a free line carries the call
    caller_id: str = ""  # E.164 shown to the far end; empty: the trunk's own
    caller_name: str = ""
    ring_seconds: int = 30
    variables: dict[str, str] = {}
    app_args: tuple[str, ...] = ()  # the owner's, after ("outbound", leg_id) in StasisStart's args

    def check(self) -> None:
        """Raises InvalidRequest naming the field at fault; the runtime calls it before taking a line."""
        if not _TOKEN.fullmatch(self.leg_id):
            raise InvalidRequest("leg_id", "use 1-64 letters, digits and '_.+:-'")
        if not E164.fullmatch(self.number.e164):
            raise InvalidRequest("number", "build it with parse_number")
        if not self.trunks:
            raise InvalidRequest("trunks", "name at least one trunk")
        if self.caller_id:
            try:
                if parse_number(self.caller_id, "US").e164 != self.caller_id:
                    raise InvalidRequest("caller_id", "give it in E.164 form (+<country><number>)")
            except InvalidNumber as exc:
                raise InvalidRequest("caller_id", str(exc)) from None
        if _NAME_FORBIDDEN.search(self.caller_name) or len(self.caller_name) > 64:
            raise InvalidRequest("caller_name", "at most 64 characters, no quotes, '<', '>', '\\' or controls")
        if not 1 <= self.ring_seconds <= 300:
            raise InvalidRequest("ring_seconds", "between 1 and 300")
        for name, value in self.variables.items():
            if not _VARIABLE.fullmatch(name):
                raise InvalidRequest("variables", f"{name[:64]!r} is not a channel variable name")
            if _VALUE_FORBIDDEN.search(value) or len(value) > 256:
                raise InvalidRequest("variables", f"{name}: at most 256 characters, no control characters")
        for arg in self.app_args:
            if not _TOKEN.fullmatch(arg):
                raise InvalidRequest("app_args", f"{arg[:64]!r}: use 1-64 letters, digits and '_.+:-'")

    @property
    def stasis_args(self) -> tuple[str, ...]:
        return ("outbound", self.leg_id, *self.app_args)

    @property
    def caller(self) -> str:
        """The callerId query value: '"name" <number>', or the number alone."""
        if self.caller_name and self.caller_id:
            return f'"{self.caller_name}" <{self.caller_id}>'
        return self.caller_id


# ---- what the owner hears ------------------------------------------------------------------------------------


class Answered(msgspec.Struct, frozen=True, tag="answered"):
    leg_id: str
    trunk: str


class NoAnswer(msgspec.Struct, frozen=True, tag="no_answer"):
    leg_id: str


class Busy(msgspec.Struct, frozen=True, tag="busy"):
    leg_id: str


class Failed(msgspec.Struct, frozen=True, tag="failed"):
    leg_id: str
    reason: str  # "no free line", "refused", a dial status ("CONGESTION"), or "cause"
    cause: int | None = None


class Ended(msgspec.Struct, frozen=True, tag="ended"):
    """An answered leg hung up (the far end, or us)."""

    leg_id: str
    cause: int | None = None


NotReached = NoAnswer | Busy | Failed
LegEvent = Answered | NoAnswer | Busy | Failed | Ended


def not_reached(leg_id: str, dialstatus: str, cause: int | None) -> NotReached:
    """Why a leg that never came up ended, from the Dial status Asterisk reported (if any) and the hang-up cause."""
    if dialstatus == "NOANSWER" or (not dialstatus and cause in _NO_ANSWER_CAUSES):
        return NoAnswer(leg_id)
    if dialstatus == "BUSY" or (not dialstatus and cause == CAUSE_BUSY):
        return Busy(leg_id)
    return Failed(leg_id, dialstatus or "cause", cause)


# ---- the leg's life ------------------------------------------------------------------------------------------

LegState = Literal["dialing", "answered", "over"]


class OutboundLeg:
    """One leg's state; each input returns the event to hand its owner, or None when it changes nothing."""

    def __init__(self, request: OutboundRequest, trunk: str) -> None:
        self.request = request
        self.trunk = trunk
        self.state: LegState = "dialing"
        self.dialstatus = ""

    @property
    def leg_id(self) -> str:
        return self.request.leg_id

    def up(self) -> Answered | None:
        if self.state != "dialing":
            return None
        self.state = "answered"
        return Answered(self.leg_id, self.trunk)

    def dial_status(self, status: str) -> None:
        if self.state == "dialing" and status not in ("", "RINGING", "PROGRESS", "PROCEEDING", "ANSWER"):
            self.dialstatus = status

    def cancel(self) -> None:
        """The owner hangs the leg up: if it is still ringing, its end reads as Dial()'s CANCEL."""
        if self.state == "dialing":
            self.dialstatus = "CANCEL"

    def gone(self, cause: int | None) -> LegEvent | None:
        state, self.state = self.state, "over"
        if state == "dialing":
            return not_reached(self.leg_id, self.dialstatus, cause)
        if state == "answered":
            return Ended(self.leg_id, cause)
        return None

    def refused(self, reason: str) -> Failed | None:
        if self.state != "dialing":
            return None
        self.state = "over"
        return Failed(self.leg_id, reason)
