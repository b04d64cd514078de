"""Event delivery: which WebSocket an app's events go to, encoded once and written by one task per socket.

The model calls `deliver()` synchronously for every event; this only encodes and appends to the socket's queue,
so the per-event cost is one msgspec encode. A writer task per socket drains the queue. An app's events go to its
newest socket (a second socket for the same app sends ApplicationReplaced to the older one, which then hears
nothing more); with no socket connected they are dropped, as Asterisk drops them.
"""

from __future__ import annotations

import asyncio
from collections import deque

import msgspec
from aiohttp import WSMsgType, web

from callcenter_ari.sim.wire import ASTERISK_ID, Json, format_timestamp


class Connection:
    def __init__(self, ws: web.WebSocketResponse, apps: list[str]) -> None:
        self.ws = ws
        self.apps = apps
        self._queue: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self.closed = False

    def send(self, data: bytes) -> None:
        if not self.closed:
            self._queue.append(data)
            self._wake.set()

    async def run_writer(self) -> None:
        queue, ws = self._queue, self.ws
        while not self.closed:
            await self._wake.wait()
            self._wake.clear()
            while queue:
                if ws.closed:
                    return
                await ws.send_frame(queue.popleft(), WSMsgType.TEXT)

    def close(self) -> None:
        self.closed = True
        self._wake.set()


class Hub:
    def __init__(self, clock_now: object) -> None:
        self._now = clock_now
        self.active: dict[str, Connection] = {}
        self.connections: set[Connection] = set()
        self.encoder = msgspec.json.Encoder()
        self.sent = 0

    def deliver(self, app: str, event: Json) -> None:
        conn = self.active.get(app)
        if conn is not None:
            self.sent += 1
            conn.send(self.encoder.encode(event))

    def is_connected(self, app: str) -> bool:
        return app in self.active

    def attach(self, conn: Connection) -> None:
        self.connections.add(conn)
        for app in conn.apps:
            old = self.active.get(app)
            if old is not None and old is not conn:
                replaced = {
                    "type": "ApplicationReplaced",
                    "timestamp": format_timestamp(self._now()),  # type: ignore[operator]
                    "application": app,
                    "asterisk_id": ASTERISK_ID,
                }
                old.send(self.encoder.encode(replaced))
            self.active[app] = conn

    def detach(self, conn: Connection) -> None:
        conn.close()
        self.connections.discard(conn)
        for app in conn.apps:
            if self.active.get(app) is conn:
                del self.active[app]

    async def drop_all(self) -> int:
        """Close every event WebSocket from the server side (a network drop, as the app sees it)."""
        conns = list(self.connections)
        for conn in conns:
            self.detach(conn)
            await conn.ws.close(code=1001, message=b"simulated drop")
        return len(conns)
