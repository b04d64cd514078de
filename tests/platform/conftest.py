"""Platform fixtures: two tenants (acme and globex) in one process, on one simulated Asterisk (in process, on the
manual clock, see tests/e2e/conftest.py), one Redis and one HTTP server. Each tenant has its own Stasis
application, DID, agents, tokens and seat limit; both have a queue named ``support``, so that the same id in two
tenants is shown to be two objects."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
import httpx
import msgspec
import pytest
from redis.asyncio import Redis

from callcenter_ari import wiring
from callcenter_ari.clock import ManualClock
from callcenter_ari.config import Config, HttpSection
from callcenter_ari.platform_config import TenantFile, check_platform
from callcenter_ari.runtime.app import Application
from callcenter_ari.runtime.platform import Platform
from callcenter_ari.sim import PhoneBehaviour, Simulator
from callcenter_ari.tls import client_context
from tests.e2e.conftest import sim, waiting_for_redis  # noqa: F401 - the fixture reused here
from tests.e2e.helpers import agent_leg_up_in_sim, make_config, phase_of, through_greeting
from tests.webhooks.helpers import NO_DNS

SHARED = """
[recording.default]
mode = "all"
[webhooks]
backoff = [0.05, 0.1]
jitter = 0.0
poll_interval = 0.05
read_block = 0.05
"""


@dataclasses.dataclass(frozen=True)
class Tenant:
    """What a test needs to know of one tenant: its DID, its agent who answers, its admin token."""

    id: str
    did: str
    agent: str
    admin: str
    config: str


ACME = Tenant(
    id="acme",
    did="5552000",
    agent="ann",
    admin="acme-admin-token-0123456789",
    config="""
[app]
tenant = "acme"
app_name = "acme"
seat_limit = 1
[agents.ann]
endpoint = "PJSIP/acme-ann"
name = "Ann"
queues = ["support"]
[agents.abe]
endpoint = "PJSIP/acme-abe"
name = "Abe"
queues = ["support"]
logged_in = false
[api.tokens.admin]
token = "acme-admin-token-0123456789"
role = "admin"
[api.tokens.stranger]
token = "initech-admin-token-0123456789"
role = "admin"
tenant = "initech"
""",
)

GLOBEX = Tenant(
    id="globex",
    did="5553000",
    agent="gina",
    admin="globex-admin-token-0123456789",
    config="""
[app]
tenant = "globex"
app_name = "globex"
seat_limit = 2
[dids.5553000]
queue = "support"
[agents.gina]
endpoint = "PJSIP/globex-gina"
name = "Gina"
queues = ["support"]
[agents.gus]
endpoint = "PJSIP/globex-gus"
name = "Gus"
queues = ["support"]
logged_in = false
[api.tokens.admin]
token = "globex-admin-token-0123456789"
role = "admin"
""",
)

TENANTS = (ACME, GLOBEX)
STRANGER = "initech-admin-token-0123456789"  # declared in acme's file for a tenant this process does not serve


@dataclasses.dataclass
class Running:
    platform: Platform
    base_url: str

    def app(self, tenant: Tenant) -> Application:
        return self.platform.tenants[tenant.id]

    def client(self, token: str) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=10, verify=client_context())


StartPlatform = Callable[[], AbstractAsyncContextManager[Running]]


def tenant_configs(sim: Simulator, redis_url: str, key_prefix: str) -> list[Config]:  # noqa: F811
    """Both tenants' configurations, checked together as ``run`` checks them."""
    http = HttpSection(enabled=True, host="127.0.0.1", port=0)
    configs = [
        msgspec.structs.replace(make_config(sim, redis_url, key_prefix, SHARED + tenant.config), http=http)
        for tenant in TENANTS
    ]
    check_platform([TenantFile(f"{config.app.tenant}.toml", config) for config in configs])
    return configs


@pytest.fixture
def start_platform(sim: Simulator, redis: Redis, redis_url: str, key_prefix: str) -> StartPlatform:  # noqa: F811
    """Start both tenants; a second start on the same key prefix is a restart of the platform."""

    @asynccontextmanager
    async def start() -> AsyncIterator[Running]:
        assert isinstance(sim.clock, ManualClock)
        configs = tenant_configs(sim, redis_url, key_prefix)
        platform = wiring.platform(configs, redis=redis, clock=sim.clock, ari_transport=sim.transport, resolver=NO_DNS)
        with waiting_for_redis(sim.clock, redis, *platform.tenants.values()):
            async with anyio.create_task_group() as tg:
                await tg.start(platform.run)
                try:
                    await sim.settle()
                    yield Running(platform, f"http://127.0.0.1:{platform.http_port}")
                finally:
                    platform.stop()

    return start


async def answered_call(running: Running, sim: Simulator, tenant: Tenant, caller: str) -> str:  # noqa: F811
    """A caller on the tenant's DID, sent by the dialplan to the tenant's Stasis application, talking with the
    tenant's agent; returns the caller's channel."""
    app = running.app(tenant)
    sim.add_phone(app.config.agents[tenant.agent].endpoint, PhoneBehaviour(answer_after=0.5, kind="answer"))
    channel = await sim.inject_call(did=tenant.did, caller=caller, caller_name="Anna Miller", app=tenant.id)
    await through_greeting(sim, channel)
    assert agent_leg_up_in_sim(app, sim, channel), "agent ringing"
    await sim.advance(1.0)
    assert phase_of(app, channel) == "talking"
    return channel
