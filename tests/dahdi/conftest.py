from __future__ import annotations

import copy
from typing import Any

import pytest

E1: dict[str, Any] = {
    "span": 1,
    "type": "E1",
    "signalling": "pri_cpe",
    "switchtype": "euroisdn",
    "framing": "ccs",
    "coding": "hdb3",
    "crc4": True,
    "timing": 1,
}
T1: dict[str, Any] = {
    "span": 2,
    "type": "T1",
    "signalling": "pri_cpe",
    "switchtype": "national",
    "framing": "esf",
    "coding": "b8zs",
    "timing": 2,
}
ANALOG: dict[str, Any] = {"span": 3, "ports": 4, "fxo": [1, 2], "fxs": [3, 4]}


@pytest.fixture
def raw() -> dict[str, Any]:
    """A valid description with an E1, a T1 and a mixed analog card, every span in a group."""
    return copy.deepcopy(
        {
            "span": [E1, T1],
            "analog": [ANALOG],
            "group": [
                {"number": 1, "name": "e1", "context": "from-e1", "members": [{"span": 1}]},
                {"number": 2, "name": "t1", "context": "from-t1", "members": [{"span": 2}]},
                {"number": 3, "name": "lines", "context": "from-lines", "members": [{"span": 3, "ports": [1, 2]}]},
                {"number": 4, "name": "phones", "context": "from-phones", "members": [{"span": 3, "ports": [3, 4]}]},
            ],
        }
    )
