"""Leg ids: every channel a call dials is named after the call, so any process can tell whose a channel is.

A call's caller channel is Asterisk's; the legs it dials are ``<call>-<kind><n>``: ``a`` an agent, ``t`` a
transfer's target, ``c`` a consultation. ``n`` counts every leg the call ever dialled (``CallRecord.offers``), so a
late event of an earlier leg is never taken for the current one's, and the ids of every leg a call may have up are
known from the record alone: after a restart, when freeing its trunk lines, when forgetting its channels.
"""

from __future__ import annotations

from typing import Literal

LegKind = Literal["a", "t", "c"]
AGENT: LegKind = "a"
TRANSFER: LegKind = "t"
CONSULT: LegKind = "c"
KINDS: tuple[LegKind, ...] = (AGENT, TRANSFER, CONSULT)


def leg_id(call_id: str, kind: LegKind, n: int) -> str:
    """The id of a call's ``n``-th dialled leg."""
    return f"{call_id}-{kind}{n}"


def every_leg(call_id: str, dialled: int) -> list[str]:
    """Every id a leg of the call may have, for a call that dialled ``dialled`` legs."""
    return [leg_id(call_id, kind, n) for n in range(1, dialled + 1) for kind in KINDS]


def call_of(channel_id: str) -> str:
    """The call id an id of ours starts with (a leg, a playback, a recording segment)."""
    return channel_id.split("-", 1)[0]
