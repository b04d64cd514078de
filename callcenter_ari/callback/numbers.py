"""The number a callback is placed to, as the caller confirms it or keys it in: checked against the number plan.

A number keyed in (digits) or sent through the API (digits, a leading '+', the usual separators) is screened and
parsed by ``trunks.parse_number``: read as a national number of the plan's region, or as an international one.
It must be valid and belong to one of the plan's regions, and must not be a premium-rate, shared-cost or unknown
kind of number: a caller cannot make the call center ring a paid line. Only then does it become a
``PhoneNumber``, the only thing a dial string is built from.
"""

from __future__ import annotations

import msgspec
import phonenumbers

from callcenter_ari.trunks.phone import InvalidNumber, PhoneNumber, check_region, parse_number

_REFUSED_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UNKNOWN,
    }
)


class NumberPlan(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    region: str = "US"  # how a national number keyed in is read (ISO 3166)
    regions: tuple[str, ...] = ()  # where callbacks may go; empty: ``region`` only

    def __post_init__(self) -> None:
        for region in (self.region, *self.regions):
            try:
                check_region(region)
            except InvalidNumber as exc:
                raise ValueError(f"region: {exc}") from None

    @property
    def allowed(self) -> tuple[str, ...]:
        return self.regions or (self.region,)


def callback_number(text: str, plan: NumberPlan) -> PhoneNumber:
    """``text`` (digits keyed in, or the caller's own number as the trunk gave it) as a number a callback may go
    to; raises InvalidNumber saying why not."""
    number = parse_number(text.strip(), plan.region)
    parsed = phonenumbers.parse(number.e164, None)
    region = phonenumbers.region_code_for_number(parsed)
    if region not in plan.allowed:
        raise InvalidNumber(f"{number.e164} is outside the regions callbacks go to ({', '.join(plan.allowed)})")
    if phonenumbers.number_type(parsed) in _REFUSED_TYPES:
        raise InvalidNumber(f"{number.e164} is a premium-rate, shared-cost or unknown kind of number")
    return number
