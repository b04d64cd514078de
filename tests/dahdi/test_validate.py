"""Inconsistent descriptions are refused with a message naming the key and the rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from callcenter_ari.dahdi.model import Cards, HardwareError, loads
from callcenter_ari.dahdi.validate import validate

Edit = Callable[[dict[str, Any]], object]


def decode(raw: dict[str, Any]) -> Cards:
    return msgspec.convert(raw, Cards, strict=True)


def errors(raw: dict[str, Any]) -> tuple[str, ...]:
    return validate(decode(raw)).errors


def test_the_fixture_is_valid(raw: dict[str, Any]) -> None:
    assert validate(decode(raw)).errors == ()


def _set(table: str, index: int, **values: Any) -> Edit:
    return lambda raw: raw[table][index].update(values)


def _drop(table: str, index: int, key: str) -> Edit:
    return lambda raw: raw[table][index].pop(key)


def _group(index: int, **values: Any) -> Edit:
    return _set("group", index, **values)


def _add_group(**values: Any) -> Edit:
    return lambda raw: raw["group"].append({"number": 9, "name": "extra", "context": "from-extra", **values})


INCONSISTENCIES: dict[str, tuple[Edit, str]] = {
    "t1 d-channel not on 24": (
        _set("span", 1, dchan=23),
        "span[1] (span 2, T1).dchan: the D-channel of a T1 PRI is timeslot 24",
    ),
    "e1 d-channel not on 16": (
        _set("span", 0, dchan=24),
        "span[0] (span 1, E1).dchan: the D-channel of an E1 PRI is timeslot 16",
    ),
    "e1 with b8zs": (_set("span", 0, coding="b8zs"), "span[0] (span 1, E1).coding: b8zs is T1 line coding"),
    "e1 with esf framing": (_set("span", 0, framing="esf"), "span[0] (span 1, E1).framing: esf is T1 framing"),
    "e1 with line build-out": (_set("span", 0, lbo=2), "span[0] (span 1, E1).lbo: an E1 has no line build-out"),
    "t1 with hdb3": (_set("span", 1, coding="hdb3"), "span[1] (span 2, T1).coding: hdb3 is E1 line coding"),
    "t1 with ccs framing": (_set("span", 1, framing="ccs"), "span[1] (span 2, T1).framing: ccs is E1 framing"),
    "t1 with crc4": (_set("span", 1, crc4=True), "span[1] (span 2, T1).crc4: CRC-4 exists on E1 only"),
    "e1 pri with cas framing": (_set("span", 0, framing="cas"), "PRI on an E1 needs ccs framing"),
    "t1 pri with d4 framing": (_set("span", 1, framing="d4"), "PRI on a T1 needs esf framing"),
    "pri without switch type": (
        _drop("span", 0, "switchtype"),
        "(span 1, E1).switchtype: required for pri_cpe",
    ),
    "e1 with a north american switch": (_set("span", 0, switchtype="dms100"), "dms100 is a North American T1 switch"),
    "mfcr2 on a t1": (
        _set("span", 1, signalling="mfcr2", switchtype=None, mfcr2_variant="mx"),
        "MFC/R2 runs on E1 only",
    ),
    "mfcr2 with ccs framing": (
        _set("span", 0, signalling="mfcr2", switchtype=None, mfcr2_variant="mx"),
        "MFC/R2 signals in timeslot 16 with CAS; set framing = cas",
    ),
    "mfcr2 without variant": (
        _set("span", 0, signalling="mfcr2", switchtype=None, framing="cas"),
        "mfcr2_variant: required for MFC/R2",
    ),
    "mfcr2 with a switch type": (
        _set("span", 0, signalling="mfcr2", framing="cas", mfcr2_variant="mx"),
        "ISDN switch types do not apply to MFC/R2",
    ),
    "mfcr2 with a d-channel": (
        _set("span", 0, signalling="mfcr2", switchtype=None, framing="cas", mfcr2_variant="mx", dchan=16),
        "MFC/R2 has no D-channel",
    ),
    "span number used twice": (_set("span", 1, span=1), "span 1: declared 2 times"),
    "span numbers with a gap": (_set("analog", 0, span=4), "DAHDI numbers spans 1..N with no gap"),
    "two spans share a clock priority": (_set("span", 1, timing=1), "spans [1, 2]: share timing priority 1"),
    "port both fxs and fxo": (_set("analog", 0, fxs=[2, 3, 4]), "analog[0] (span 3): port 2 is listed 2 times"),
    "port beyond the card": (_set("analog", 0, fxs=[3, 4, 5]), "port 5 does not exist on a 4-port card"),
    "line number on a phone port": (
        _set("analog", 0, line_numbers={"3": "2025550100"}),
        "analog[0] (span 3).line_numbers.3: not an FXO port",
    ),
    "analog card with no port in use": (_set("analog", 0, fxs=[], fxo=[]), "no port is declared fxs or fxo"),
    "echo taps not a power of two": (
        lambda raw: raw.update(echo={"taps": 100}),
        "echo.taps: 100 is not a power of two",
    ),
    "span in two groups": (
        _add_group(members=[{"span": 1}]),
        "group[4] (extra).members[0]: span 1 is already in group 1 (e1)",
    ),
    "port in two groups": (
        _add_group(members=[{"span": 3, "ports": [2]}]),
        "group[4] (extra).members[0]: port 2 of span 3 is already in group 3 (lines)",
    ),
    "group on an unknown span": (_add_group(members=[{"span": 7}]), "group[4] (extra).members[0].span: no span 7"),
    "ports on a digital span": (
        _group(0, members=[{"span": 1, "ports": [1]}]),
        "group[0] (e1).members[0].ports: span 1 is digital",
    ),
    "group with an undeclared port": (
        _group(2, members=[{"span": 3, "ports": [1, 2]}, {"span": 3, "ports": [4, 5]}]),
        "port 5 of span 3 is not declared fxs or fxo",
    ),
    "group mixing lines and phones": (
        lambda raw: (raw["group"].pop(3), raw["group"][2].update(members=[{"span": 3}])),
        "group[2] (lines): mixes fxo and fxs channels",
    ),
    "group mixing a pri and lines": (
        lambda raw: (raw["group"].pop(2), raw["group"][0]["members"].append({"span": 3, "ports": [1, 2]})),
        "group[0] (e1): mixes digital and fxo channels",
    ),
    "group without members": (_add_group(members=[]), "group[4] (extra).members: a group needs at least one"),
    "two groups with one number": (_group(1, number=1), "group.number: 1 is used by 2 groups"),
    "two groups with one name": (_group(1, name="e1"), "group.name: 'e1' is used by 2 groups"),
    "two groups with one context": (_group(1, context="from-e1"), "group.context: 'from-e1' is used by 2 groups"),
    "reserved context": (_group(0, context="default"), "group[0] (e1).context: 'default' is reserved"),
}


@pytest.mark.parametrize(("edit", "message"), INCONSISTENCIES.values(), ids=INCONSISTENCIES.keys())
def test_inconsistency_is_refused(raw: dict[str, Any], edit: Edit, message: str) -> None:
    edit(raw)
    found = errors(raw)
    assert any(message in e for e in found), found


class TestDecodingErrorsNameTheKeyPath:
    """Type errors from the TOML itself come back with the path of the offending key."""

    def refused(self, text: str) -> str:
        with pytest.raises(HardwareError) as info:
            loads(text)
        return str(info.value)

    def test_group_without_context(self) -> None:
        """A group with no context would leave its calls nowhere to go."""
        text = "[[group]]\nnumber = 1\nname = 'pri1'\nmembers = [{ span = 1 }]\n"
        assert self.refused(text) == "group[0]: Object missing required field context"

    def test_group_with_empty_context(self) -> None:
        text = "[[group]]\nnumber = 1\nname = 'pri1'\ncontext = ''\nmembers = [{ span = 1 }]\n"
        assert self.refused(text).startswith("group[0].context: Expected str matching regex")

    def test_context_with_a_trailing_newline(self) -> None:
        """A newline would start a line of its own in the generated chan_dahdi.conf."""
        text = "[[group]]\nnumber = 1\nname = 'pri1'\ncontext = \"from-pri\\n\"\nmembers = [{ span = 1 }]\n"
        assert self.refused(text).startswith("group[0].context: Expected str matching regex")

    def test_unknown_signalling(self) -> None:
        text = "[[span]]\nspan = 1\ntype = 'E1'\nsignalling = 'isdn'\nframing = 'ccs'\ncoding = 'hdb3'\n"
        assert self.refused(text).startswith("span[0].signalling: Invalid enum value 'isdn'")

    def test_unknown_key(self) -> None:
        """A misspelt key is an error rather than a silently ignored setting."""
        assert self.refused("[echo]\ntap = 64\n") == "echo: Object contains unknown field tap"

    def test_group_number_out_of_chan_dahdi_range(self) -> None:
        text = "[[group]]\nnumber = 64\nname = 'g'\ncontext = 'c'\nmembers = []\n"
        assert self.refused(text) == "group[0].number: Expected int <= 63"

    def test_invalid_toml(self) -> None:
        assert self.refused("[span\n").startswith("invalid TOML:")


class TestWarnings:
    """Suspicious but possible setups pass with a warning."""

    def test_network_side_span_taking_clock(self, raw: dict[str, Any]) -> None:
        raw["span"][1].update(signalling="pri_net")
        assert any("span 2: pri_net provides the clock" in w for w in validate(decode(raw)).warnings)

    def test_no_clock_source(self, raw: dict[str, Any]) -> None:
        raw["span"][0]["timing"] = raw["span"][1]["timing"] = 0
        assert "no span has timing > 0" in validate(decode(raw)).warnings[-1]

    def test_unused_span_and_port(self, raw: dict[str, Any]) -> None:
        del raw["group"][1]
        del raw["group"][2]
        report = validate(decode(raw))
        assert report.errors == ()
        assert "span 2: in no group, so chan_dahdi will not use it" in report.warnings
        assert "span 3 port 3: in no group, so chan_dahdi will not use it" in report.warnings
