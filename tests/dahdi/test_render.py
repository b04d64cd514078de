"""Rendering details the golden examples do not cover: MFC/R2 spans and disabled echo cancelling."""

from __future__ import annotations

from typing import Any

import msgspec

from callcenter_ari.dahdi.model import Cards
from callcenter_ari.dahdi.render import chan_dahdi_conf, extensions_conf, system_conf
from callcenter_ari.dahdi.validate import validate

MFCR2 = {
    "echo": {"canceller": "none"},
    "span": [
        {
            "span": 1,
            "type": "E1",
            "signalling": "mfcr2",
            "mfcr2_variant": "mx",
            "framing": "cas",
            "coding": "hdb3",
            "timing": 1,
        }
    ],
    "group": [{"number": 2, "name": "r2", "context": "from-r2", "members": [{"span": 1}]}],
}


def cards(raw: dict[str, Any]) -> Cards:
    decoded: Cards = msgspec.convert(raw, Cards, strict=True)
    assert validate(decoded).errors == ()
    return decoded


def test_mfcr2_span_uses_cas_bits_and_no_d_channel() -> None:
    """Timeslot 16 carries CAS, so there is no dchan/bchan line; 30 voice channels get ITU's idle bits."""
    text = system_conf(cards(MFCR2), "r2.toml")
    assert "span=1,1,0,cas,hdb3\ncas=1-15:1101\ncas=17-31:1101\n" in text
    assert "dchan" not in text and "hardhdlc" not in text and "echocanceller" not in text


def test_mfcr2_channels_get_the_variant_and_no_echo_cancelling() -> None:
    text = chan_dahdi_conf(cards(MFCR2), "r2.toml")
    assert "signalling=mfcr2\nmfcr2_variant=mx\n" in text
    assert "echocancel=no\n" in text and "dahdichan=1-15,17-31\n" in text


def test_mfcr2_group_routes_inbound_with_the_called_number() -> None:
    text = extensions_conf(cards(MFCR2), "r2.toml")
    assert "[from-r2]\nexten => _X.,1,Stasis(callcenter,inbound,r2,${EXTEN})\n" in text
