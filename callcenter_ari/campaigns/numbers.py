"""A phone cell of a lead list, as people type them, to an E.164 number and the time zone the number tells.

Cells come out of Excel: full-width digits from a Chinese input method, a leading apostrophe that marks text,
"13800138000.0" from a number column, spaces, dashes and brackets. Those are tidied; anything else that is not a
digit, a leading '+' or one of the separators ' -.()' rejects the row, because a cell is data and never part of
a dial string ('100@other-context', 'PJSIP/x', 'Local/...', '123&456'). What is left is parsed and validated by
phonenumbers in the campaign's region (international forms such as '+86...' or '0086...' are read as such).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, region_code_for_country_code
from phonenumbers import timezone as number_zones
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from callcenter_ari.trunks.phone import E164

_SEPARATORS = re.compile(r"[ \-.()\u00a0]")
_SCREEN = re.compile(r"\+?[0-9(][0-9 \-.()]{0,39}")
_EXCEL_FLOAT = re.compile(r"([0-9]{5,20})\.0+")
_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?[eE]\+?[0-9]{1,3}")
_UNKNOWN_ZONE = number_zones.UNKNOWN_TIMEZONE
_UNKNOWN = phonenumbers.PhoneNumberType.UNKNOWN


class BadNumber(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "no_number", "not_a_number", "scientific", "invalid_number"


def read_number(cell: str, region: str) -> tuple[str, str]:
    """The E.164 form of ``cell`` and the zone its number belongs to ("" when it spans several). Raises
    BadNumber with the reason."""
    text = tidy(cell)
    if not text:
        raise BadNumber("no_number", "the phone cell is empty")
    if _SCIENTIFIC.fullmatch(text):
        raise BadNumber(
            "scientific", f"{text!r} is how Excel shows a long number: the digits are lost; format the column as text"
        )
    if not _SCREEN.fullmatch(text):
        bad = next((ch for ch in text if not (ch.isdigit() or ch in "+ -.()")), text[:1])
        raise BadNumber("not_a_number", f"{cell[:40]!r} is not a phone number: {bad!r} cannot be part of one")
    if not region and not text.startswith("+"):
        raise BadNumber("invalid_number", f"{cell[:40]!r}: a national number, and no region to read it in")
    # number_type is UNKNOWN exactly when the number is not valid; then parse has the last word.
    fast = plain(text, region)
    kind = phonenumbers.number_type(fast) if fast is not None else _UNKNOWN
    if fast is not None and kind != _UNKNOWN:
        parsed = fast
    else:
        try:
            parsed = phonenumbers.parse(text, region or None)
        except phonenumbers.NumberParseException as exc:
            raise BadNumber("invalid_number", f"{cell[:40]!r}: {exc}") from None
        kind = phonenumbers.number_type(parsed)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if kind == _UNKNOWN or not E164.fullmatch(e164):
        raise BadNumber("invalid_number", f"{cell[:40]!r} is not a valid number in {region or 'any country'}")
    if phonenumbers.is_number_type_geographical(kind, parsed.country_code or 0):
        return e164, _geographic_zone(e164[1 : 1 + TIMEZONE_LONGEST_PREFIX])
    return e164, _country_zone(parsed.country_code or 0)


def plain(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    """The number phonenumbers.parse would make of a plain one, a few times faster; None when it is not plain.

    Plain: '+' and a country code, or a national number of ``region``, whose digits after the country code begin
    with neither a 0 (Italian-style leading zeros), an international prefix (00...) nor anything the region's
    national-prefix rule would strip. Such a number is read by parse exactly as split here; the caller keeps the
    result only when it is valid, and anything else goes through parse, so nothing is read differently
    (tests/campaigns/test_numbers.py checks both agree).
    """
    number = digits(text)
    plus = number.startswith("+")
    number = number[1:] if plus else number
    if not (number.isascii() and number.isdigit()) or not 2 <= len(number) <= 17:
        return None
    if plus:
        if number.startswith("0"):
            return None  # no country code starts with 0
        code = next((int(number[:n]) for n in (1, 2, 3) if int(number[:n]) in COUNTRY_CODE_TO_REGION_CODE), 0)
        metadata = (
            PhoneMetadata.metadata_for_region_or_calling_code(code, region_code_for_country_code(code))
            if code
            else None
        )
        national = number[len(str(code)) :]
    else:
        metadata = PhoneMetadata.metadata_for_region(region) if region else None
        if metadata is None or _starts(metadata.international_prefix, number):
            return None
        code, national = metadata.country_code or 0, number
    if metadata is None or national.startswith("0") or len(national) < 2:
        return None
    if _starts(metadata.national_prefix_for_parsing, national):
        return None
    return phonenumbers.PhoneNumber(country_code=code, national_number=int(national))


def _starts(pattern: str | None, number: str) -> bool:
    return bool(pattern) and _compiled(pattern or "").match(number) is not None


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def tidy(cell: str) -> str:
    """Full-width forms folded (NFKC), Excel's text apostrophe and float tail removed, separators kept."""
    text = unicodedata.normalize("NFKC", cell).strip().lstrip("'").strip()
    whole = _EXCEL_FLOAT.fullmatch(text)
    return whole.group(1) if whole else text


def digits(text: str) -> str:
    return _SEPARATORS.sub("", text)


@lru_cache(maxsize=8192)
def _geographic_zone(prefix: str) -> str:
    """The zone for the longest known prefix of the number; phonenumbers looks at no more digits than this, so
    the prefix is an exact key and a list of a million numbers does a few thousand look-ups."""
    for length in range(len(prefix), 0, -1):
        zones = TIMEZONE_DATA.get(prefix[:length])
        if zones is not None:
            return _single(zones)
    return ""


@lru_cache(maxsize=512)
def _country_zone(country_code: int) -> str:
    return _geographic_zone(str(country_code))


def _single(zones: tuple[str, ...]) -> str:
    return zones[0] if len(zones) == 1 and zones[0] != _UNKNOWN_ZONE else ""
