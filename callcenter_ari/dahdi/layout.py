"""Channel numbering, done the way DAHDI does it.

DAHDI numbers spans in the order the drivers register them and numbers channels consecutively across spans:
span 1 (an E1) owns channels 1-31, span 2 then starts at 32. An E1 span has 31 timeslots, the D-channel in 16
(PRI) or CAS signalling there (MFC/R2); a T1 has 24, the D-channel in 24. An analog span has one channel per port.
`dahdi_scan` shows each span's `basechan`, which must match what is computed here.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from callcenter_ari.dahdi.model import AnalogSpan, Cards, DigitalSpan, Group, Member

# How a group's calls enter the dialplan: digital spans and FXO lines are trunks, FXS ports are phones.
Role = Literal["digital", "fxo", "fxs"]

TIMESLOTS = {"E1": 31, "T1": 24}
SIGNALLING_SLOT = {"E1": 16, "T1": 24}


class SpanChannels(msgspec.Struct, frozen=True):
    span: int
    first: int
    count: int
    # Channels that carry calls: B-channels on PRI, every timeslot but 16 on MFC/R2, every port on analog.
    bearer: tuple[int, ...]
    dchan: int | None


def spans_in_order(cards: Cards) -> list[DigitalSpan | AnalogSpan]:
    return sorted([*cards.span, *cards.analog], key=lambda s: s.span)


def number_channels(cards: Cards) -> dict[int, SpanChannels]:
    """Absolute channels per span number; assumes span numbers are 1..N (validate checks that first)."""
    layout: dict[int, SpanChannels] = {}
    first = 1
    for span in spans_in_order(cards):
        layout[span.span] = _span_channels(span, first)
        first += layout[span.span].count
    return layout


def _span_channels(span: DigitalSpan | AnalogSpan, first: int) -> SpanChannels:
    if isinstance(span, AnalogSpan):
        ports = sorted({*span.fxs, *span.fxo})
        return SpanChannels(span.span, first, span.ports, tuple(first + p - 1 for p in ports), None)
    count = TIMESLOTS[span.type]
    slot = first + SIGNALLING_SLOT[span.type] - 1
    bearer = tuple(ch for ch in range(first, first + count) if ch != slot)
    dchan = slot if span.signalling != "mfcr2" else None
    return SpanChannels(span.span, first, count, bearer, dchan)


def member_ports(card: AnalogSpan, member: Member) -> tuple[int, ...]:
    return member.ports if member.ports is not None else tuple(sorted({*card.fxs, *card.fxo}))


def group_role(cards: Cards, group: Group) -> Role:
    """The role of a validated group (validate refuses groups that mix roles)."""
    first = group.members[0]
    for card in cards.analog:
        if card.span == first.span:
            return "fxs" if member_ports(card, first)[0] in card.fxs else "fxo"
    return "digital"


def group_channels(cards: Cards, layout: dict[int, SpanChannels], group: Group) -> list[int]:
    """The bearer channels of a validated group: its capacity in simultaneous calls."""
    analog = {card.span: card for card in cards.analog}
    channels: list[int] = []
    for member in group.members:
        if member.span in analog:
            channels += [port_channel(layout, member.span, p) for p in member_ports(analog[member.span], member)]
        else:
            channels += layout[member.span].bearer
    return channels


def port_channel(layout: dict[int, SpanChannels], span: int, port: int) -> int:
    return layout[span].first + port - 1


def ranges(channels: list[int] | tuple[int, ...]) -> str:
    """'1-15,17-31' from [1..15, 17..31], the list syntax of system.conf and chan_dahdi.conf."""
    parts: list[str] = []
    ordered = sorted(channels)
    start = prev = ordered[0]
    for ch in ordered[1:]:
        if ch != prev + 1:
            parts.append(f"{start}-{prev}" if prev > start else str(start))
            start = ch
        prev = ch
    parts.append(f"{start}-{prev}" if prev > start else str(start))
    return ",".join(parts)
