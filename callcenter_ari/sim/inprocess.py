"""The simulator as a transport of the production ARI client, with no socket in between.

It is REST over WebSocket without the WebSocket. A request goes to the operation table through the same function the
WebSocket endpoint uses (``server.rest_answer``), one at a time in the order sent (awaited or sent without waiting
alike), as Asterisk reads RESTRequests off one socket; the answer is the status and JSON body a RESTResponse would
carry, and the client turns it into errors exactly as it does any other transport's. Events are the very bytes the
hub writes to a WebSocket, decoded by the client's own ``decode_wire``, and they keep the WebSocket's order: a reply
is queued behind the events its request caused, and the request returns only once the reader has handed those to the
sink. A drop (``Hub.drop_all``) ends the event stream with ``AriUnavailable`` and loses what was queued, as a
dropped socket does; the client then reconnects with a new transport.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import anyio
import msgspec
import structlog

from callcenter_ari.ari.errors import AriUnavailable, LoginRefused
from callcenter_ari.ari.events import decode_wire
from callcenter_ari.ari.transport import Completion, Endpoint, EventSink, Response
from callcenter_ari.ari.websocket import SWEEP_SECONDS
from callcenter_ari.sim.server import message_body, rest_answer

if TYPE_CHECKING:
    from callcenter_ari.sim.simulator import Simulator

log = structlog.get_logger(__name__)


class _Reply:
    """A request's answer, in its place in the event stream: handed to ``done`` once every event queued before it
    has been delivered."""

    __slots__ = ("answer", "done")

    def __init__(self, answer: Response, done: Completion) -> None:
        self.answer = answer
        self.done = done


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
        items, self.items = self.items, deque()
        for item in items:
            if isinstance(item, _Reply):  # not delivered: its request fails as on a closed socket
                item.done(AriUnavailable("the simulator's event stream closed during a request"))
        self.wake.set()

    async def drop(self) -> None:
        self.close()  # the hub has detached it: closing is all a drop is, without a socket


class _Waiter:
    """Who waits for one request's answer: told once, by the answer or by the time-out, whichever comes first."""

    __slots__ = ("deadline", "done", "told", "what")

    def __init__(self, done: Completion, deadline: float, what: str) -> None:
        self.done = done
        self.deadline = deadline
        self.what = what
        self.told = False

    def __call__(self, answer: Response | AriUnavailable) -> None:
        if not self.told:
            self.told = True
            self.done(answer)


class InProcessTransport:
    name = "inprocess"

    def __init__(self, sim: Simulator, endpoint: Endpoint, request_timeout: float = 10.0) -> None:
        self._sim = sim
        self._endpoint = endpoint
        self._timeout = request_timeout
        self._stream: _Stream | None = None
        # Requests awaited and sent without waiting alike, answered one after another in the order sent.
        self._outbox: deque[tuple[str, str, Mapping[str, str] | None, bytes | None, _Waiter]] = deque()
        self._queued = anyio.Event()
        self._waiting: deque[_Waiter] = deque()  # in sending order, hence in deadline order

    async def request(
        self, method: str, path: str, query: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        answers: list[Response | AriUnavailable] = []
        came = anyio.Event()

        def done(answer: Response | AriUnavailable) -> None:
            answers.append(answer)
            came.set()

        self.send(method, path, query, body, done)
        await came.wait()  # the answer, or the time-out's AriUnavailable
        if isinstance(answers[0], AriUnavailable):
            raise answers[0]
        return answers[0]

    def send(
        self, method: str, path: str, query: Mapping[str, str] | None, body: bytes | None, done: Completion
    ) -> None:
        stream = self._stream
        if stream is None or stream.closed:
            raise AriUnavailable("the simulator's event stream is not connected")
        waiter = _Waiter(done, time.monotonic() + self._timeout, f"{method} {path}")
        self._outbox.append((method, path, query, body, waiter))
        self._waiting.append(waiter)
        self._queued.set()

    async def run(self, sink: EventSink, connected: Callable[[], None]) -> None:
        sim, endpoint = self._sim, self._endpoint
        if (endpoint.username, endpoint.password) != (sim.config.username, sim.config.password):
            raise LoginRefused(f"Asterisk refused the ARI login of user {endpoint.username!r} at {endpoint.url}")
        stream = self._stream = _Stream([endpoint.app])
        sim.core.apps.add(endpoint.app)
        sim.hub.attach(stream)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._answer, stream)
                tg.start_soon(self._sweep)
                connected()
                await self._read(stream, sink)
                tg.cancel_scope.cancel()
        finally:
            sim.hub.detach(stream)
            self._stream = None
            self._outbox.clear()
            waiting, self._waiting = self._waiting, deque()
            for waiter in waiting:
                waiter(AriUnavailable("the simulator's event stream closed during a request"))
        raise AriUnavailable("the simulator dropped the event stream")

    async def _sweep(self) -> None:
        """Tell the requests whose time-out has passed that no answer comes (a late answer is then ignored), as
        the WebSocket transport's sweeper does."""
        waiting = self._waiting
        while True:
            await anyio.sleep(SWEEP_SECONDS)
            now = time.monotonic()
            while waiting and (waiting[0].told or waiting[0].deadline <= now):
                waiter = waiting.popleft()
                waiter(AriUnavailable(f"no answer to {waiter.what} within {self._timeout} s"))

    async def _answer(self, stream: _Stream) -> None:
        """Answer the requests in the order sent, each reply queued behind the events its request caused."""
        outbox = self._outbox
        while True:
            if not outbox:
                self._queued = anyio.Event()
                await self._queued.wait()
                continue
            method, path, query, body, done = outbox.popleft()
            uri, _, inline = path.partition("?")
            params = {**dict(parse_qsl(inline, keep_blank_values=True)), **(query or {})}
            try:
                status, answer = await rest_answer(self._sim, method, uri, params, message_body(body or b""))
            except anyio.get_cancelled_exc_class():
                done(AriUnavailable("the simulator's event stream closed during a request"))
                raise
            except Exception as exc:  # a fault of the simulator's: this request fails, as Asterisk's 500 would
                log.exception("sim.request_failed", request=f"{method} {path}")
                status, answer = 500, msgspec.json.encode({"message": f"simulator error: {exc!r}"[:200]})
            if stream.closed:
                done(AriUnavailable("the simulator's event stream closed during a request"))
            else:
                stream.send(_Reply(Response(status, answer), done))

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
                item.done(item.answer)
            else:
                await sink(decode_wire(item))  # type: ignore[arg-type]
