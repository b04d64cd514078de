"""ARI over one WebSocket: events in, REST requests out as RESTRequest messages, RESTResponse replies back.

Frames are encoded and decoded with msgspec; a reply is matched to its request by ``request_id``. Events caused
by a request can arrive before its reply (Asterisk sends the answer's ChannelStateChange first), which is fine:
they go to the event sink in the order they arrived.

A request is either awaited (``request``) or sent without waiting (``send``, its answer handed to a callback):
both write the frame at once, in the order called, so Asterisk, which reads one socket's requests one after
another, carries them out in that order. Frames sent without waiting within one turn of the event loop go out in
one write.

Requests time out through one sweeper per connection, not a timer each: every request has the same timeout, so
their deadlines come in the order they were sent, and the sweeper fails those past it from the front of a queue.
A request is failed at most ``SWEEP_SECONDS`` after its deadline.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections import deque
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import State

from callcenter_ari.ari.errors import AriError, AriUnavailable, ExceptionMapping, LoginRefused, map_exceptions
from callcenter_ari.ari.events import RestResponse, decode_wire
from callcenter_ari.ari.transport import Completion, Endpoint, EventSink, Response


class _QueryString(msgspec.Struct, frozen=True):
    name: str
    value: str


class _RestRequest(msgspec.Struct, frozen=True, omit_defaults=True, tag_field="type", tag="RESTRequest"):
    request_id: str
    method: str
    uri: str
    query_strings: list[_QueryString] = []
    content_type: str = ""
    message_body: str = ""


_encoder = msgspec.json.Encoder()
SWEEP_SECONDS = 0.25


def _connect_errors(endpoint: Endpoint) -> ExceptionMapping:
    def refused(exc: BaseException) -> AriError:
        status = exc.response.status_code if isinstance(exc, InvalidStatus) else 0
        if status == 401:
            return LoginRefused(f"Asterisk refused the ARI login of user {endpoint.username!r} at {endpoint.url}")
        return AriUnavailable(f"ARI WebSocket refused: HTTP {status}")

    return {
        InvalidStatus: refused,
        OSError: lambda exc: AriUnavailable(f"ARI WebSocket: {exc}"),
        ConnectionClosed: lambda exc: AriUnavailable(f"ARI WebSocket: {exc}"),
    }


_REQUEST_ERRORS: ExceptionMapping = {
    ConnectionClosed: lambda _: AriUnavailable("the ARI WebSocket closed during a request"),
}


class WebSocketTransport:
    name = "websocket"

    def __init__(self, endpoint: Endpoint, request_timeout: float = 10.0) -> None:
        self._endpoint = endpoint
        self._timeout = request_timeout
        self._ws: ClientConnection | None = None
        # Who waits for each request's answer: an awaiting ``request`` (a future) or a ``send``'s callback.
        self._pending: dict[str, asyncio.Future[RestResponse] | Completion] = {}
        self._deadlines: deque[tuple[float, str, str]] = deque()  # (deadline, request id, what), in sending order
        self._ids = itertools.count(1)
        self._flush_due = False

    def _frame(self, method: str, path: str, query: Mapping[str, str] | None, body: bytes | None) -> tuple[str, bytes]:
        request_id = f"r{next(self._ids)}"
        message = _RestRequest(
            request_id=request_id,
            method=method,
            uri=path,
            query_strings=[_QueryString(k, v) for k, v in query.items()] if query else [],
            content_type="application/json" if body else "",
            message_body=body.decode() if body else "",
        )
        self._deadlines.append((time.monotonic() + self._timeout, request_id, f"{method} {path}"))
        return request_id, _encoder.encode(message)

    async def request(
        self, method: str, path: str, query: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        ws = self._ws
        if ws is None:
            raise AriUnavailable("the ARI WebSocket is not connected")
        request_id, frame = self._frame(method, path, query, body)
        future: asyncio.Future[RestResponse] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            with map_exceptions(_REQUEST_ERRORS):
                await ws.send(frame, text=True)  # written before it first waits: after every frame sent before
                reply = await future
        finally:
            self._pending.pop(request_id, None)
        return Response(reply.status_code, reply.message_body.encode())

    def send(
        self, method: str, path: str, query: Mapping[str, str] | None, body: bytes | None, done: Completion
    ) -> None:
        """Put the request on the wire without waiting; ``done`` gets its answer, or ``AriUnavailable`` once none
        can come (the socket closed, or the request's time-out passed)."""
        ws = self._ws
        if ws is None or ws.protocol.state is not State.OPEN:
            raise AriUnavailable("the ARI WebSocket is not connected")
        request_id, frame = self._frame(method, path, query, body)
        self._pending[request_id] = done
        ws.protocol.send_text(frame)
        if not self._flush_due:  # the frames of this turn of the loop go out together, in order
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self._flush, ws)

    def _flush(self, ws: ClientConnection) -> None:
        self._flush_due = False
        if ws.protocol.state is State.OPEN:  # frames only, none of a closing handshake's end-of-file markers
            ws.transport.writelines(ws.protocol.data_to_send())

    async def run(self, sink: EventSink, connected: Callable[[], None]) -> None:
        endpoint = self._endpoint
        credentials = base64.b64encode(f"{endpoint.username}:{endpoint.password}".encode()).decode()
        url = f"{endpoint.ws_url}/ari/events?" + urlencode({"app": endpoint.app, "subscribeAll": "false"})
        try:
            with map_exceptions(_connect_errors(endpoint)):
                async with connect(
                    url,
                    additional_headers={"Authorization": f"Basic {credentials}"},
                    compression=None,
                    max_size=None,
                    # A busy loop answers pings late; dropping a healthy connection under load would turn a surge
                    # into a reconnect storm. A dead peer is still found, just a little later.
                    ping_interval=30,
                    ping_timeout=120,
                ) as ws:
                    self._ws = ws
                    connected()
                    sweeper = asyncio.ensure_future(self._sweep())
                    try:
                        await self._read(ws, sink)
                    finally:
                        sweeper.cancel()
        finally:
            self._ws = None
            self._fail_pending()

    async def _sweep(self) -> None:
        """Fail the requests whose deadline has passed with no reply."""
        deadlines, pending = self._deadlines, self._pending
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            now = time.monotonic()
            while deadlines and deadlines[0][0] <= now:
                _, request_id, what = deadlines.popleft()
                waiter = pending.get(request_id)
                if isinstance(waiter, asyncio.Future):
                    if not waiter.done():
                        waiter.set_exception(AriUnavailable(f"no RESTResponse to {what} within {self._timeout} s"))
                elif waiter is not None:
                    del pending[request_id]
                    waiter(AriUnavailable(f"no RESTResponse to {what} within {self._timeout} s"))

    async def _read(self, ws: ClientConnection, sink: EventSink) -> None:
        pending = self._pending
        async for frame in ws:
            message = decode_wire(frame)
            if type(message) is RestResponse:
                waiter = pending.get(message.request_id)
                if isinstance(waiter, asyncio.Future):
                    if not waiter.done():
                        waiter.set_result(message)
                elif waiter is not None:
                    del pending[message.request_id]
                    waiter(Response(message.status_code, message.message_body.encode()))
            else:
                await sink(message)  # type: ignore[arg-type]

    def _fail_pending(self) -> None:
        self._deadlines.clear()
        waiters, self._pending = self._pending, {}
        for waiter in waiters.values():
            if isinstance(waiter, asyncio.Future):
                if not waiter.done():
                    waiter.set_exception(AriUnavailable("the ARI WebSocket closed during a request"))
                    waiter.exception()  # its requester may be gone already: do not report it as never retrieved
            else:
                waiter(AriUnavailable("the ARI WebSocket closed during a request"))
