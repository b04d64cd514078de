"""Cross-field checks: what decodes fine but the hardware, dahdi_cfg or chan_dahdi would reject or get wrong.

Errors refuse the description; warnings are printed and let it through (a span kept unused on purpose is fine,
a free-running clock is only a risk).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import msgspec

from callcenter_ari.dahdi.layout import SIGNALLING_SLOT, member_ports, spans_in_order
from callcenter_ari.dahdi.model import AnalogSpan, Cards, DigitalSpan

NORTH_AMERICAN_SWITCHES = {"national", "ni2", "ni1", "dms100", "4ess", "5ess"}
RESERVED_CONTEXTS = {"general", "globals", "default"}


class Report(msgspec.Struct, frozen=True):
    errors: tuple[str, ...]
    warnings: tuple[str, ...]


def validate(cards: Cards) -> Report:
    errors = [
        *_span_numbering(cards),
        *(e for i, s in enumerate(cards.span) for e in _digital(f"span[{i}]", s)),
        *(e for i, s in enumerate(cards.analog) for e in _analog(f"analog[{i}]", s)),
        *_timing(cards),
        *_echo(cards),
        *_groups(cards),
    ]
    return Report(tuple(errors), tuple(_warnings(cards)))


def _span_numbering(cards: Cards) -> Iterator[str]:
    numbers = [s.span for s in spans_in_order(cards)]
    for number, seen in Counter(numbers).items():
        if seen > 1:
            yield f"span {number}: declared {seen} times (span[] and analog[] share one numbering)"
    if sorted(set(numbers)) != list(range(1, len(set(numbers)) + 1)):
        yield (
            f"spans {sorted(set(numbers))}: DAHDI numbers spans 1..N with no gap, in driver order; "
            "copy the numbers from dahdi_scan"
        )


def _digital(path: str, span: DigitalSpan) -> Iterator[str]:
    where = f"{path} (span {span.span}, {span.type})"
    if span.type == "E1":
        if span.coding == "b8zs":
            yield f"{where}.coding: b8zs is T1 line coding; an E1 uses hdb3 (or ami)"
        if span.framing not in ("ccs", "cas"):
            yield f"{where}.framing: {span.framing} is T1 framing; an E1 uses ccs (PRI) or cas (MFC/R2)"
        if span.lbo != 0:
            yield f"{where}.lbo: an E1 has no line build-out; set 0"
    else:
        if span.coding == "hdb3":
            yield f"{where}.coding: hdb3 is E1 line coding; a T1 uses b8zs (or ami)"
        if span.framing not in ("esf", "d4"):
            yield f"{where}.framing: {span.framing} is E1 framing; a T1 uses esf (or d4)"
        if span.crc4:
            yield f"{where}.crc4: CRC-4 exists on E1 only; a T1 checks with ESF's CRC-6"
    if span.signalling == "mfcr2":
        yield from _mfcr2(where, span)
    else:
        yield from _pri(where, span)


def _pri(where: str, span: DigitalSpan) -> Iterator[str]:
    if span.type == "E1" and span.framing == "cas":
        yield f"{where}.framing: PRI on an E1 needs ccs framing (cas is for MFC/R2)"
    if span.type == "T1" and span.framing == "d4":
        yield f"{where}.framing: PRI on a T1 needs esf framing (d4 is for robbed-bit signalling)"
    if span.switchtype is None:
        yield f"{where}.switchtype: required for {span.signalling} (euroisdn, national, dms100, 4ess, 5ess, qsig...)"
    elif span.type == "E1" and span.switchtype in NORTH_AMERICAN_SWITCHES:
        yield f"{where}.switchtype: {span.switchtype} is a North American T1 switch; an E1 PRI uses euroisdn or qsig"
    slot = SIGNALLING_SLOT[span.type]
    if span.dchan is not None and span.dchan != slot:
        yield f"{where}.dchan: the D-channel of {_a(span.type)} PRI is timeslot {slot}, not {span.dchan}"
    if span.mfcr2_variant is not None:
        yield f"{where}.mfcr2_variant: only for signalling = mfcr2"


def _mfcr2(where: str, span: DigitalSpan) -> Iterator[str]:
    if span.type != "E1":
        yield f"{where}.signalling: MFC/R2 runs on E1 only"
    elif span.framing != "cas":
        yield f"{where}.framing: MFC/R2 signals in timeslot 16 with CAS; set framing = cas"
    if span.switchtype is not None:
        yield f"{where}.switchtype: ISDN switch types do not apply to MFC/R2"
    if span.dchan is not None:
        yield f"{where}.dchan: MFC/R2 has no D-channel (timeslot 16 carries CAS bits)"
    if span.mfcr2_variant is None:
        yield f"{where}.mfcr2_variant: required for MFC/R2 (itu, ar, br, mx, ph, ...)"


def _analog(path: str, span: AnalogSpan) -> Iterator[str]:
    where = f"{path} (span {span.span})"
    listed = [*span.fxs, *span.fxo]
    for port, seen in Counter(listed).items():
        if seen > 1:
            yield f"{where}: port {port} is listed {seen} times across fxs and fxo"
    for port in sorted(set(listed)):
        if port > span.ports:
            yield f"{where}: port {port} does not exist on a {span.ports}-port card"
    for key in span.line_numbers:
        if not key.isdigit() or int(key) not in span.fxo:
            yield f"{where}.line_numbers.{key}: not an FXO port of this card (only lines have numbers)"
    if not listed:
        yield f"{where}: no port is declared fxs or fxo"


def _timing(cards: Cards) -> Iterator[str]:
    used = Counter(s.timing for s in cards.span if s.timing > 0)
    for priority, seen in sorted(used.items()):
        if seen > 1:
            spans = [s.span for s in cards.span if s.timing == priority]
            yield f"spans {spans}: share timing priority {priority}; give each clock source its own rank"


def _echo(cards: Cards) -> Iterator[str]:
    taps = cards.echo.taps
    if taps not in (32, 64, 128, 256):
        yield f"echo.taps: {taps} is not a power of two from 32 to 256"


def _groups(cards: Cards) -> Iterator[str]:
    digital = {s.span: s for s in cards.span}
    analog = {s.span: s for s in cards.analog}
    for key in ("number", "name", "context"):
        for value, seen in Counter(getattr(g, key) for g in cards.group).items():
            if seen > 1:
                yield f"group.{key}: {value!r} is used by {seen} groups"
    owner: dict[tuple[int, int], str] = {}
    for i, group in enumerate(cards.group):
        where = f"group[{i}] ({group.name})"
        if group.context in RESERVED_CONTEXTS:
            yield f"{where}.context: {group.context!r} is reserved; name the context after the group"
        if not group.members:
            yield f"{where}.members: a group needs at least one span or port"
        roles: set[str] = set()
        for j, member in enumerate(group.members):
            mwhere = f"{where}.members[{j}]"
            if member.span in digital:
                if member.ports is not None:
                    yield f"{mwhere}.ports: span {member.span} is digital; a group takes all its B-channels"
                roles.add("digital")
                slots = [(member.span, 0)]
            elif member.span in analog:
                card = analog[member.span]
                ports = member_ports(card, member)
                for port in ports:
                    if port not in card.fxs and port not in card.fxo:
                        yield f"{mwhere}.ports: port {port} of span {member.span} is not declared fxs or fxo"
                roles.update("fxs" if p in card.fxs else "fxo" for p in ports if p in card.fxs or p in card.fxo)
                slots = [(member.span, p) for p in ports]
            else:
                yield f"{mwhere}.span: no span {member.span} is declared"
                continue
            for slot in slots:
                if slot in owner:
                    yield f"{mwhere}: {_slot_name(slot)} is already in {owner[slot]}"
                owner[slot] = f"group {group.number} ({group.name})"
        if len(roles) > 1:
            yield (
                f"{where}: mixes {' and '.join(sorted(roles))} channels; calls from phones (fxs), lines (fxo) "
                "and PRI spans enter the dialplan differently, so give each its own group"
            )


def _slot_name(slot: tuple[int, int]) -> str:
    span, port = slot
    return f"span {span}" if port == 0 else f"port {port} of span {span}"


def _warnings(cards: Cards) -> Iterator[str]:
    grouped = {(m.span, p) for g in cards.group for m in g.members for p in (m.ports or (0,))}
    grouped_spans = {m.span for g in cards.group for m in g.members if m.ports is None}
    for span in cards.span:
        if span.signalling == "pri_net" and span.timing > 0:
            yield (
                f"span {span.span}: pri_net provides the clock to the far end; timing {span.timing} makes "
                "DAHDI take its clock from a device that usually has none (use 0 unless it is clocked)"
            )
        if span.span not in grouped_spans:
            yield f"span {span.span}: in no group, so chan_dahdi will not use it"
    if any(s.signalling != "pri_net" for s in cards.span) and not any(s.timing > 0 for s in cards.span):
        yield "no span has timing > 0: DAHDI free-runs and a carrier line will see slips"
    for card in cards.analog:
        for port in sorted({*card.fxs, *card.fxo}):
            if card.span not in grouped_spans and (card.span, port) not in grouped:
                yield f"span {card.span} port {port}: in no group, so chan_dahdi will not use it"


def _a(line: str) -> str:
    return f"an {line}" if line == "E1" else f"a {line}"
