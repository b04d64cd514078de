from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from callcenter_ari.sim import SimConfig, Simulator

USER, PASSWORD = "asterisk", "secret"


class Client:
    """A plain HTTP + event WebSocket client, the way any ARI app talks to the server."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base = base_url
        self.events: list[dict[str, Any]] = []
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def call(self, method: str, path: str, **params: str) -> tuple[int, Any]:
        params["api_key"] = f"{USER}:{PASSWORD}"
        async with self.session.request(method, self.base + path, params=params) as resp:
            text = await resp.text()
            return resp.status, (json.loads(text) if text else None)

    async def connect(self, app: str = "callcenter") -> None:
        self.ws = await self.session.ws_connect(
            self.base.replace("http", "ws") + f"/ari/events?app={app}&api_key={USER}:{PASSWORD}"
        )

    async def drain(self, timeout: float = 0.05) -> list[dict[str, Any]]:
        assert self.ws is not None
        while True:
            try:
                msg = await self.ws.receive(timeout=timeout)
            except TimeoutError:
                return self.events
            if msg.type != aiohttp.WSMsgType.TEXT:
                return self.events
            self.events.append(json.loads(msg.data))

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    yield Simulator(SimConfig(username=USER, password=PASSWORD, clock="manual", seed=3))


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[Client]:
    async with sim.serve() as server, aiohttp.ClientSession() as session:
        c = Client(session, server.base_url)
        await c.connect()
        yield c
        if c.ws is not None:
            await c.ws.close()
