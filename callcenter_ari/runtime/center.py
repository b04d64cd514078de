"""The whole center as this process sees it: the events of the tenant's other processes, as they happen.

Each process feeds its statistics with its own events as it emits them (``Events``' observers). Several processes
serving one tenant (one per Asterisk, docs/ARCHITECTURE.md "Nodes") share the tenant's event stream, and every
event there carries the process that appended it (``Store.origin``). ``Center`` follows the stream from where the
start's replay ended (a blocking read, no poll) and hands every event of another origin to the same feeds
(statistics, callback figures): each event is fed exactly once, in the process that wrote it as it was emitted and
in every other within one read. So the queues' counts, service level, reports and agents' times are the whole
center's in every process, and two processes' figures agree.

Other processes' live calls are mirrored from their records (``CallMirror``): an event of another origin naming a
call marks it, and after each read the marked calls' records are read in one round trip (a record is written
before the events of the same step, so it is at least as new as the event). A record that ended, or is gone,
leaves the mirror; every ``SWEEP_SECONDS`` every mirrored call is read again, so that nothing stays that ended
without an event this process read (a stream trimmed under it, a Redis that lost its data).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import anyio
import structlog
from anyio.abc import TaskStatus

from callcenter_ari.calls.view import CallSnapshot, snapshot
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.store.keys import InvalidId
from callcenter_ari.store.redis import Store, StreamEvent

log = structlog.get_logger(__name__)

Feed = Callable[[str, dict[str, Any]], None]

BLOCK_SECONDS = 1.0  # one blocking read waits this long for the next event
SWEEP_SECONDS = 5.0
RETRY_SECONDS = 0.5  # after Redis failed a read
# After a read that found events, the next waits this long first: the stream holds this process's own events too,
# so reading at each new entry would read back every batch it writes (7 reads a call at 100 calls/s); gathered,
# it is at most ten reads a second, and another process's event is seen within this much more.
GATHER_SECONDS = 0.1
READ_COUNT = 500  # events a read takes at most; a full read is followed by the next at once (it is behind)


def _position(ident: str) -> tuple[int, int]:
    ms, _, seq = ident.partition("-")
    return int(ms), int(seq or 0)


def node_of_origin(origin: str) -> str:
    """The node of a process id (``<node>.<8 hex>``, runtime/app.py); "" when unknown."""
    node, dot, _ = origin.rpartition(".")
    return node if dot else ""


class CallMirror:
    """Other processes' live calls, as their records last said; ``node`` of each from the events' origin."""

    def __init__(self) -> None:
        self.calls: dict[str, CallSnapshot] = {}
        self.nodes: dict[str, str] = {}  # call id -> node of the process whose events named it last
        self._marked: set[str] = set()

    def note(self, event: StreamEvent) -> None:
        call_id = event.data.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            return
        if event.kind == "call.ended":
            self._forget(call_id)
            self._marked.discard(call_id)
            return
        self.nodes[call_id] = node_of_origin(event.origin)
        self._marked.add(call_id)

    def marked(self, *, everything: bool = False) -> list[str]:
        """The calls to read again (with ``everything``: every mirrored call too); ``update`` unmarks them."""
        return sorted(self._marked | (set(self.calls) if everything else set()))

    def update(self, records: Iterable[tuple[str, CallSnapshot | None]]) -> None:
        for call_id, call in records:
            self._marked.discard(call_id)
            if call is None or call.phase == "ended":
                self._forget(call_id)
            else:
                self.calls[call_id] = call

    def _forget(self, call_id: str) -> None:
        self.calls.pop(call_id, None)
        self.nodes.pop(call_id, None)


class Center:
    def __init__(self, store: Store, feeds: list[Feed]) -> None:
        """``feeds``: what other processes' events go to (the figures this process keeps); the process's own
        events are those whose origin is ``store.origin``."""
        self._store = store
        self._feeds = feeds
        self.mirror = CallMirror()
        self.position = "0-0"  # the newest stream id whose event is fed and whose call is mirrored
        self._moved = anyio.Event()
        self.fed = 0  # other processes' events fed since the start (replay excluded)

    def calls(self, local: Iterable[str]) -> list[CallSnapshot]:
        """Other processes' live calls, leaving out those this process serves (``local``: a call it took over)."""
        mine = set(local)
        return [call for call_id, call in self.mirror.calls.items() if call_id not in mine]

    def call(self, call_id: str) -> CallSnapshot | None:
        """Another process's live call, as its record last said."""
        return self.mirror.calls.get(call_id)

    def node(self, call_id: str) -> str:
        return self.mirror.nodes.get(call_id, "")

    def begin(self, since: float) -> None:
        """Follow from ``since`` (unix seconds) on when the replay finds nothing newer."""
        self.position = f"{max(0, int(since * 1000))}-0"

    def replayed(self, event: StreamEvent) -> None:
        """An event read by the start's replay (whose figures the replay feeds itself): its calls are mirrored and
        the follower starts after it."""
        if event.origin != self._store.origin:
            self.mirror.note(event)
        self.position = event.ident

    async def caught_up(self, ident: str, within: float) -> bool:
        """Wait (up to ``within`` seconds) until the events up to stream id ``ident`` are fed; whether they are."""
        with anyio.move_on_after(within):
            while _position(self.position) < _position(ident):
                await self._moved.wait()
        return _position(self.position) >= _position(ident)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        swept = time.monotonic()
        read = self.position  # read up to here; ``position`` moves once those events' calls are mirrored too
        found = False
        while True:
            try:
                # The calls the replay named or the last read marked (again after a failed read), then the next read.
                everything = time.monotonic() - swept >= SWEEP_SECONDS
                await self._refresh(everything=everything)
                if everything:
                    swept = time.monotonic()
                if read != self.position:
                    self.position = read
                    self._moved.set()
                    self._moved = anyio.Event()
                if found:
                    await anyio.sleep(GATHER_SECONDS)
                rows = await self._store.follow(read, BLOCK_SECONDS, READ_COUNT, undecoded=self._store.origin)
            except StoreUnavailable as exc:
                log.warning("center.follow_failed", error=str(exc))
                await anyio.sleep(RETRY_SECONDS)
                continue
            self._feed(rows)
            found = 0 < len(rows) < READ_COUNT
            if rows:
                read = rows[-1].ident

    def _feed(self, rows: list[StreamEvent]) -> None:
        for event in rows:
            if event.origin == self._store.origin:
                continue
            fields: dict[str, Any] = {**event.data, "at": event.at}
            for feed in self._feeds:
                try:
                    feed(event.kind, fields)
                except (KeyError, TypeError, ValueError) as exc:  # an event of another version's shape
                    log.warning("center.event_unreadable", kind=event.kind, error=repr(exc))
            self.mirror.note(event)
            self.fed += 1

    async def _refresh(self, *, everything: bool) -> None:
        ids = []
        for call_id in self.mirror.marked(everything=everything):
            try:
                self._store.keys.call(call_id)
            except InvalidId:
                log.warning("center.call_id_invalid", call_id=call_id[:64])
                self.mirror.update([(call_id, None)])
                continue
            ids.append(call_id)
        records = await self._store.calls(ids)
        self.mirror.update((call_id, snapshot(r) if r is not None else None) for call_id, r in records.items())
