"""Trunk definitions as they appear in the app's TOML under `[trunks.<name>]`.

The `<name>` is the `<source>` that the dialplan passes in `Stasis(callcenter,inbound,<source>,<did>)`, so inbound
calls and outbound capacity refer to the same trunk. A DAHDI trunk's capacity defaults to what its hardware
carries (30 lines per E1 PRI span, 23 per T1 PRI span, 1 per analog port) so that it matches the trunk group
that `callcenter-ari dahdi genconf` built.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec

from callcenter_ari.trunks.phone import InvalidNumber, NumberFormat, check_region, parse_number

LINES_PER_UNIT: dict[str, int] = {"e1_pri": 30, "t1_pri": 23, "analog": 1}

# A PJSIP section name ends up between '@' and the end of a dial string: keep it to plain identifier characters.
_ENDPOINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")

Lines = Annotated[int, msgspec.Meta(ge=1, le=10_000)]


class _Trunk(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="kind"):
    # Region used to read national numbers (ISO 3166: "US", "DE") and to format numbers sent as "national".
    region: str
    caller_id: str | None = None

    def __post_init__(self) -> None:
        # msgspec reports a ValueError raised here at the struct's path; name the field in the message.
        try:
            check_region(self.region)
        except InvalidNumber as exc:
            raise ValueError(f"region: {exc}") from None
        if self.caller_id is not None:
            try:
                parse_number(self.caller_id, self.region)
            except InvalidNumber as exc:
                raise ValueError(f"caller_id: {exc}") from None


class PjsipTrunk(_Trunk, tag="pjsip", frozen=True):
    """A SIP provider reached through a PJSIP endpoint of that name in pjsip.conf."""

    endpoint: str
    # Channels the provider contract allows at once; there is no hardware to derive it from.
    capacity: Lines
    number_format: NumberFormat = "e164"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not _ENDPOINT.fullmatch(self.endpoint):
            raise ValueError(f"endpoint: {self.endpoint!r}: use only letters, digits, '_', '.', '-'")

    @property
    def lines(self) -> int:
        return self.capacity


class DahdiTrunk(_Trunk, tag="dahdi", frozen=True):
    """A DAHDI trunk group (`group = N` in chan_dahdi.conf), dialled as `DAHDI/g<N>/<number>`."""

    group: Annotated[int, msgspec.Meta(ge=0, le=63)]
    interface: Literal["e1_pri", "t1_pri", "analog"]
    # Spans for a PRI interface, ports for analog.
    units: Lines = 1
    # Overrides the hardware default, e.g. when a provider licenses fewer channels than the span has.
    capacity: Lines | None = None
    number_format: NumberFormat = "national"

    @property
    def lines(self) -> int:
        if self.capacity is not None:
            return self.capacity
        return LINES_PER_UNIT[self.interface] * self.units


TrunkConfig = PjsipTrunk | DahdiTrunk


def capacities(trunks: dict[str, TrunkConfig]) -> dict[str, int]:
    """Lines per trunk name, ready for `LineLedger`."""
    return {name: trunk.lines for name, trunk in trunks.items()}
