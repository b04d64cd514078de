"""The measured application: the production `Application`, configured for a benchmark, with light probes.

The probes wrap two seams from the outside, without changing production code: the event sink the ARI client
feeds (the dispatcher) and `AriClient.request`, through which every REST request passes. A tracked event stamps
the call it is routed to; that call's next request closes the interval ("ARI event -> resulting ARI request").
"""

from __future__ import annotations

import calendar
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
import msgspec
import structlog
from redis.asyncio import Redis

import callcenter_ari
from bench.simproc import SIM_PASSWORD, SIM_USER
from callcenter_ari import logs
from callcenter_ari.ari.events import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
)
from callcenter_ari.config import Config
from callcenter_ari.runtime.app import Application
from callcenter_ari.webhooks import WebhookSettings

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
QUEUE = "q"
DID = "5551000"


def bench_config(
    ari_url: str,
    *,
    prefix: str,
    agents: int,
    greeting: str = "sound:beep",
    transport: str = "websocket",
    max_wait: float = 3600.0,
    production: bool = False,
    username: str = SIM_USER,
    password: str = SIM_PASSWORD,
    endpoint: Callable[[int], str] | None = None,
) -> Config:
    """The benchmark's configuration; ``production`` adds what production carries: a two-level IVR menu answered
    with keys (``PRODUCTION_KEYS``) in place of the greeting, a wrap-up of ``PRODUCTION_WRAPUP`` seconds and the
    webhook egress allowing the local receiver."""
    data: dict[str, Any] = {
        "app": {"app_name": "callcenter", "tenant": "bench", "shutdown_grace_seconds": 1.0},
        "ari": {"url": ari_url, "username": username, "password": password, "transport": transport},
        "redis": {"url": REDIS_URL, "prefix": prefix},
        "http": {"enabled": False},
        "inbound": {"greeting": greeting, "default_queue": QUEUE},
        "dids": {DID: {"queue": QUEUE}},
        "queues": {QUEUE: {"wrapup_seconds": 0.0, "ring_timeout_seconds": 15.0, "max_wait_seconds": max_wait}},
        "agents": {
            agent_id(i): {"endpoint": (endpoint or agent_endpoint)(i), "queues": [QUEUE]} for i in range(agents)
        },
    }
    if production:
        data["dids"] = {DID: {"flow": "main"}}
        data["queues"][QUEUE]["wrapup_seconds"] = PRODUCTION_WRAPUP
        data["ivr"] = {"flows": {"main": PRODUCTION_FLOW}}
        if "egress_allow" in getattr(WebhookSettings, "__struct_fields__", ()):
            data["webhooks"] = {"egress_allow": ["127.0.0.1"]}
    return msgspec.convert(data, Config)


# A main menu (1: the sub-menu, 2: the queue) and a sub-menu (1 or 2: the queue); each prompt is a 0.42 s beep.
PRODUCTION_FLOW: dict[str, Any] = {
    "start": "main",
    "language": "en",
    "nodes": {
        "main": {
            "kind": "menu",
            "prompt": ["sound:beep"],
            "options": {"1": "sub", "2": "queue"},
            "fallback": "queue",
            "timeout": 5,
            "max_retries": 1,
        },
        "sub": {
            "kind": "menu",
            "prompt": ["sound:beep"],
            "options": {"1": "queue", "2": "queue"},
            "fallback": "queue",
            "timeout": 5,
            "max_retries": 1,
        },
        "queue": {"kind": "queue", "queue": QUEUE},
    },
}
PRODUCTION_KEYS = ((0.6, "1"), (1.3, "2"))  # seconds after answer: after each prompt has played
PRODUCTION_WRAPUP = 1.0


def agent_id(i: int) -> str:
    return f"a{i:05d}"


def agent_endpoint(i: int) -> str:
    return f"PJSIP/agent{i:05d}"


def new_prefix() -> str:
    return f"bench{secrets.token_hex(4)}"


def quiet_logs() -> None:
    """Production logging (JSON at info) into /dev/null: its cost is counted, its output is not shown."""
    logs.configure("info", "json", stream=open(os.devnull, "w"))


def build_app(config: Config) -> Application:
    redis = _client(REDIS_URL)
    # Which modules the measured tree has is read from its files: an import would not fail for a module the tree
    # lacks, since the venv's editable install of this tree resolves it from here instead.
    package = Path(callcenter_ari.__file__).resolve().parent
    if not (package / "clock.py").exists():  # an older commit (`--against`): its wall clock is runtime.clock.Clock
        from callcenter_ari.runtime.clock import Clock  # type: ignore[import-not-found,unused-ignore]

        return Application(config, redis=redis, clock=Clock())
    from callcenter_ari.clock import WallClock

    if not (package / "wiring.py").exists():  # before the composition root, an Application served its API itself
        return Application(config, redis=redis, clock=WallClock())
    from callcenter_ari import wiring

    return wiring.application(config, redis=redis, clock=WallClock())


def _client(url: str) -> Redis:
    """The client the measured tree's `run` makes for a URL (before store/connection.py had one: redis-py's)."""
    try:
        from callcenter_ari.store.connection import client_for_url  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return Redis.from_url(url)
    return client_for_url(url)  # type: ignore[no-any-return,unused-ignore]


_TRACKED = (StasisStart, PlaybackFinished, ChannelDtmfReceived, ChannelHangupRequest, ChannelDestroyed, StasisEnd)


class _Timestamps:
    """Asterisk's `2026-11-22T05:48:42.291+0000` to epoch seconds, with the per-second part cached."""

    def __init__(self) -> None:
        self._seconds: dict[str, int] = {}

    def __call__(self, stamp: str) -> float:
        head = stamp[:19]
        second = self._seconds.get(head)
        if second is None:
            second = self._seconds[head] = calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))
        return second + int(stamp[20:23]) / 1000.0


class _Sink:
    """Stands in for the dispatcher: events go through the probe, everything else to the real one."""

    def __init__(self, sink: Callable[[Any], Awaitable[None]], dispatcher: Any) -> None:
        self._sink = sink
        self._dispatcher = dispatcher

    async def __call__(self, message: Any) -> None:
        await self._sink(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dispatcher, name)


def heap_as_run_sets_it(stage: str) -> None:
    """The garbage collector as `callcenter-ari run` sets it: tuned before the loop starts (``stage="start"``),
    settled once the application serves (``"serving"``; runtime/heap.py). A tree without that module runs with
    CPython's defaults, as its own `run` did."""
    try:
        from callcenter_ari.runtime import heap
    except ImportError:
        return
    if stage == "start":
        heap.tune()
    else:
        heap.settle()


class Probe:
    """Counts events and requests; times tracked events to the first request of the call they reached."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.events = 0
        self.requests = 0
        self.app_latency: list[float] = []  # seconds, from the sink receiving the event to the request
        self.wire_latency: list[float] = []  # seconds, from the event's Asterisk timestamp to the request (raw)
        self.arrival_skew = float("inf")  # min(arrival - Asterisk timestamp): clock offset + minimal delay
        self.first_answer = 0.0
        self.last_answer = 0.0
        self.answers = 0
        self.first_event = 0.0  # perf_counter of the first event after reset: the first call offered
        self.ended_at: list[float] = []  # perf_counter of every call.ended
        self.offer_latency: list[float] = []  # seconds, from call.queued to the call's first agent originate
        self._queued: dict[str, float] = {}
        self._pending: dict[str, tuple[float, float, bool]] = {}  # received, stamped, a prompt's end
        self._dispatching: tuple[float, float, set[str]] | None = None  # the event in dispatch, calls it answered
        self._stamp = _Timestamps()
        self._install()

    def reset(self) -> None:
        self.events = self.requests = self.answers = 0
        self.first_event = 0.0
        self.app_latency.clear()
        self.wire_latency.clear()
        self.ended_at.clear()
        self.offer_latency.clear()
        self._queued.clear()
        self._pending.clear()

    def _observe(self, kind: str, fields: dict[str, Any]) -> None:
        if kind == "call.queued":
            call_id = fields.get("call_id")
            if isinstance(call_id, str):
                self._queued.setdefault(call_id, time.perf_counter())
        elif kind == "call.ended":
            self.ended_at.append(time.perf_counter())

    def _install(self) -> None:
        app = self.app
        dispatch = app.dispatcher
        request = app.ari.request
        services = app.services
        pending = self._pending
        queued = self._queued
        services.observers.append(self._observe)

        async def sink(message: Any) -> None:
            self.events += 1
            received = time.perf_counter()
            if not self.first_event:
                self.first_event = received
            tracked = isinstance(message, _TRACKED)
            if tracked:
                # A tree that takes a call's input in the dispatcher's turn sends its request during `dispatch`:
                # that request answers this event, unless an older one of the call waits still.
                sent_at = self._stamp(message.timestamp)
                self.arrival_skew = min(self.arrival_skew, time.time() - sent_at)
                self._dispatching = (received, sent_at, set())
            try:
                await dispatch(message)
            finally:
                answered = self._dispatching[2] if self._dispatching is not None else set()
                self._dispatching = None
            if not tracked:
                return
            if isinstance(message, PlaybackFinished):
                call_id = message.playback.id.split("-", 1)[0]
                if call_id not in services.calls:
                    return
            else:
                channels = services.channels  # a registry; a plain dict of channel id -> task in older commits
                task = (
                    channels.call(message.channel.id) if hasattr(channels, "call") else channels.get(message.channel.id)
                )
                if task is None:
                    return
                call_id = task.call_id
            if call_id in answered:
                return
            waiting = pending.get(call_id)
            # The oldest event still unanswered, but for a prompt's end that only waits for the caller's key (an
            # IVR menu): from the key on, or the latency is the caller's pause, not the application's.
            if waiting is None or (isinstance(message, ChannelDtmfReceived) and waiting[2]):
                pending[call_id] = (received, sent_at, isinstance(message, PlaybackFinished))

        def note_request(method: str, path: str) -> None:
            self.requests += 1
            call_id = structlog.contextvars.get_contextvars().get("call_id")
            if call_id is not None:
                stamp = pending.pop(call_id, None)
                current = self._dispatching
                if current is not None and call_id not in current[2] and (stamp is None or stamp[2]):
                    current[2].add(call_id)  # the event being dispatched, answered in its own turn
                    stamp = (current[0], current[1], False)
                if stamp is not None:
                    now = time.perf_counter()
                    self.app_latency.append(now - stamp[0])
                    self.wire_latency.append(time.time() - stamp[1])
                if method == "POST" and path.strip("/").startswith(f"channels/{call_id}-a"):
                    enqueued = queued.pop(call_id, None)
                    if enqueued is not None:
                        self.offer_latency.append(time.perf_counter() - enqueued)
                if path.endswith("/answer"):
                    now = time.perf_counter()
                    self.first_answer = self.first_answer or now
                    self.last_answer = now
                    self.answers += 1

        async def timed_request(
            method: str, path: str, query: Mapping[str, str] | None = None, body: bytes | None = None
        ) -> Any:
            note_request(method, path)
            return await request(method, path, query, body)

        app.dispatcher = _Sink(sink, dispatch)  # type: ignore[assignment]  # Application.run reads it at start
        app.ari.request = timed_request  # type: ignore[method-assign]
        send = getattr(app.ari, "_send", None)  # requests sent without waiting (trees that have them)
        if send is not None:

            def timed_send(method: str, path: str, *args: Any) -> bool:
                sent: bool = send(method, path, *args)
                if sent:  # else it is awaited, through `request`
                    note_request(method, path)
                return sent

            app.ari._send = timed_send  # type: ignore[method-assign]

    def wire_corrected(self) -> list[float]:
        """Event-timestamp latencies with the clock offset between the processes taken out (Asterisk's
        timestamps have millisecond resolution, so these are +-1 ms)."""
        skew = self.arrival_skew if self.arrival_skew != float("inf") else 0.0
        return [max(0.0, value - skew) for value in self.wire_latency]


class StoredCall(msgspec.Struct):
    """The two fields of a stored call record the benchmark reads (records of any commit decode into it)."""

    phase: str = ""
    outcome: str | None = None


def when_all_ended(app: Application, calls: int) -> anyio.Event:
    """An event set once ``calls`` calls have ended (counted from ``call.ended``) or been shed (overload
    admission's ``note``, wrapped from outside, where the tree has it): a shed call has no ``call.ended``, and
    waiting for one would stretch the window, and dilute the CPU share, by the whole time-out."""
    ended = anyio.Event()
    finished = [0]

    def one_more() -> None:
        finished[0] += 1
        if finished[0] >= calls:
            ended.set()

    def on_event(kind: str, fields: dict[str, Any]) -> None:
        if kind == "call.ended":
            one_more()

    app.services.observers.append(on_event)
    admission = getattr(app.services, "admission", None)
    if admission is not None:
        note = admission.note

        def noted(channel_id: str, reason: str) -> None:
            note(channel_id, reason)
            if reason != "returned":  # a channel sent in again is not a call offered
                one_more()

        admission.note = noted
    return ended


def outcomes_of(records: list[StoredCall]) -> dict[str, int]:
    """How many calls ended with each outcome; those not ended as ``live:<phase>``."""
    outcomes: dict[str, int] = {}
    for record in records:
        key = (record.outcome or "unknown") if record.phase == "ended" else f"live:{record.phase}"
        outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes


async def stored_calls(redis: Redis, prefix_pattern: str) -> list[StoredCall]:
    """Every call record under the benchmark's prefix."""
    decoder = msgspec.json.Decoder(StoredCall)
    keys = [key async for key in redis.scan_iter(match=prefix_pattern, count=2000)]
    records: list[StoredCall] = []
    for start in range(0, len(keys), 2000):
        for blob in await redis.mget(keys[start : start + 2000]):
            if blob is not None:
                records.append(decoder.decode(blob))
    return records


async def delete_prefix(redis: Redis, pattern: str) -> None:
    """Remove the benchmark's own keys (only those under its random prefix; never a flush)."""
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=pattern, count=2000):
        batch.append(key)
        if len(batch) >= 2000:
            await redis.unlink(*batch)
            batch.clear()
    if batch:
        await redis.unlink(*batch)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100.0 * (len(ordered) - 1))))
    return ordered[index]
