"""Event delivery: which WebSocket an app's events go to, encoded once and written by one task per socket.

The model calls `deliver()` synchronously for every event; this only encodes and appends to the socket's queue,
so the per-event cost is one msgspec encode. A writer task per socket drains the queue. An app's events go to its
newest socket (a second socket for the same app sends ApplicationReplaced to the older one, which then hears
nothing more); with no socket connected they are dropped, as Asterisk drops them. A subscriber is anything with
the shape of ``Subscriber``: the WebSocket ``Connection`` here, or the in-process transport's stream (inprocess.py).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

import msgspec
from aiohttp import WSMsgType, web

from callcenter_ari.sim.wire import ASTERISK_ID, Json, format_timestamp


class Subscriber(Protocol):
    apps: list[str]

    def send(self, data: bytes) -> None:
        """Queue one encoded event (or reply) for the application; never blocks."""
        ...

    def close(self) -> None:
        """Send nothing more."""
        ...

    async def drop(self) -> None:
        """End the connection from the server's side, as a network drop looks to the application."""
        ...


class Connection:
    """An event WebSocket: frames queued by ``send`` and written by ``run_writer``."""

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

    async def drop(self) -> None:
        await self.ws.close(code=1001, message=b"simulated drop")


class Hub:
    def __init__(self, clock_now: object) -> None:
        self._now = clock_now
        self.active: dict[str, Subscriber] = {}
        self.connections: set[Subscriber] = set()
        self.encoder = msgspec.json.Encoder()
        self.sent = 0  # events delivered to a connected application
        self.frames_in = 0  # WebSocket frames the applications sent (REST over WebSocket requests)
        self.replies_sent = 0  # REST over WebSocket replies (frames out beside the events)
        self.http_requests = 0  # REST requests over HTTP

    def deliver(self, app: str, event: Json) -> None:
        conn = self.active.get(app)
        if conn is not None:
            self.sent += 1
            conn.send(self.encoder.encode(event))

    def is_connected(self, app: str) -> bool:
        return app in self.active

    def attach(self, conn: Subscriber) -> None:
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

    def detach(self, conn: Subscriber) -> None:
        conn.close()
        self.connections.discard(conn)
        for app in conn.apps:
            if self.active.get(app) is conn:
                del self.active[app]

    async def drop_all(self) -> int:
        """Close every event connection from the server side (a network drop, as the app sees it)."""
        conns = list(self.connections)
        for conn in conns:
            self.detach(conn)
            await conn.drop()
        return len(conns)
