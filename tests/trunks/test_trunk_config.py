"""`[trunks.<name>]` tables decode into frozen Structs with hardware-derived capacity and clear errors."""

from __future__ import annotations

import tomllib

import msgspec
import pytest

from callcenter_ari.trunks import DahdiTrunk, PjsipTrunk, TrunkConfig, capacities

TOML = """
[trunks.provider1]
kind = "pjsip"
endpoint = "provider1"
capacity = 20
region = "US"
caller_id = "+1 202 555 0100"

[trunks.pri1]
kind = "dahdi"
group = 1
interface = "e1_pri"
units = 2
region = "DE"

[trunks.fxo]
kind = "dahdi"
group = 3
interface = "analog"
units = 4
region = "US"
"""


def decode(data: object) -> TrunkConfig:
    trunk: TrunkConfig = msgspec.convert(data, TrunkConfig, strict=True)
    return trunk


def test_toml_tables_decode_into_the_tagged_union() -> None:
    """Each table picks its Struct by `kind` and capacities follow the hardware unless given."""
    raw = tomllib.loads(TOML)["trunks"]
    trunks = msgspec.convert(raw, dict[str, TrunkConfig], strict=True)
    assert isinstance(trunks["provider1"], PjsipTrunk)
    assert isinstance(trunks["pri1"], DahdiTrunk)
    assert capacities(trunks) == {"provider1": 20, "pri1": 60, "fxo": 4}


@pytest.mark.parametrize(
    ("interface", "units", "lines"),
    [("e1_pri", 1, 30), ("t1_pri", 1, 23), ("t1_pri", 4, 92), ("analog", 8, 8)],
)
def test_dahdi_capacity_defaults_to_the_hardware(interface: str, units: int, lines: int) -> None:
    """30 lines per E1 PRI span, 23 per T1 PRI span, 1 per analog port."""
    trunk = decode({"kind": "dahdi", "group": 1, "interface": interface, "units": units, "region": "US"})
    assert trunk.lines == lines


def test_explicit_capacity_overrides_the_hardware_default() -> None:
    """A provider licensing fewer channels than the span carries sets `capacity`."""
    trunk = decode({"kind": "dahdi", "group": 1, "interface": "e1_pri", "capacity": 10, "region": "DE"})
    assert trunk.lines == 10


def test_trunks_are_frozen() -> None:
    """Configuration cannot be changed behind the ledger's back."""
    trunk = decode({"kind": "pjsip", "endpoint": "p", "capacity": 1, "region": "US"})
    with pytest.raises(AttributeError):
        trunk.capacity = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "sip", "endpoint": "p", "capacity": 1, "region": "US"}, "at `$.kind`"),
        ({"kind": "pjsip", "capacity": 1, "region": "US"}, "missing required field `endpoint`"),
        ({"kind": "pjsip", "endpoint": "p@evil", "capacity": 1, "region": "US"}, "endpoint:"),
        ({"kind": "pjsip", "endpoint": "p", "capacity": 0, "region": "US"}, "at `$.capacity`"),
        ({"kind": "pjsip", "endpoint": "p", "capacity": 1, "region": "ZZ"}, "region: unknown region"),
        ({"kind": "pjsip", "endpoint": "p", "capacity": 1, "region": "US", "caller_id": "12"}, "caller_id:"),
        ({"kind": "pjsip", "endpoint": "p", "capacity": 1, "region": "US", "lines": 3}, "unknown field `lines`"),
        ({"kind": "dahdi", "group": 64, "interface": "e1_pri", "region": "DE"}, "at `$.group`"),
        ({"kind": "dahdi", "group": 1, "interface": "bri", "region": "DE"}, "at `$.interface`"),
    ],
)
def test_invalid_tables_are_refused_with_the_field_named(data: dict[str, object], message: str) -> None:
    """Errors say which key is wrong."""
    with pytest.raises(msgspec.ValidationError, match=message.replace("$", r"\$").replace(".", r"\.")):
        decode(data)
