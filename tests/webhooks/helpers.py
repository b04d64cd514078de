"""A real webhook receiver for the tests: an aiohttp server on loopback that checks every signature twice (with
our ``verify`` and with an independent re-implementation of the spec) and dedupes on ``webhook-id``, as a careful
CRM would."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from aiohttp import web
from redis.asyncio import Connection, ConnectionPool, Redis

from callcenter_ari.runtime.webhooks import WebhookService
from callcenter_ari.webhooks import WebhookSettings
from callcenter_ari.webhooks.signing import SignatureError, verify

# Milliseconds instead of minutes; timeouts still long enough for a loaded CI machine. The receivers are on
# loopback, which the egress policy refuses unless allowed.
FAST = WebhookSettings(
    backoff=(0.05, 0.1),
    jitter=0.0,
    max_attempts=5,
    connect_timeout=0.5,
    read_timeout=3.0,
    attempt_timeout=3.0,
    lease_seconds=3.5,
    poll_interval=0.05,
    read_block=0.05,
    egress_allow=("127.0.0.0/8",),
)


class Names:
    """A resolver from a table, for the egress checks: no test looks a name up in DNS. A name given a list of
    answers answers with the next one at each lookup (a rebinding name), the last one over and over; a name not in
    the table does not resolve."""

    def __init__(self, table: dict[str, list[list[str]]] | None = None) -> None:
        self.table = dict(table or {})
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        answers = self.table.get(host)
        if not answers:
            raise OSError(f"{host}: no such name")
        return answers.pop(0) if len(answers) > 1 else answers[0]


NO_DNS = Names()


def independent_signature_ok(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The spec's check written out from its text, sharing no code with the implementation under test."""
    key = base64.b64decode(secret[len("whsec_") :])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return expected in headers["webhook-signature"].split(" ")


@dataclass
class Received:
    webhook_id: str
    timestamp: int
    payload: dict[str, Any]
    body: bytes
    at: float
    host: str = ""  # the Host header: the URL's host and port, whatever address the connection went to


@dataclass
class Receiver:
    secret: str = ""
    # Status codes for the next requests, in order; 200 once they run out.
    statuses: list[int] = field(default_factory=list)
    # While set to an unset event, requests wait for it (a slow receiver).
    hold: asyncio.Event | None = None
    requests: list[Received] = field(default_factory=list)  # every verified request, duplicates included
    unique: dict[str, Received] = field(default_factory=dict)  # what the CRM processed: first request per id
    bad_signatures: int = 0
    answer: bytes = b""  # the body of every answer
    connections: set[Any] = field(default_factory=set)  # the client's address of each connection a request came on
    url: str = ""
    _runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.transport is not None:
            self.connections.add(request.transport.get_extra_info("peername"))
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            verify(headers, body, self.secret, now=time.time())
            assert independent_signature_ok(self.secret, headers, body)
        except (SignatureError, AssertionError, KeyError):
            self.bad_signatures += 1
            return web.Response(status=401)
        if self.hold is not None:
            await self.hold.wait()
        received = Received(
            headers["webhook-id"],
            int(headers["webhook-timestamp"]),
            json.loads(body),
            body,
            time.monotonic(),
            headers.get("host", ""),
        )
        status = self.statuses.pop(0) if self.statuses else 200
        self.requests.append(received)
        if 200 <= status < 300:
            self.unique.setdefault(received.webhook_id, received)
        return web.Response(status=status, body=self.answer or None)

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{bound}/hook"
        return self.url

    async def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def types(self) -> list[str]:
        return sorted(r.payload["type"] for r in self.unique.values())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until true: the service runs in other tasks, there is nothing to await directly."""
    with anyio.fail_after(timeout):
        while not predicate():
            await anyio.sleep(0.01)


@asynccontextmanager
async def running(service: WebhookService) -> AsyncIterator[WebhookService]:
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        yield service
        tg.cancel_scope.cancel()


async def settled(service: WebhookService) -> None:
    """Wait until the outbox has read, fanned out and finished (delivered or dead-lettered) everything."""

    async def idle() -> bool:
        status = await service.status()
        return status.unread == status.unacknowledged == status.scheduled == 0

    with anyio.fail_after(5):
        while not await idle():
            await anyio.sleep(0.01)


class Traffic:
    """What a client sent: commands by name, and round trips (one per write to the socket, a pipeline's included)."""

    def __init__(self) -> None:
        self.commands: Counter[str] = Counter()
        self.round_trips = 0


def counted_client(url: str) -> tuple[Redis, Traffic]:
    """A client of its own whose traffic is counted at its connections (nothing else is)."""
    traffic = Traffic()

    class Counted(Connection):
        def pack_command(self, *args: Any) -> list[bytes]:
            name = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
            traffic.commands[name.split(" ", 1)[0].upper()] += 1
            return super().pack_command(*args)

        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            traffic.round_trips += 1
            await super().send_packed_command(command, check_health)

    return Redis(connection_pool=ConnectionPool.from_url(url, connection_class=Counted)), traffic
