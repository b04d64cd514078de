"""Where a webhook may go: the egress policy, as pure decisions on host names and addresses.

A subscription's URL is chosen by whoever holds a token, and the request leaves from inside the call center's
network: unchecked it could reach Redis, ARI, this API or a cloud metadata service, and the delivery log would tell
the token what they answered. So every destination is checked twice, by the runtime (``runtime/egress.py``): the
URL's host when a subscription is made or changed, and every address its name resolves to just before a connection
is made (a name that resolved to a public address at subscription may resolve to 127.0.0.1 now), and the connection
then goes to an address that was checked.

Refused unless the allow-list says otherwise: every address that is not public unicast (loopback, private,
link-local, unspecified, multicast, reserved, shared, documentation), IPv4 inside IPv6 judged as the IPv4 it
carries (mapped ``::ffff:a.b.c.d``, 6to4), every spelling of an IPv4 address that ``inet_aton`` (and so
``getaddrinfo``) accepts (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``), and the localhost names. The
allow-list (``webhooks.egress_allow``) holds networks (``10.20.0.0/16``, ``10.1.2.3``, ``fd00::/8``), whose
addresses may be reached, and host names (``crm.corp.example``), which may resolve to anything: the operator's CRM
on the private network.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import unquote

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$"
)
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
# inet_aton: each of one to four parts is decimal, 0x-hex or 0-octal; the last one fills the bytes left.
_HEX = re.compile(r"^0x[0-9a-f]+$")
_OCTAL = re.compile(r"^0[0-7]*$")
_DECIMAL = re.compile(r"^[1-9][0-9]*$")


def normal_host(host: str) -> str:
    """Lower case, no trailing dot, a URL's percent-encoded zone id decoded."""
    return unquote(host).lower().rstrip(".")


def literal_address(host: str) -> Address | None:
    """The address a host written as one stands for, in any spelling a resolver takes as an address; else None."""
    text = normal_host(host)
    if ":" in text:
        try:
            return ip_address(text)
        except ValueError:
            return None
    return _inet_aton(text)


def _inet_aton(text: str) -> IPv4Address | None:
    values = [_part(part) for part in text.split(".")]
    if not 1 <= len(values) <= 4 or None in values:
        return None
    *head, last = [value for value in values if value is not None]
    if any(value > 255 for value in head) or last >= 256 ** (4 - len(head)):
        return None
    number = last
    for position, value in enumerate(head):
        number += value << (8 * (3 - position))
    return IPv4Address(number)


def _part(part: str) -> int | None:
    if _HEX.fullmatch(part):
        return int(part[2:], 16)
    if _OCTAL.fullmatch(part):
        return int(part, 8)
    if _DECIMAL.fullmatch(part):
        return int(part)
    return None


def kind(address: Address) -> str | None:
    """Why an address may not be reached by default, or None for a public unicast address."""
    if isinstance(address, IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if address.ipv4_mapped is not None:
            return kind(address.ipv4_mapped)  # ::ffff:a.b.c.d is a.b.c.d on the wire
        if carried is not None and (inner := kind(carried)) is not None:
            return inner
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class EgressPolicy:
    networks: tuple[Network, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def from_allow(cls, entries: Iterable[str]) -> EgressPolicy:
        """From ``webhooks.egress_allow``; raises ValueError naming an entry that is neither a network nor a name."""
        networks: list[Network] = []
        hosts: set[str] = set()
        for index, entry in enumerate(entries):
            try:
                networks.append(ip_network(entry.strip(), strict=True))
                continue
            except ValueError:
                pass
            name = normal_host(entry.strip())
            if "/" in entry or literal_address(name) is not None or not _HOST_NAME.fullmatch(name):
                raise ValueError(
                    f"egress_allow[{index}]: {entry[:80]!r} is neither a network (10.20.0.0/16, 10.1.2.3) "
                    "nor a host name (crm.corp.example)"
                )
            hosts.add(name)
        return cls(tuple(networks), frozenset(hosts))

    def name_refusal(self, host: str) -> str | None:
        """A host refused by its name alone, before any lookup: the localhost names (the system's resolver would
        answer them from its hosts file)."""
        name = normal_host(host)
        if name in self.hosts:
            return None
        if name in _LOCAL_NAMES or name.endswith(".localhost"):
            return "loopback"
        return None

    def refusal(self, host: str, addresses: Sequence[Address]) -> str | None:
        """Why ``host``, which is or resolves to ``addresses``, may not be reached; None when it may. Every address
        must pass: a connection could go to any of them."""
        if normal_host(host) in self.hosts:
            return None
        if not addresses:
            return "no address"
        for address in addresses:
            if self._allowed(address):
                continue
            why = kind(address)
            if why is not None:
                return why
        return None

    def _allowed(self, address: Address) -> bool:
        forms = [address]
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            forms.append(address.ipv4_mapped)
        return any(form.version == net.version and form in net for form in forms for net in self.networks)
