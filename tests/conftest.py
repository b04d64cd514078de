"""Shared fixtures. Tests own their Redis data: every test gets a random key prefix and deletes only its keys."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from callcenter_ari.store.connection import client_for_url
from callcenter_ari.store.keys import Keys
from tests.private_redis import PrivateRedis

REDIS_URL = os.environ.get("CALLCENTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
def key_prefix() -> str:
    return f"cctest{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis(key_prefix: str) -> AsyncIterator[Redis]:
    client = client_for_url(REDIS_URL)  # the client `run` makes: commands packed by hiredis
    try:
        await client.ping()
    except OSError as exc:  # pragma: no cover - the test script starts one
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    yield client
    async for key in client.scan_iter(match=f"{key_prefix}:*", count=1000):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
def keys(key_prefix: str) -> Keys:
    return Keys(key_prefix, "t1")


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test if anything in it connects to, or looks up, a host outside 127.0.0.0/8 and ::1 (the test
    Redis aside): a refused destination must be refused before any connection, and names must be resolved through
    the resolver the test passes, never DNS. The attempt is refused as well, so nothing leaves the machine."""
    outside = _keep_to_loopback(monkeypatch)
    yield outside
    assert outside == [], f"reached outside loopback: {outside}"


@pytest.fixture
def nothing_leaves(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Refuse, without failing the test, every connection and lookup beyond loopback: for runs where a generator
    picks webhook URLs (a public address it made up is allowed by the policy, and must still not be called)."""
    return _keep_to_loopback(monkeypatch)


def _keep_to_loopback(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    outside: list[str] = []
    own = {"localhost", urlsplit(REDIS_URL).hostname or ""}

    def loopback(host: Any) -> bool:
        if host is None or host in own:
            return True
        try:
            return ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return False

    def refuse(what: str) -> OSError:
        outside.append(what)
        return ConnectionRefusedError(f"the test may not reach {what}")

    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            raise refuse(f"connect {address!r}")
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            raise refuse(f"connect {address!r}")
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not loopback(host.decode() if isinstance(host, bytes) else host):
            raise socket.gaierror(socket.EAI_NONAME, str(refuse(f"lookup {host!r}")))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return outside


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    with tempfile.TemporaryDirectory() as workdir:
        server = PrivateRedis(workdir)
        server.start()
        yield server
        if server.process and server.process.poll() is None:
            server.stop()
