"""API fixtures: the real Application on the simulator (in process, on the manual clock, see tests/e2e/conftest.py)
and a real Redis, with the API served over real HTTP.

``open_api`` starts the application (``start_app`` from the end-to-end fixtures), builds the Litestar app from
its ``ApiDeps`` and serves it on a free port; ``api.client(name)`` is an httpx client holding that token.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest

from callcenter_ari.clock import Clock, ManualClock
from callcenter_ari.http.app import build_app, serve
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import PhoneBehaviour, Simulator
from callcenter_ari.tls import client_context
from tests.e2e.conftest import sim, start_app  # noqa: F401 - fixtures reused here
from tests.e2e.helpers import agent_leg_up_in_sim, greeted_over_wire, phase_of, through_greeting, until

TOKENS = {
    "admin": "admin-token-0123456789",
    "supervisor": "supervisor-token-0123456789",
    "qa": "qa-token-0123456789",
    "crm": "crm-token-0123456789",
    "agent1": "agent1-token-0123456789",
    "agent2": "agent2-token-0123456789",
    "other_admin": "other-admin-token-0123456789",
    "other_supervisor": "other-supervisor-token-0123456789",
    "other_crm": "other-crm-token-0123456789",
    "other_agent1": "other-agent1-token-0123456789",
}

API_CONFIG = """
[queues.billing]
name = "Billing"
[agents.a1]
endpoint = "PJSIP/agent1"
name = "Ann"
queues = ["support"]
[agents.a2]
endpoint = "PJSIP/agent2"
name = "Bob"
queues = ["support", "billing"]
[agents.a3]
endpoint = "PJSIP/agent3"
queues = ["billing"]
logged_in = false
[api.tokens.admin]
token = "admin-token-0123456789"
role = "admin"
[api.tokens.supervisor]
token = "supervisor-token-0123456789"
role = "supervisor"
[api.tokens.qa]
token = "qa-token-0123456789"
role = "qa"
[api.tokens.crm]
token = "crm-token-0123456789"
role = "crm"
[api.tokens.agent1]
token = "agent1-token-0123456789"
role = "agent"
agent_id = "a1"
[api.tokens.agent2]
token = "agent2-token-0123456789"
role = "agent"
agent_id = "a2"
[api.tokens.other_admin]
token = "other-admin-token-0123456789"
role = "admin"
tenant = "t2"
[api.tokens.other_supervisor]
token = "other-supervisor-token-0123456789"
role = "supervisor"
tenant = "t2"
[api.tokens.other_crm]
token = "other-crm-token-0123456789"
role = "crm"
tenant = "t2"
[api.tokens.other_agent1]
token = "other-agent1-token-0123456789"
role = "agent"
agent_id = "a1"
tenant = "t2"
"""


@dataclasses.dataclass
class Api:
    app: Application
    deps: ApiDeps
    base_url: str

    def client(self, name: str | None = None, *, token: str | None = None) -> httpx.AsyncClient:
        """A client with the named configured token (or a raw ``token``; neither: no Authorization header)."""
        secret = token if token is not None else TOKENS[name] if name else None
        headers = {"authorization": f"Bearer {secret}"} if secret is not None else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=10, verify=client_context())


OpenApi = Callable[..., AbstractAsyncContextManager[Api]]


def emit(app: Application, kind: str, **fields: Any) -> None:
    """Append an event to the tenant's stream, as the runtime does (the tests then flush the store)."""
    app.services.emit(kind, fields)


async def call_with_agent(app: Application, simulator: Simulator, caller: str, agent: str = "a1") -> str:
    """A caller on 5552000 (queue support) answered by ``agent`` (the others are logged out); returns the channel."""
    for other in ("a1", "a2"):
        if other != agent and app.acd.board.agents[other].state != "logged_out":
            await app.acd.log_out(other)
    simulator.add_phone(app.config.agents[agent].endpoint, PhoneBehaviour(answer_after=0.5, kind="answer"))
    channel = await simulator.inject_call(did="5552000", caller=caller, caller_name="Anna Miller")
    if isinstance(app.clock, ManualClock):
        await through_greeting(simulator, channel)
    else:  # a test marked wire: the greeting's Play request crosses a socket first
        await greeted_over_wire(simulator, channel)
    await until(app, lambda: agent_leg_up_in_sim(app, simulator, channel), "agent ringing")
    await simulator.advance(1.0)
    await until(app, lambda: phase_of(app, channel) == "talking", "talking")
    return channel


@pytest.fixture
def open_api(start_app: Any) -> OpenApi:  # noqa: F811 - the fixture imported above
    @asynccontextmanager
    async def open_(
        extra: str = "", *, seat_limit: int | None = None, clock: Clock | None = None, **ari: Any
    ) -> AsyncIterator[Api]:
        """``clock``: the API's own clock (a later one shows tickets overdue without waiting 15 minutes)."""
        seats = "" if seat_limit is None else f"\n[app]\nseat_limit = {seat_limit}\n"
        async with start_app(API_CONFIG + extra + seats, **ari) as app:
            deps = dataclasses.replace(ApiDeps.from_application(app), clock=clock or app.clock)
            async with anyio.create_task_group() as tg:
                port = await tg.start(serve, build_app(deps), "127.0.0.1", 0)
                try:
                    yield Api(app, deps, f"http://127.0.0.1:{port}")
                finally:
                    tg.cancel_scope.cancel()

    return open_
