"""Dial strings for Asterisk's Dial()/originate, built only from validated numbers.

`PJSIP/<number>@<endpoint>` puts the number in the Request-URI's user part of the endpoint's contact;
`DAHDI/g<N>/<number>` takes the first idle channel of group N, lowest channel first.
"""

from __future__ import annotations

import re

from callcenter_ari.trunks.config import DahdiTrunk, PjsipTrunk, TrunkConfig
from callcenter_ari.trunks.phone import InvalidNumber, PhoneNumber

# The last guard: in Dial() '&' adds a channel, ',' and '|' start options, '/' and '@' change the target.
_DIALABLE = re.compile(r"\+?[0-9]{1,20}")


def dial_string(trunk: TrunkConfig, number: PhoneNumber) -> str:
    digits = number.digits_for(trunk.number_format, trunk.region)
    if not _DIALABLE.fullmatch(digits):
        raise InvalidNumber(f"{digits!r} is not dialable")
    match trunk:
        case PjsipTrunk(endpoint=endpoint):
            return f"PJSIP/{digits}@{endpoint}"
        case DahdiTrunk(group=group):
            return f"DAHDI/g{group}/{digits}"
