"""Phone cells to E.164: the fast reading of plain numbers agrees with phonenumbers.parse wherever it answers,
and a cell that is not a number is never read as one."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_ari.campaigns.numbers import BadNumber, plain, read_number

REGIONS = ["CN", "US", "GB", "DE", "IT", "AR", "MX", "JP", "IN", "BR", "FR", "RU", "AU", "HK", "TW", "SG"]
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]


def examples() -> list[tuple[str, str]]:
    """Every region's example numbers of every type, written in each format, read in several regions."""
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            for fmt in FORMATS:
                out.append((phonenumbers.format_number(number, fmt), region))
                out.append((phonenumbers.format_number(number, fmt), "CN"))
    return out


def agrees(text: str, region: str) -> None:
    fast = plain(text, region)
    if fast is None or phonenumbers.number_type(fast) == phonenumbers.PhoneNumberType.UNKNOWN:
        return  # not taken: parse reads it
    parsed = phonenumbers.parse(text, region)
    assert (fast.country_code, fast.national_number, bool(fast.italian_leading_zero)) == (
        parsed.country_code,
        parsed.national_number,
        bool(parsed.italian_leading_zero),
    ), (text, region)


def test_the_fast_reading_agrees_with_parse_on_every_regions_example_numbers() -> None:
    for text, region in examples():
        agrees(text, region)


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(["", "+", "00", "0", "1", "86", "0086", "+86", "+1", "+44", "+39", "+54 9", "011"]),
    st.text(alphabet="0123456789", min_size=4, max_size=14),
    st.sampled_from(REGIONS),
)
def test_the_fast_reading_agrees_with_parse_on_generated_digits(prefix: str, body: str, region: str) -> None:
    agrees(prefix + body, region)


@pytest.mark.parametrize(
    ("cell", "region", "number", "zone"),
    [
        ("13800138000", "CN", "+8613800138000", "Asia/Shanghai"),
        ("+86 138-0013-8000", "US", "+8613800138000", "Asia/Shanghai"),
        ("0086 138 0013 8000", "CN", "+8613800138000", "Asia/Shanghai"),
        ("8613800138000", "CN", "+8613800138000", "Asia/Shanghai"),  # the country code without a plus
        ("(021) 6123-4567", "CN", "+862161234567", "Asia/Shanghai"),
        ("\uff11\uff13\uff18\uff10\uff10\uff11\uff13\uff18\uff10\uff10\uff10", "CN", "+8613800138000", "Asia/Shanghai"),
        ("'13800138000", "CN", "+8613800138000", "Asia/Shanghai"),
        ("13800138000.0", "CN", "+8613800138000", "Asia/Shanghai"),
        ("(212) 555-0123", "US", "+12125550123", "America/New_York"),
        ("1-800-555-0199", "US", "+18005550199", ""),  # toll-free: no single zone
        ("06 12 34 56 78", "FR", "+33612345678", "Europe/Paris"),
        ("+39 02 1234 5678", "CN", "+390212345678", "Europe/Rome"),  # Italy keeps its leading zero
        ("020 7946 0958", "GB", "+442079460958", "Europe/London"),
    ],
)
def test_numbers_as_people_type_them(cell: str, region: str, number: str, zone: str) -> None:
    assert read_number(cell, region) == (number, zone)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("100@other-context", "not_a_number"),
        ("PJSIP/x", "not_a_number"),
        ("Local/100@from-internal", "not_a_number"),
        ("123&456", "not_a_number"),
        ("138001380,00", "not_a_number"),
        ("13800138000;ext=1", "not_a_number"),
        ("tel:+8613800138000", "not_a_number"),
        ("1.38E+10", "scientific"),
        ("", "no_number"),
        ("12345", "invalid_number"),
        ("+999 123456", "invalid_number"),
    ],
)
def test_a_cell_that_is_not_a_number_is_rejected_with_the_reason(cell: str, reason: str) -> None:
    with pytest.raises(BadNumber) as bad:
        read_number(cell, "CN")
    assert bad.value.reason == reason
