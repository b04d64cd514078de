"""Phone numbers: the only way a string from a CSV, an API call or a CRM becomes something we may dial.

The raw text is screened first (digits, one leading '+', and the usual separators: space, '-', '.', '(', ')'),
because `phonenumbers.parse` is lenient on purpose: it digs a number out of "call 202-555-0123 now" and reads
letters as keypad digits. Whatever survives is parsed, must be a valid number for its country, and is kept in
E.164 form only.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec
import phonenumbers

# Longest E.164 number is 15 digits; allow room for separators and a national trunk prefix.
_RAW = re.compile(r"\+?[0-9(][0-9 ().\-]{1,30}")
E164 = re.compile(r"\+[1-9][0-9]{1,14}")

NumberFormat = Literal["e164", "national"]


class InvalidNumber(ValueError):
    """The text is not a valid, dialable phone number."""


class PhoneNumber(msgspec.Struct, frozen=True):
    """A validated number. Build it with `parse_number`, never by hand."""

    e164: str

    def digits_for(self, fmt: NumberFormat, region: str) -> str:
        """The number as a trunk in `region` wants it: '+<E.164>', or as dialled from inside `region`
        (national format for domestic numbers, international prefix for the rest)."""
        if not E164.fullmatch(self.e164):
            raise InvalidNumber(f"{self.e164!r} was not built by parse_number")
        if fmt == "e164":
            return self.e164
        parsed = phonenumbers.parse(self.e164, None)
        if phonenumbers.region_code_for_number(parsed) == region:
            text = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        else:
            text = phonenumbers.format_out_of_country_calling_number(parsed, region)
        # A '+' here means the region has no single international prefix to dial abroad with.
        digits = re.sub(r"[^0-9]", "", text)
        if text.startswith("+") or not digits:
            raise InvalidNumber(f"{self.e164} has no dialable form from {region}")
        return digits


def check_region(region: str) -> None:
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidNumber(f"unknown region {region!r} (use an ISO 3166 code such as 'US' or 'DE')")


def parse_number(raw: str, default_region: str) -> PhoneNumber:
    """Validate `raw` (national numbers read as in `default_region`) and normalise it to E.164."""
    check_region(default_region)
    if not _RAW.fullmatch(raw):
        raise InvalidNumber(f"{raw[:40]!r}: only digits, a leading '+' and the separators ' -.()' are allowed")
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(f"{raw!r}: {exc}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(f"{raw!r} is not a valid number in {default_region} or abroad")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not E164.fullmatch(e164):
        raise InvalidNumber(f"{raw!r} has no E.164 form")
    return PhoneNumber(e164)
