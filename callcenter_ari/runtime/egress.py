"""Webhook connections that go only where the egress policy (``webhooks/egress.py``) lets them.

``EgressResolver`` is the resolver of the outbox's aiohttp connector: aiohttp asks it for a host name's addresses
when it opens a connection and connects to exactly those, so it takes the addresses from the injected resolver,
asks the policy, and returns them checked: a name that resolves elsewhere between the check and the connection (DNS
rebinding) is not followed, and a refusal is raised before any socket is opened. aiohttp connects to a host written
as an address without asking a resolver, so ``Egress.check_literal`` is called before every request. TLS is then
set up by aiohttp with the URL's host name (SNI and the certificate check), as for any request.
``Egress.check_url`` is the same check for a subscription's URL, when it is made or changed.

Tests resolve names through a table they pass as the resolver: no test looks a name up in DNS.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Awaitable, Callable, Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address
from urllib.parse import urlsplit

import aiohttp
import anyio
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.helpers import is_ip_address

from callcenter_ari.webhooks.egress import Address, EgressPolicy, literal_address
from callcenter_ari.webhooks.model import SubscriptionError

# A host name and port in, the addresses it resolves to out (as text); raises OSError when it resolves to nothing.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class Unresolvable(OSError):
    """The host has no address now (a failure like any unreachable receiver: the delivery is tried again later)."""


class EgressRefused(Exception):
    """The policy refused the destination; no connection was made."""

    def __init__(self, why: str) -> None:
        super().__init__(f"refused by the egress policy: {explain(why)}")
        self.why = why


def explain(why: str) -> str:
    """A refusal in words; never the address a name resolved to (that would map the internal network)."""
    if why == "no address":
        return "the host has no address"
    if why == "not a public address":
        return "the host is not a public address (webhooks.egress_allow can allow it)"
    return f"the host is or resolves to a {why} address (webhooks.egress_allow can allow it)"


class Egress:
    def __init__(self, policy: EgressPolicy, resolver: Resolver = system_resolver, timeout: float = 5.0) -> None:
        self.policy = policy
        self._resolver = resolver
        self._timeout = timeout

    async def addresses(self, host: str, port: int) -> list[Address]:
        """The checked addresses of ``host``; raises EgressRefused, or Unresolvable when it resolves to nothing."""
        why = self.policy.name_refusal(host)
        if why is not None:
            raise EgressRefused(why)
        literal = literal_address(host)
        if literal is not None:
            found = [literal]
        else:
            try:
                found = await self._resolve(host, port)
            except (OSError, TimeoutError):
                raise Unresolvable(f"could not resolve {host[:100]}") from None
        why = self.policy.refusal(host, found)
        if why is not None:
            raise EgressRefused(why)
        return found

    async def check_url(self, url: str) -> None:
        """A subscription's URL (its syntax already checked): raises SubscriptionError naming ``url`` if its host is
        refused. A name that does not resolve now is accepted; every delivery checks it again."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            await self.addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
        except EgressRefused as refused:
            raise SubscriptionError("url", explain(refused.why)) from None
        except Unresolvable:
            pass

    def check_literal(self, host: str) -> str:
        """The host to connect to: raises EgressRefused if ``host`` is written as an address (by aiohttp's own test:
        it asks no resolver for those) that the policy refuses, or is not one that parses. An IPv4 address comes back
        in its one spelling aiohttp takes (``127.1`` and ``2130706433`` are 127.0.0.1 to a resolver, refused by
        aiohttp); anything else as it is. A host name is checked by ``EgressResolver``."""
        if not is_ip_address(host):
            return host
        literal = literal_address(host)
        why = "not a public address" if literal is None else self.policy.refusal(host, [literal])
        if why is not None:
            raise EgressRefused(why)
        return str(literal) if isinstance(literal, IPv4Address) else host

    async def _resolve(self, host: str, port: int) -> list[Address]:
        with anyio.fail_after(self._timeout):
            answers = await self._resolver(host, port)
        found: list[Address] = []
        for answer in answers:
            try:
                address = ip_address(answer)
            except ValueError:
                continue
            if address not in found:
                found.append(address)
        return found


class EgressResolver(AbstractResolver):
    """aiohttp's resolver for the outbox: a host name's checked addresses, or EgressRefused."""

    def __init__(self, egress: Egress) -> None:
        self.egress = egress

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=str(address),
                port=port,
                family=socket.AF_INET6 if isinstance(address, IPv6Address) else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for address in await self.egress.addresses(host, port)
        ]

    async def close(self) -> None:
        pass


def egress_session(egress: Egress, *, connections: int, tls: ssl.SSLContext) -> aiohttp.ClientSession:
    """An HTTP client whose every connection goes to checked addresses: at most ``connections`` open (and kept
    alive), no proxy from the environment, no cookies kept from one receiver's answer to the next request."""
    connector = aiohttp.TCPConnector(
        resolver=EgressResolver(egress), use_dns_cache=False, limit=connections, limit_per_host=0, ssl=tls
    )
    return aiohttp.ClientSession(
        connector=connector,
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("Accept-Encoding",),
    )
