"""Trunks: how calls leave the box (PJSIP endpoints and DAHDI groups), and how many lines each one has.

Pure code, no I/O: numbers are validated with `phonenumbers` before any dial string exists, and the line ledger
counts busy lines so the dialer and transfers never ask a trunk for more channels than it has.
"""

from callcenter_ari.trunks.config import (
    LINES_PER_UNIT,
    DahdiTrunk,
    PjsipTrunk,
    TrunkConfig,
    capacities,
)
from callcenter_ari.trunks.dialstring import dial_string
from callcenter_ari.trunks.ledger import LineLedger
from callcenter_ari.trunks.phone import InvalidNumber, PhoneNumber, parse_number

__all__ = [
    "LINES_PER_UNIT",
    "DahdiTrunk",
    "InvalidNumber",
    "LineLedger",
    "PhoneNumber",
    "PjsipTrunk",
    "TrunkConfig",
    "capacities",
    "dial_string",
    "parse_number",
]
