"""The egress policy at work: refused at subscription, refused again at delivery after the name is resolved, and a
connection made only to the address that was checked. Names resolve through a table (``Names``), and the
``loopback_only`` guard (autouse here) fails any test that connects to, or looks up, anything beyond loopback: the
refusals are shown without a packet leaving the machine."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import msgspec
import pytest
from aiohttp import web
from redis.asyncio import Redis

from callcenter_ari.runtime.webhooks import WebhookService
from callcenter_ari.store.keys import Keys
from callcenter_ari.webhooks import DeliveryAttempt, SubscriptionError
from tests.webhooks.helpers import FAST, Names, Receiver, eventually, running, settled

Emit = Callable[..., Awaitable[None]]
MakeReceiver = Callable[[], Awaitable[Receiver]]
STRICT = msgspec.structs.replace(FAST, egress_allow=())  # the default policy, with the tests' fast timings
PUBLIC = "93.184.215.14"  # a public address: accepted, never connected to (the guard would say so)

INTERNAL_URLS = [
    "http://127.0.0.1:6379/",  # Redis
    "http://127.0.0.1:8088/ari/channels",  # ARI
    "http://[::1]:8080/api/v1/agents",
    "http://0.0.0.0:8080/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1:8080/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://192.168.1.1/admin",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fd00::1]/",
    "http://224.0.0.1/",
    "http://localhost:8080/",
    "https://LOCALHOST./",
    "http://api.localhost/",
]


async def attempts(service: WebhookService, sub_id: str, count: int) -> list[DeliveryAttempt]:
    with anyio.fail_after(5):
        while len(log := await service.delivery_log(sub_id)) < count:
            await anyio.sleep(0.01)
    return log


@contextlib.asynccontextmanager
async def posts_to(seen: list[str], *, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """A bare receiver on a loopback port (yielded): 204 to every POST, each request's path and query noted."""

    async def hook(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{path}", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls).start()
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for crm.corp.example that no authority signed, and its key."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subject = ["-subj", "/CN=crm.corp.example", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", *subject],
        check=True,
        capture_output=True,
    )
    return cert, key


async def first_attempt(service: WebhookService, url: str, emit: Emit) -> DeliveryAttempt:
    """Subscribe at ``url``, emit one event and give the first attempt's line of the delivery log."""
    sub = await service.create_subscription(url)
    async with running(service):
        await emit("call.started", call_id="c1")
        [line, *_] = await attempts(service, sub.id, 1)
    return line


async def delivered_once(service: WebhookService, crm: Receiver, url: str, emit: Emit) -> None:
    """Subscribe ``crm`` at ``url``, emit one event and wait until it is delivered there, signed."""
    sub = await service.create_subscription(url)
    crm.secret = sub.secret
    async with running(service):
        await emit("call.started", call_id="c1")
        await eventually(lambda: len(crm.unique) == 1)
        await settled(service)
    assert crm.bad_signatures == 0


class TestAtSubscription:
    @pytest.mark.parametrize("url", INTERNAL_URLS)
    async def test_an_internal_destination_is_refused_naming_the_url(self, redis: Redis, keys: Keys, url: str) -> None:
        names = Names()
        service = WebhookService(redis, keys, settings=STRICT, resolver=names)
        with pytest.raises(SubscriptionError) as refused:
            await service.create_subscription(url)
        assert refused.value.field == "url" and "webhooks.egress_allow" in str(refused.value)
        assert await service.subscriptions() == []
        assert names.lookups == []  # an address, or a localhost name, is judged without a lookup

    async def test_a_change_of_url_is_checked_too(self, redis: Redis, keys: Keys) -> None:
        service = WebhookService(redis, keys, settings=STRICT, resolver=Names({"crm.example": [[PUBLIC]]}))
        sub = await service.create_subscription("https://crm.example/hook")
        with pytest.raises(SubscriptionError) as refused:
            await service.update_subscription(sub.id, url="http://0x7f.1:6379/")
        assert refused.value.field == "url"
        assert (await service.subscription(sub.id)).url == "https://crm.example/hook"  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        "answers", [["10.1.2.3"], ["169.254.169.254"], ["::1"], [PUBLIC, "10.1.2.3"], ["::ffff:192.168.0.9"]]
    )
    async def test_a_name_that_resolves_inside_is_refused(self, redis: Redis, keys: Keys, answers: list[str]) -> None:
        service = WebhookService(redis, keys, settings=STRICT, resolver=Names({"crm.example": [answers]}))
        with pytest.raises(SubscriptionError) as refused:
            await service.create_subscription("https://crm.example/hook")
        assert refused.value.field == "url"
        assert not any(answer in str(refused.value) for answer in answers)  # the internal address is not told

    async def test_a_public_name_and_one_that_does_not_resolve_yet_are_accepted(self, redis: Redis, keys: Keys) -> None:
        service = WebhookService(redis, keys, settings=STRICT, resolver=Names({"crm.example": [[PUBLIC]]}))
        await service.create_subscription("https://crm.example/hook")
        await service.create_subscription(f"https://{PUBLIC}/hook")
        await service.create_subscription("https://not-yet.example/hook")  # checked again at every delivery
        assert len(await service.subscriptions()) == 3

    async def test_an_allow_listed_network_or_name_may_be_internal(self, redis: Redis, keys: Keys) -> None:
        settings = msgspec.structs.replace(STRICT, egress_allow=("10.20.0.0/16", "crm.corp.example"))
        names = Names({"crm.corp.example": [["10.99.0.5"]], "other.corp.example": [["10.99.0.6"]]})
        service = WebhookService(redis, keys, settings=settings, resolver=names)
        await service.create_subscription("http://10.20.1.2:8443/hook")
        await service.create_subscription("https://crm.corp.example/hook")
        with pytest.raises(SubscriptionError):
            await service.create_subscription("https://other.corp.example/hook")
        with pytest.raises(SubscriptionError):
            await service.create_subscription("http://10.21.0.1/hook")


class TestAtDelivery:
    async def test_a_name_that_rebinds_to_loopback_is_refused_and_nothing_reaches_the_receiver(
        self, redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
    ) -> None:
        """Public when subscribed, 127.0.0.1 (where a receiver listens) when the delivery is made: refused."""
        crm = await receivers()
        port = crm.url.rsplit(":", 1)[1].split("/")[0]
        names = Names({"rebind.example": [[PUBLIC], ["127.0.0.1"]]})
        service = WebhookService(redis, keys, settings=STRICT, resolver=names)
        sub = await service.create_subscription(f"http://rebind.example:{port}/hook")
        async with running(service):
            await emit("call.started", call_id="c1")
            first, *_ = reversed(await attempts(service, sub.id, 2))
        assert crm.requests == [] and crm.bad_signatures == 0
        assert (first.outcome, first.status_code) == ("retry", None)
        assert first.error.startswith("refused by the egress policy") and "loopback" in first.error
        assert "127.0.0.1" not in first.error

    async def test_an_internal_address_stored_before_the_policy_is_refused_at_delivery(
        self, redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
    ) -> None:
        """A subscription from before (or the allow-list since narrowed): the delivery checks again."""
        crm = await receivers()
        allowed = WebhookService(redis, keys, settings=FAST, resolver=Names())
        sub = await allowed.create_subscription(crm.url.replace("127.0.0.1", "2130706433"))
        service = WebhookService(redis, keys, settings=STRICT, resolver=Names())
        async with running(service):
            await emit("call.started", call_id="c1")
            [line, *_] = await attempts(service, sub.id, 1)
        assert crm.requests == [] and line.status_code is None and "loopback" in line.error

    async def test_a_host_written_as_no_address_that_parses_is_refused_before_any_lookup(
        self, redis: Redis, keys: Keys, emit: Emit
    ) -> None:
        """Digits and dots are an address to the HTTP client, which would not ask the resolver: refused here."""
        names = Names()
        service = WebhookService(redis, keys, settings=STRICT, resolver=names)
        sub = await service.create_subscription("http://1.2.3.4.5:8080/hook")  # no address now: accepted
        async with running(service):
            await emit("call.started", call_id="c1")
            [line, *_] = await attempts(service, sub.id, 1)
        assert line.status_code is None and line.error.startswith("refused by the egress policy")
        assert names.lookups == ["1.2.3.4.5"]  # the subscription's check only

    async def test_an_allowed_address_in_another_spelling_is_delivered_to(
        self, redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
    ) -> None:
        """``127.1`` is 127.0.0.1 to a resolver, and to the policy: allowed, it is reached at that address."""
        crm = await receivers()
        service = WebhookService(redis, keys, settings=FAST, resolver=Names())  # 127.0.0.0/8 allowed
        await delivered_once(service, crm, crm.url.replace("127.0.0.1", "127.1"), emit)

    async def test_the_url_is_requested_as_the_subscriber_wrote_it(self, redis: Redis, keys: Keys, emit: Emit) -> None:
        """Byte for byte: a receiver may check a signed query, which decoding %7e to ~ would break."""
        seen: list[str] = []
        async with posts_to(seen) as port:
            service = WebhookService(redis, keys, settings=FAST, resolver=Names())  # 127.0.0.0/8 allowed
            await service.create_subscription(f"http://127.0.0.1:{port}/hook%41?sig=%7e%2F&x=%41")
            async with running(service):
                await emit("call.started", call_id="c1")
                await eventually(lambda: len(seen) == 1)
        assert seen == ["/hook%41?sig=%7e%2F&x=%41"]

    async def test_a_certificate_refused_is_told_as_such(
        self, redis: Redis, keys: Keys, emit: Emit, self_signed: tuple[Path, Path]
    ) -> None:
        """A receiver whose certificate does not verify (self-signed here): the log says TLS refused it."""
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(*self_signed)
        async with posts_to([], tls=tls) as port:
            settings = msgspec.structs.replace(STRICT, egress_allow=("crm.corp.example",))
            names = Names({"crm.corp.example": [["127.0.0.1"]]})
            service = WebhookService(redis, keys, settings=settings, resolver=names)
            line = await first_attempt(service, f"https://crm.corp.example:{port}/hook", emit)
        assert line.status_code is None
        assert line.error.startswith("TLS: the receiver's certificate was refused") and "self-signed" in line.error

    async def test_a_failed_connection_is_told_without_the_address_the_name_resolved_to(
        self, redis: Redis, keys: Keys, emit: Emit
    ) -> None:
        with socket.socket() as closed:  # a port nothing listens on
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        names = Names({"crm.internal.test": [["127.0.0.1"]]})
        service = WebhookService(redis, keys, settings=FAST, resolver=names)
        line = await first_attempt(service, f"http://crm.internal.test:{port}/hook", emit)
        assert (line.outcome, line.status_code) == ("retry", None)
        assert line.error.startswith("could not connect") and "127.0.0.1" not in line.error

    async def test_the_connection_goes_to_the_address_that_was_checked(
        self, redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
    ) -> None:
        """The name is looked up once per connection, through the resolver, and the request goes to that address
        with the URL's host in the Host header; the system's resolver never sees the name (the guard would)."""
        crm = await receivers()
        port = crm.url.rsplit(":", 1)[1].split("/")[0]
        names = Names({"crm.internal.test": [["127.0.0.1"]]})
        service = WebhookService(redis, keys, settings=FAST, resolver=names)  # 127.0.0.0/8 allowed
        sub = await service.create_subscription(f"http://crm.internal.test:{port}/hook")
        crm.secret = sub.secret
        async with running(service):
            await emit("call.started", call_id="c1")
            await eventually(lambda: len(crm.unique) == 1)
            await settled(service)
        [got] = crm.unique.values()
        assert got.host == f"crm.internal.test:{port}" and crm.bad_signatures == 0
        assert names.lookups == ["crm.internal.test", "crm.internal.test"]  # subscription, then the connection

    async def test_an_allow_listed_name_is_delivered_to_whatever_it_resolves_to(
        self, redis: Redis, keys: Keys, emit: Emit, receivers: MakeReceiver
    ) -> None:
        crm = await receivers()
        port = crm.url.rsplit(":", 1)[1].split("/")[0]
        settings = msgspec.structs.replace(STRICT, egress_allow=("crm.corp.example",))
        service = WebhookService(redis, keys, settings=settings, resolver=Names({"crm.corp.example": [["127.0.0.1"]]}))
        await delivered_once(service, crm, f"http://crm.corp.example:{port}/hook", emit)
