"""Dial strings carry only validated numbers, in the form each trunk expects."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_ari.trunks import (
    DahdiTrunk,
    InvalidNumber,
    PhoneNumber,
    PjsipTrunk,
    dial_string,
    parse_number,
)
from callcenter_ari.trunks.dialstring import Unreachable, agent_device

PJSIP_US = PjsipTrunk(endpoint="provider1", capacity=10, region="US")
DAHDI_DE = DahdiTrunk(group=2, interface="e1_pri", region="DE")


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(202) 555-0123", "US", "+12025550123"),
        ("202.555.0123", "US", "+12025550123"),
        ("+1 202 555 0123", "DE", "+12025550123"),
        ("030 12345678", "DE", "+493012345678"),
        ("+44 20 7946 0958", "US", "+442079460958"),
    ],
)
def test_numbers_normalise_to_e164(raw: str, region: str, e164: str) -> None:
    """National numbers are read in the trunk's region; international ones keep their country."""
    assert parse_number(raw, region) == PhoneNumber(e164)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "911",
        "112",
        "12",
        "call 202-555-0123",
        "1-800-FLOWERS",
        "2025550123&DAHDI/g1/1",
        "202555@0123",
        "+1 202 555 0123 x12",
        "2025550123,t",
        "+ 202",
        "++12025550123",
        "2025550123\n",
    ],
)
def test_unusable_text_is_refused(raw: str) -> None:
    """Short codes, letters, dial-string metacharacters and junk never become a PhoneNumber."""
    with pytest.raises(InvalidNumber):
        parse_number(raw, "US")


def test_unknown_region_is_refused() -> None:
    """A typo in the default region is an error, not a silent fallback."""
    with pytest.raises(InvalidNumber, match="unknown region"):
        parse_number("2025550123", "UK")


def test_pjsip_dial_string_targets_the_endpoint_in_e164() -> None:
    """PJSIP/<number>@<endpoint>: the number becomes the Request-URI user part."""
    assert dial_string(PJSIP_US, parse_number("202-555-0123", "US")) == "PJSIP/+12025550123@provider1"


def test_dahdi_dial_string_uses_the_group_and_national_format() -> None:
    """DAHDI/g<N>/<number>: a domestic number is sent as dialled inside the country."""
    assert dial_string(DAHDI_DE, parse_number("+49 30 12345678", "DE")) == "DAHDI/g2/03012345678"


def test_dahdi_dial_string_prefixes_foreign_numbers_with_the_international_prefix() -> None:
    """From Germany a US number is dialled 00 1 ..."""
    assert dial_string(DAHDI_DE, parse_number("+1 202 555 0123", "DE")) == "DAHDI/g2/0012025550123"


def test_us_trunk_sends_domestic_numbers_as_ten_digits() -> None:
    """A national-format T1 gets the 10-digit NANP number, not the +1 form."""
    t1 = DahdiTrunk(group=1, interface="t1_pri", region="US")
    assert dial_string(t1, parse_number("+1 202 555 0123", "US")) == "DAHDI/g1/2025550123"


def test_hand_built_number_is_refused_at_dial_time() -> None:
    """A PhoneNumber not made by parse_number cannot smuggle text into a dial string."""
    forged = PhoneNumber("+1202&Local/x")
    with pytest.raises(InvalidNumber):
        dial_string(PJSIP_US, forged)


def number_part(dial: str) -> str:
    if dial.startswith("PJSIP/"):
        return dial.removeprefix("PJSIP/").rsplit("@", 1)[0]
    return dial.split("/", 2)[2]


@given(
    raw=st.one_of(st.text(max_size=40), st.from_regex(r"\+?[0-9 ()\-.]{3,20}", fullmatch=True)),
    trunk=st.sampled_from([PJSIP_US, DAHDI_DE]),
)
def test_arbitrary_text_never_reaches_a_dial_string_unvalidated(raw: str, trunk: PjsipTrunk | DahdiTrunk) -> None:
    """Whatever the text, either it is refused or the dialled part is a leading '+' and digits only."""
    try:
        number = parse_number(raw, trunk.region)
    except InvalidNumber:
        return
    part = number_part(dial_string(trunk, number))
    assert part.lstrip("+").isdigit() and part.lstrip("+").isascii()
    assert "+" not in part[1:]


@given(
    prefix=st.from_regex(r"\+?[0-9 ]{0,12}", fullmatch=True),
    bad=st.sampled_from([*"&/@,|;!$#*:'\"\\\t\r\n\x00\x1b", "\u0661", "\uff10", "${X}"]),
    suffix=st.from_regex(r"[0-9 ]{0,12}", fullmatch=True),
)
def test_any_dial_metacharacter_is_refused(prefix: str, bad: str, suffix: str) -> None:
    """A number that otherwise parses is refused as soon as it contains a single unsafe character."""
    with pytest.raises(InvalidNumber):
        parse_number(prefix + bad + suffix, "US")


@given(st.from_regex(r"\+1 ?[2-9][0-9]{2} ?[2-9][0-9]{2} ?[0-9]{4}", fullmatch=True))
def test_valid_numbers_round_trip_through_e164(raw: str) -> None:
    """Parsing the E.164 form of a parsed number gives the same number."""
    try:
        number = parse_number(raw, "US")
    except InvalidNumber:
        return
    assert parse_number(number.e164, "DE") == number


def test_trunk_structs_are_msgspec_round_trippable() -> None:
    """Trunks encode and decode (for the redacted config dump) without losing the kind tag."""
    data = msgspec.to_builtins(DAHDI_DE)
    assert data["kind"] == "dahdi"
    assert msgspec.convert(data, DahdiTrunk) == DAHDI_DE


def test_an_agent_on_another_server_is_rung_through_the_peer_trunk_to_it() -> None:
    trunks = {"west": "to-west", "east": "to-east"}
    assert agent_device("PJSIP/agent1", "west", "east", trunks) == "PJSIP/agent1@to-west"
    assert agent_device("PJSIP/agent1", "west", "west", trunks) == "PJSIP/agent1"  # on its own server
    assert agent_device("PJSIP/agent1", "", "east", trunks) == "PJSIP/agent1"  # on no server in particular


@pytest.mark.parametrize(
    ("endpoint", "server", "trunks"),
    [
        ("PJSIP/agent1", "north", {"west": "to-west"}),  # no trunk to that server
        ("PJSIP/agent1@office", "west", {"west": "to-west"}),  # a second target
        ("DAHDI/4", "west", {"west": "to-west"}),
        ("PJSIP/agent1", "west", {"west": "to-west&PJSIP/x"}),
    ],
)
def test_an_agent_device_is_built_only_from_validated_parts(endpoint: str, server: str, trunks: dict[str, str]) -> None:
    with pytest.raises(Unreachable):
        agent_device(endpoint, server, "east", trunks)
