"""The ARI path against the baseline: event dispatch, and REST requests over each transport.

Events: the same recorded Asterisk 22 event stream (every event of tests/sim/transcripts, repeated)
through asyncari's stock dispatch (json.loads + Client.process_ws, which builds an EventMessage and model objects)
and through the project's path (events.decode_wire + the dispatcher's match). REST: the same requests over HTTP
(asyncari through HttpTransport; plain httpx and aiohttp clients as references) and over REST-over-WebSocket
(WebSocketTransport), against the simulator in its own process. CPU is this process's, via time.process_time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from weakref import WeakValueDictionary

import aiohttp
import anyio
import asyncari
import asyncari.model as asyncari_model
import httpx
from asyncswagger11.http_client import ApiKeyAuthenticator, AsynchronousHttpClient

from bench.simproc import SIM_PASSWORD, SIM_USER, SimControl, simulator
from callcenter_ari.ari.events import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
    decode_wire,
)
from callcenter_ari.ari.http import HttpTransport
from callcenter_ari.ari.transport import Endpoint, Response
from callcenter_ari.ari.websocket import WebSocketTransport

TRANSCRIPTS = Path(__file__).resolve().parents[1] / "tests" / "sim" / "transcripts"


@dataclass
class PathResult:
    name: str
    unit: str
    cpu_us: float
    wall_us: float
    count: int

    def row(self, baseline: float) -> dict[str, Any]:
        return {
            "path": self.name,
            "n": self.count,
            f"CPU µs/{self.unit}": self.cpu_us,
            f"wall µs/{self.unit}": self.wall_us,
            "x cost of the project's path": self.cpu_us / baseline,
        }


def recorded_frames() -> list[str]:
    """Every recorded event (not RESTResponse replies), as the JSON text frames Asterisk sent."""
    frames: list[str] = []
    for path in sorted(TRANSCRIPTS.glob("*.json")):
        for step in json.loads(path.read_text())["steps"]:
            if step["kind"] == "event" and step["event"].get("type") != "RESTResponse":
                frames.append(json.dumps(step["event"]))
    return frames


def _forget_asyncari_objects() -> None:
    """asyncari keeps every channel, bridge and playback it has seen in class-level caches and asserts on
    state (a channel cannot enter a bridge twice); replaying the stream needs a clean slate each time."""
    for cls in vars(asyncari_model).values():
        if isinstance(cls, type):
            for attribute in ("cache", "active"):
                value = cls.__dict__.get(attribute)
                if isinstance(value, (set, WeakValueDictionary)):
                    value.clear()


# ---- events -------------------------------------------------------------------------------------------------


class _Routes:
    """The dispatcher's match with its dict lookups, minus the calls it would deliver to."""

    def __init__(self) -> None:
        self.calls: dict[str, object] = {}
        self.channels: dict[str, object] = {}
        self.routed = 0

    def __call__(self, message: object) -> None:
        match message:
            case PlaybackFinished(playback=playback):
                self._hit(self.calls.get(playback.id.split("-", 1)[0]))
            case ChannelHangupRequest(channel=channel) | ChannelDestroyed(channel=channel):
                self._hit(self.channels.get(channel.id))
            case StasisEnd(channel=channel):
                self._hit(self.channels.get(channel.id))
            case StasisStart(channel=channel, args=args):
                self._hit(self.channels.get(channel.id) if args and args[0] == "agent" else args)
            case ChannelDtmfReceived():
                pass
            case _:
                pass

    def _hit(self, target: object) -> None:
        self.routed += target is not None


async def _time_events(
    frames: list[str], repeat: int, handle: Callable[[str], Awaitable[None] | None]
) -> tuple[float, float]:
    """Play the stream `repeat` times; the clean-up between plays is not timed."""
    cpu = wall = 0.0
    for _ in range(repeat):
        _forget_asyncari_objects()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for frame in frames:
            result = handle(frame)
            if result is not None:
                await result
        cpu += time.process_time() - cpu0
        wall += time.perf_counter() - wall0
    count = len(frames) * repeat
    return cpu / count * 1e6, wall / count * 1e6


async def run_events(base_url: str, repeat: int) -> list[PathResult]:
    frames = recorded_frames()
    routes = _Routes()
    # asyncari logs a warning for every event type it has no handler for; the log output is not what is measured.
    logging.getLogger("asyncari").setLevel(logging.ERROR)
    http_client = AsynchronousHttpClient(auth=ApiKeyAuthenticator("127.0.0.1", f"{SIM_USER}:{SIM_PASSWORD}"))
    async with anyio.create_task_group() as tg:
        client = asyncari.Client(tg, base_url + "/", "callcenter", http_client)
        await client._init()  # loads the Swagger models that EventMessage converts with; no event WebSocket

        async def stock(frame: str) -> None:
            await client.process_ws(json.loads(frame))

        async def over_asyncari(frame: str) -> None:
            from callcenter_ari.ari.events import event_from_builtins

            message = json.loads(frame)
            await client.process_ws(message)
            routes(event_from_builtins(message))

        def project(frame: str) -> None:
            routes(decode_wire(frame))

        results = []
        for name, handler in (
            ("project: decode_wire + dispatcher match", project),
            ("asyncari stock: json.loads + Client.process_ws", stock),
            ("project over asyncari (HttpTransport path)", over_asyncari),
        ):
            await _time_events(frames, 1, handler)  # warm-up
            cpu, wall = await _time_events(frames, repeat, handler)
            results.append(PathResult(name, "event", cpu, wall, len(frames) * repeat))
        await http_client.close()
    return results


# ---- REST ---------------------------------------------------------------------------------------------------

Request = tuple[str, str, Mapping[str, str] | None]
Send = Callable[[str, str, Mapping[str, str] | None], Awaitable[int]]


def _requests(channel_id: str) -> list[Request]:
    """A small mix of real request shapes: path parameters, a POST with a query string, listings."""
    return [
        ("GET", "asterisk/ping", None),
        ("GET", f"channels/{channel_id}", None),
        ("POST", "asterisk/variable", {"variable": "BENCH", "value": "1"}),
        ("GET", "bridges", None),
    ]


async def _time_requests(send: Send, requests: list[Request], count: int, concurrency: int) -> tuple[float, float]:
    for method, path, query in requests:  # warm-up, and a check that every request succeeds
        status = await send(method, path, query)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {status}")
    per_worker = count // concurrency

    async def worker(offset: int) -> None:
        for i in range(per_worker):
            method, path, query = requests[(i + offset) % len(requests)]
            await send(method, path, query)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    done = per_worker * concurrency
    return (time.process_time() - cpu) / done * 1e6, (time.perf_counter() - wall) / done * 1e6


async def _with_transport(
    transport: HttpTransport | WebSocketTransport, body: Callable[[], Awaitable[list[PathResult]]]
) -> list[PathResult]:
    async def sink(_: object) -> None:
        return None

    up = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(transport.run, sink, up.set)
        await up.wait()
        results = await body()
        tg.cancel_scope.cancel()
    return results


async def run_rest(base_url: str, count: int, concurrency: tuple[int, ...]) -> list[PathResult]:
    endpoint = Endpoint(base_url, "callcenter", SIM_USER, SIM_PASSWORD)
    results: list[PathResult] = []

    async def via(transport: HttpTransport | WebSocketTransport, name: str) -> list[PathResult]:
        async def send(method: str, path: str, query: Mapping[str, str] | None) -> int:
            reply: Response = await transport.request(method, path, query)
            return reply.status

        async def body() -> list[PathResult]:
            async with SimControl(base_url) as control:
                channel_id = await control.call("5551000", "+15550001")
            out = []
            for c in concurrency:
                cpu, wall = await _time_requests(send, _requests(channel_id), count, c)
                out.append(PathResult(f"{name}, {c} in flight", "request", cpu, wall, count))
            return out

        return await _with_transport(transport, body)

    results += await via(WebSocketTransport(endpoint), "REST over WebSocket (WebSocketTransport)")
    results += await via(HttpTransport(endpoint), "asyncari (HttpTransport)")
    # References: the same requests with bare HTTP clients and no ARI layer. A WebSocket stays connected to the
    # app meanwhile only so that the simulator keeps the test channel (it hangs up calls no app listens to).
    results += await _with_transport(WebSocketTransport(endpoint), lambda: _references(base_url, count, concurrency))
    return results


async def _references(base_url: str, count: int, concurrency: tuple[int, ...]) -> list[PathResult]:
    results: list[PathResult] = []
    async with SimControl(base_url) as control:
        channel_id = await control.call("5551000", "+15550002")
    auth = (SIM_USER, SIM_PASSWORD)
    async with httpx.AsyncClient(base_url=base_url + "/ari/", auth=auth) as hx:

        async def send_httpx(method: str, path: str, query: Mapping[str, str] | None) -> int:
            return (await hx.request(method, path, params=query)).status_code

        for c in concurrency:
            cpu, wall = await _time_requests(send_httpx, _requests(channel_id), count, c)
            results.append(PathResult(f"plain httpx (reference), {c} in flight", "request", cpu, wall, count))
    async with aiohttp.ClientSession(auth=aiohttp.BasicAuth(*auth)) as session:

        async def send_aiohttp(method: str, path: str, query: Mapping[str, str] | None) -> int:
            async with session.request(method, f"{base_url}/ari/{path}", params=query) as reply:
                await reply.read()
                return reply.status

        for c in concurrency:
            cpu, wall = await _time_requests(send_aiohttp, _requests(channel_id), count, c)
            results.append(PathResult(f"plain aiohttp (reference), {c} in flight", "request", cpu, wall, count))
    return results


async def run_ari_path(quick: bool) -> tuple[list[PathResult], list[PathResult]]:
    with simulator() as sim:
        events = await run_events(sim.base_url, 4 if quick else 40)
        rest = await run_rest(sim.base_url, 320 if quick else 3_200, (1, 32))
    return events, rest
