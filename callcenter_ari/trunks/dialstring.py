"""Dial strings for Asterisk's Dial()/originate, built only from validated numbers and names.

`PJSIP/<number>@<endpoint>` puts the number in the Request-URI's user part of the endpoint's contact;
`DAHDI/g<N>/<number>` takes the first idle channel of group N, lowest channel first. An agent whose phone is on
another Asterisk server is rung through the inter-server trunk to that server: `PJSIP/<agent>@<peer trunk>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from callcenter_ari.trunks.config import DahdiTrunk, PjsipTrunk, TrunkConfig
from callcenter_ari.trunks.phone import InvalidNumber, PhoneNumber

_PEER_PHONE = re.compile(r"PJSIP/([A-Za-z0-9_.+*#-]{1,64})")
_TRUNK = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class Unreachable(ValueError):
    """An agent's phone cannot be rung from this server (a server with no peer trunk, a device that is not PJSIP)."""


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


def agent_device(endpoint: str, server: str, node: str, peer_trunks: Mapping[str, str]) -> str:
    """The device to ring for an agent's phone ``endpoint`` registered on ``server``, from the server ``node``:
    the phone itself on its own server (or when the phone is on no server in particular), otherwise the phone's
    resource through the peer trunk to its server."""
    if not server or server == node:
        return endpoint
    trunk = peer_trunks.get(server, "")
    phone = _PEER_PHONE.fullmatch(endpoint)
    if phone is None or not _TRUNK.fullmatch(trunk):
        raise Unreachable(f"{endpoint!r} on server {server!r} cannot be rung from {node!r}")
    return f"PJSIP/{phone.group(1)}@{trunk}"
