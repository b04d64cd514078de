"""The simulator as a transport of the production ARI client, with no socket in between.

It is REST over WebSocket without the WebSocket. A request goes to the operation table through the same function
the WebSocket endpoint uses (``server.rest_answer``), one at a time in the order sent, as Asterisk reads RESTRequests
off one socket; the answer is the status and JSON body a RESTResponse would carry, and the client turns it into
errors exactly as it does any other transport's. Events are the very bytes the hub writes to a WebSocket, decoded
by the client's own ``decode_wire``, and they keep the WebSocket's order: a reply is queued behind the events its
request caused, and the request returns only once the reader has handed those to the sink. A drop (``Hub.drop_all``)
ends the event stream with ``AriUnavailable`` and loses what was queued, as a dropped socket does; the client then
reconnects with a new transport.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import anyio

from callcenter_ari.ari.errors import AriUnavailable, LoginRefused
from callcenter_ari.ari.events import decode_wire
from callcenter_ari.ari.transport import Endpoint, EventSink, Response
from callcenter_ari.sim.server import message_body, rest_answer

if TYPE_CHECKING:
    from callcenter_ari.sim.simulator import Simulator


class _Reply:
    """A request's place in the event stream: reached once every event queued before it has been delivered."""

    __slots__ = ("delivered", "reached")

    def __init__(self) -> None:
        self.reached = anyio.Event()
        self.delivered = False


class _Stream:
    """The hub's subscriber for one in-process connection: events and reply markers, in order."""

    def __init__(self, apps: list[str]) -> None:
        self.apps = apps
        self.items: deque[bytes | _Reply] = deque()
        self.wake = anyio.Event()
        self.closed = False

    def send(self, data: bytes | _Reply) -> None:
        if not self.closed:
            self.items.append(data)
            self.wake.set()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for item in self.items:
            if isinstance(item, _Reply):
                item.reached.set()  # not delivered: its request fails as on a closed socket
        self.items.clear()
        self.wake.set()

    async def drop(self) -> None:
        self.close()  # the hub has detached it: closing is all a drop is, without a socket


class InProcessTransport:
    name = "inprocess"

    def __init__(self, sim: Simulator, endpoint: Endpoint, request_timeout: float = 10.0) -> None:
        self._sim = sim
        self._endpoint = endpoint
        self._timeout = request_timeout
        self._stream: _Stream | None = None
        self._turn = anyio.Lock()  # requests are answered one after another, in the order sent

    async def request(
        self, method: str, path: str, query: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        stream = self._stream
        if stream is None or stream.closed:
            raise AriUnavailable("the simulator's event stream is not connected")
        uri, _, inline = path.partition("?")
        params = {**dict(parse_qsl(inline, keep_blank_values=True)), **(query or {})}
        reply = _Reply()
        try:
            with anyio.fail_after(self._timeout):
                async with self._turn:
                    status, answer = await rest_answer(self._sim, method, uri, params, message_body(body or b""))
                    stream.send(reply)
                await reply.reached.wait()
        except TimeoutError:
            raise AriUnavailable(f"no answer to {method} {path} within {self._timeout} s") from None
        if not reply.delivered:
            raise AriUnavailable("the simulator's event stream closed during a request")
        return Response(status, answer)

    async def run(self, sink: EventSink, connected: Callable[[], None]) -> None:
        sim, endpoint = self._sim, self._endpoint
        if (endpoint.username, endpoint.password) != (sim.config.username, sim.config.password):
            raise LoginRefused(f"Asterisk refused the ARI login of user {endpoint.username!r} at {endpoint.url}")
        stream = self._stream = _Stream([endpoint.app])
        sim.core.apps.add(endpoint.app)
        sim.hub.attach(stream)
        try:
            connected()
            await self._read(stream, sink)
        finally:
            sim.hub.detach(stream)
            self._stream = None
        raise AriUnavailable("the simulator dropped the event stream")

    @staticmethod
    async def _read(stream: _Stream, sink: EventSink) -> None:
        items = stream.items
        while not stream.closed:
            if not items:
                stream.wake = anyio.Event()
                await stream.wake.wait()
                continue
            item = items.popleft()
            if isinstance(item, _Reply):
                item.delivered = True
                item.reached.set()
            else:
                await sink(decode_wire(item))  # type: ignore[arg-type]
