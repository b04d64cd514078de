"""A whole run with the logs captured, and no secret in them.

As ``callcenter-ari run`` does it, on either ARI transport: a configuration file whose secrets come from the
environment, read by ``load_platform``; the project's logging (``logs.configure``, JSON, debug level) and every
record the standard library's loggers make, at any level (more than the process prints); a Redis that requires a
password; the simulator with its own ARI password; API traffic with every token (and a wrong one), webhook
subscriptions with given, generated and rotated secrets, deliveries that succeed and fail, a call from the IVR to an
agent and a completed ticket, and an ARI reconnect. Each secret is looked for as itself and as it would appear in a
URL or a header.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import secrets
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import anyio
import httpx
import pytest
import structlog
from aiohttp import web
from redis.asyncio import Redis

from callcenter_ari import logs, wiring
from callcenter_ari.demo.redis_server import redis_binary
from callcenter_ari.platform_config import load_platform
from callcenter_ari.runtime.platform import Platform
from callcenter_ari.sim import PhoneBehaviour, SimConfig, Simulator
from callcenter_ari.webhooks import generate_secret
from tests.e2e.helpers import agent_leg_up_in_sim, eventually, greeted_over_wire
from tests.webhooks.helpers import NO_DNS

ARI_USER = "callcenter"
CONFIG = """
[app]
tenant = "acme"
shutdown_grace_seconds = 1
[ari]
url = "${ARI_URL}"
username = "callcenter"
password = "${ARI_PASSWORD}"
transport = "${TRANSPORT}"
reconnect_initial_seconds = 0.05
reconnect_max_seconds = 0.2
[redis]
url = "redis://:${REDIS_PASSWORD}@127.0.0.1:${REDIS_PORT}/0"
prefix = "${PREFIX}"
[http]
host = "127.0.0.1"
port = 0
[log]
level = "debug"
[webhooks]
egress_allow = ["127.0.0.0/8"]
backoff = [0.05, 0.1]
jitter = 0.0
max_attempts = 2
poll_interval = 0.05
read_block = 0.05
[dids.5552000]
queue = "support"
[queues.support]
wrapup_seconds = 0
[agents.a1]
endpoint = "PJSIP/agent1"
queues = ["support"]
[api.tokens.admin]
token = "${ADMIN_TOKEN}"
role = "admin"
[api.tokens.crm]
token = "${CRM_TOKEN}"
role = "crm"
[api.tokens.desk]
token = "${AGENT_TOKEN}"
role = "agent"
agent_id = "a1"
"""


@contextlib.contextmanager
def redis_with_password(password: str, workdir: Path) -> Iterator[int]:
    """A private redis-server on loopback that refuses clients without the password."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--requirepass", password]
    command += ["--save", "", "--appendonly", "no", "--dir", str(workdir)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            assert process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


class Captured(logging.Handler):
    """Every record the standard library's loggers make, at every level, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def all_logs() -> Iterator[tuple[io.StringIO, Captured]]:
    stream, handler = io.StringIO(), Captured()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logs.configure("debug", "json", stream=stream, cache=False)
    try:
        yield stream, handler
    finally:
        structlog.reset_defaults()
        root.removeHandler(handler)
        root.setLevel(level)


@contextlib.asynccontextmanager
async def receiver(status: int) -> AsyncIterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=status, text="internal answer: do not show")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", received
    finally:
        await runner.cleanup()


def forms(secret: str) -> set[str]:
    """A secret as it could appear: itself, URL-encoded, in a Basic header, a webhook secret's key part."""
    found = {secret, quote(secret, safe=""), base64.b64encode(f"{ARI_USER}:{secret}".encode()).decode()}
    if secret.startswith("whsec_"):
        found.add(secret.removeprefix("whsec_"))
    return {form for form in found if len(form) >= 12}


@pytest.mark.usefixtures("loopback_only")
@pytest.mark.parametrize("transport", ["websocket", "http"])
async def test_no_secret_reaches_the_logs_of_a_whole_run(tmp_path: Path, key_prefix: str, transport: str) -> None:
    values = {name: secrets.token_urlsafe(18) for name in ("ARI_PASSWORD", "REDIS_PASSWORD")}
    values |= {name: f"tok-{secrets.token_urlsafe(18)}" for name in ("ADMIN_TOKEN", "CRM_TOKEN", "AGENT_TOKEN")}
    given_secret = generate_secret()
    revealed: list[str] = [given_secret]  # webhook secrets the API showed (generated and rotated ones)
    sim = Simulator(SimConfig(app="callcenter", username=ARI_USER, password=values["ARI_PASSWORD"], clock="manual"))
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.5, kind="answer"))
    with redis_with_password(values["REDIS_PASSWORD"], tmp_path) as redis_port, all_logs() as (stream, handler):
        async with sim.serve(host="127.0.0.1", port=0) as server:
            environ = {**values, "ARI_URL": server.base_url, "REDIS_PORT": str(redis_port), "PREFIX": key_prefix}
            environ["TRANSPORT"] = transport
            (tmp_path / "acme.toml").write_text(CONFIG)
            [tenant] = load_platform([tmp_path / "acme.toml"], environ)
            redis = Redis.from_url(tenant.config.redis.url)
            platform = wiring.platform([tenant.config], redis=redis, resolver=NO_DNS)
            async with receiver(200) as (good_url, delivered), receiver(500) as (bad_url, refused):
                async with anyio.create_task_group() as tg:
                    await tg.start(platform.run)
                    base = f"http://127.0.0.1:{platform.http_port}"
                    revealed += await api_traffic(base, values, given_secret, good_url, bad_url)
                    await a_call(platform, sim, base, values["AGENT_TOKEN"])
                    await eventually(lambda: delivered and len(refused) >= 2, timeout=10, what="deliveries")
                    reconnects = platform.tenants["acme"].metrics.ari_reconnects
                    await sim.drop_websockets()
                    await eventually(lambda: reconnects._value.get() >= 1, what="ARI reconnect")
                    platform.stop()
            await redis.aclose()
    text = stream.getvalue() + "\n".join(handler.lines)
    assert "ari.reconnect" in text or "ari.connected" in text  # the capture did capture the run
    assert "webhooks.attempt" in text and "call.ended" in text
    leaked = {name: form for name, secret in [*values.items(), *(("webhook", s) for s in revealed)]
              for form in forms(secret) if form in text}  # fmt: skip
    assert leaked == {}


async def api_traffic(base: str, values: dict[str, str], given: str, good_url: str, bad_url: str) -> list[str]:
    """Every token at work, a wrong one refused, webhook secrets given, generated and rotated."""
    shown: list[str] = []
    tokens = {"admin": values["ADMIN_TOKEN"], "crm": values["CRM_TOKEN"], "agent": values["AGENT_TOKEN"]}
    clients = {
        role: httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {t}"}) for role, t in tokens.items()
    }
    async with contextlib.AsyncExitStack() as stack:
        for client in clients.values():
            await stack.enter_async_context(client)
        admin, crm, agent = clients["admin"], clients["crm"], clients["agent"]
        ok = await admin.post("/api/v1/webhooks/subscriptions", json={"url": good_url, "secret": given})
        assert ok.status_code == 201, ok.text
        failing = await crm.post("/api/v1/webhooks/subscriptions", json={"url": bad_url, "events": ["call.*"]})
        shown.append(failing.json()["secret"])
        rotated = await crm.post(f"/api/v1/webhooks/subscriptions/{failing.json()['id']}/rotate-secret")
        shown.append(rotated.json()["secret"])
        bad_secret = await crm.post("/api/v1/webhooks/subscriptions", json={"url": good_url, "secret": "whsec_nope"})
        assert bad_secret.status_code == 422
        for client in clients.values():
            assert (await client.get("/api/v1/agents")).status_code == 200
            await client.get("/api/v1/webhooks/subscriptions")
            await client.get("/metrics")
        await agent.get("/api/v1/calls")
        wrong = httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {values['ADMIN_TOKEN']}x"})
        async with wrong:
            assert (await wrong.get("/api/v1/agents")).status_code == 401
    return shown


async def a_call(platform: Platform, sim: Simulator, base: str, agent_token: str) -> None:
    """A caller answered by the agent, who hangs up; the agent files the ticket."""
    app = platform.tenants["acme"]
    channel = await sim.inject_call(did="5552000", caller="+15550009999", caller_name="Ann")
    await greeted_over_wire(sim, channel)
    await eventually(lambda: agent_leg_up_in_sim(app, sim, channel), what="agent rung")
    await sim.advance(1.0)
    await eventually(lambda: app.acd.board.agents["a1"].state == "talking", what="talking")
    await sim.advance(20.0)
    await sim.hangup(channel, cause=16)
    await eventually(lambda: not app.services.calls, what="call ended")
    async with httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {agent_token}"}) as desk:

        async def ticket() -> list[dict[str, object]]:
            found = await desk.get("/api/v1/tickets", params={"caller_number": "+15550009999"})
            return found.json()["tickets"]  # type: ignore[no-any-return]

        [opened] = await eventually(ticket, what="ticket opened")
        form = {
            "category": "inquiry",
            "customer_name": "Ann Example",
            "place": "Main Street 5",
            "summary": "asked about the bill",
            "description": {"time": "today", "what_happened": "a high bill", "request": "explain the bill"},
            "answer": "explained it",
            "answer_basis": "the tariff sheet",
        }
        completed = await desk.post(f"/api/v1/tickets/{opened['number']}/complete", json=form)
        assert completed.status_code == 200, completed.text
