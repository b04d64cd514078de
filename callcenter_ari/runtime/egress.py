"""Webhook connections that go only where the egress policy (``webhooks/egress.py``) lets them.

``EgressBackend`` is the network backend of the outbox's connection pool, httpcore's extension point for opening
connections: asked for a connection to a URL's host, it takes the host's addresses (written as one, or looked up
through the injected resolver), asks the policy, and connects to those very addresses, so a name that resolves
elsewhere between the check and the connection (DNS rebinding) is not followed. A refusal is raised before any
socket is opened. TLS is then set up by the pool with the URL's host name (SNI and the certificate check), as for
any request. ``Egress.check_url`` is the same check for a subscription's URL, when it is made or changed.

Tests resolve names through a table they pass as the resolver: no test looks a name up in DNS.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from ipaddress import ip_address
from urllib.parse import urlsplit

import anyio
import httpcore

from callcenter_ari.webhooks.egress import Address, EgressPolicy, literal_address
from callcenter_ari.webhooks.model import SubscriptionError

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
# A host name and port in, the addresses it resolves to out (as text); raises OSError when it resolves to nothing.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


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
        """The checked addresses of ``host``; raises EgressRefused, or httpcore.ConnectError when it resolves to
        nothing (a failure like any unreachable receiver: the delivery is tried again later)."""
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
                raise httpcore.ConnectError(f"could not resolve {host[:100]}") from None
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
        except httpcore.ConnectError:
            pass

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


class EgressBackend(httpcore.AsyncNetworkBackend):
    """Opens a connection only to checked addresses of the host asked for, trying them in turn."""

    def __init__(self, egress: Egress, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.egress = egress
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception | None = None
        for address in await self.egress.addresses(host, port):
            try:
                return await self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.TimeoutException) as exc:
                failure = exc
        assert failure is not None  # addresses() returns at least one address or raises
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise EgressRefused("not a public address")  # the pool is never given a socket path; refuse anyway

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
