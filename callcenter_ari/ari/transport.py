"""What a transport to Asterisk must do: carry REST requests and deliver events.

Two implementations: ``HttpTransport`` (asyncari: HTTP requests plus the event WebSocket, works with every
Asterisk that has ARI) and ``WebSocketTransport`` (REST requests carried over the event WebSocket as RESTRequest
messages, Asterisk 22 and later; an order of magnitude less CPU per request, see BENCHMARKS.md). The simulator
offers a third for tests, with no socket (``sim/inprocess.py``). A transport returns every answer Asterisk gives,
errors included, and raises only ``AriUnavailable``: the client classifies answers (errors.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from callcenter_ari.ari.errors import AriUnavailable
from callcenter_ari.ari.events import Event, UnknownEvent

# Awaited for every event, in arrival order: a slow consumer slows the reader instead of losing events.
EventSink = Callable[[Event | UnknownEvent], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where Asterisk's ARI is and who we are to it. ``repr`` never shows the password."""

    url: str
    app: str
    username: str
    password: str

    def __repr__(self) -> str:
        return f"Endpoint(url={self.url!r}, app={self.app!r}, username={self.username!r})"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1).replace("https://", "wss://", 1).rstrip("/")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


class Transport(Protocol):
    name: str

    async def request(
        self, method: str, path: str, query: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        """Send one ARI request (``path`` relative to /ari, no leading slash) and return its response, whatever its
        status; raise ``AriUnavailable`` when it cannot be sent or answered."""
        ...

    async def run(self, sink: EventSink, connected: Callable[[], None]) -> None:
        """Deliver events to ``sink`` until the connection ends; call ``connected`` once it is up."""
        ...


# Called once with a request's answer, or with the ``AriUnavailable`` that means none will come.
Completion = Callable[[Response | AriUnavailable], None]


@runtime_checkable
class SendsWithoutWaiting(Protocol):
    """A transport whose requests keep their order on the wire without being awaited (REST over one WebSocket):
    ``send`` puts a request on its way now and calls ``done`` with the answer when it comes."""

    def send(
        self, method: str, path: str, query: Mapping[str, str] | None, body: bytes | None, done: Completion
    ) -> None: ...


# A new transport for each connection (``AriClient`` asks again after every drop).
TransportFactory = Callable[[Endpoint], Transport]
