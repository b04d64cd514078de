"""The Redis store: write-behind batches for the hot path, atomic steps where writers race, reads for recovery.

Writes are staged in memory and flushed by one task as a single pipeline, so a burst of events costs one round
trip per batch instead of one per field; the batch's events are one command (a script appending each as its own
entry), not an XADD each. Steps that must be atomic across processes (an agent's state, a trunk's
lines) are Lua scripts that another store module queues behind the staged writes in the same pipeline
(``execute``): one round trip, and the records and events staged before a step are in Redis before it runs.

Under a hot standby's lease (``fencing.py``) the batch is a transaction watched on the node's fencing token: it is
written only while Redis holds this process's token (one round trip more to read it), and a process that lost the
node has every write refused (``Fenced``) instead.

With ``wait_replicas`` (a primary with replicas, usually behind Sentinel) the pipeline ends with ``WAIT``: a batch
counts as written once that many replicas have it, so a failover cannot take back an agent's state the ACD acted on.
A replica that does not answer within the timeout (lagging, or gone) is not waited for again for ``REPLICA_PAUSE``
seconds: a dead replica slows the writes down once, not every batch.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import anyio
import anyio.lowlevel
import msgspec
import structlog
from anyio.abc import TaskStatus
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from callcenter_ari.calls.records import CallRecord
from callcenter_ari.fencing import Fence, Fenced
from callcenter_ari.store.codec import entries, read_entries, scored, text
from callcenter_ari.store.commit import Commit, spelled
from callcenter_ari.store.errors import StoreUnavailable, not_writable_now, translated, translating
from callcenter_ari.store.keys import Keys, checked

log = structlog.get_logger(__name__)

_encode = msgspec.json.Encoder().encode
_decode_call = msgspec.json.Decoder(CallRecord).decode

EVENT_STREAM_MAXLEN = 1_000_000

FINAL_FLUSH_SECONDS = 10.0
# The flusher's shortest interval between batches, by default (``Store.run_flusher``).
FLUSH_GATHER = 0.005
# A batch with no answer within this long is given up and tried again (one time-out per batch, whatever the client's
# per-reply one: with a plain URL redis-py has none, and a Redis that stops answering would hold every write).
BATCH_TIMEOUT = 5.0
REPLICA_PAUSE = 5.0


class _Later:
    """A step queued for the next batch, and its answer once the batch is written."""

    __slots__ = ("count", "done", "queue", "result")

    def __init__(self, queue: Callable[[Pipeline], int]) -> None:
        self.queue = queue
        self.count = 0  # commands it queued in the batch's pipeline
        self.done = anyio.Event()
        self.result: list[Any] | BaseException = []

    def answer(self, result: list[Any] | BaseException) -> None:
        self.result = result
        self.done.set()


class _Batch(NamedTuple):
    calls: dict[str, bytes]
    ops: list[tuple[str, tuple[Any, ...]]]
    later: list[_Later]


@translating
class Store:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        now: Callable[[], float],
        node: str = "local",
        origin: str = "",
        wait_replicas: int = 0,
        wait_timeout_ms: int = 100,
        gather: float = FLUSH_GATHER,
        timeout: float = BATCH_TIMEOUT,
    ) -> None:
        """``node``: the Asterisk this process serves (see docs/ARCHITECTURE.md, "Nodes"): its live calls are kept
        apart from other nodes', so that each recovers exactly its own. ``origin``: this process, stamped on every
        event it appends, so that a process following the stream knows which events are its own (those it already
        fed to its figures) and which came from the rest of the center. ``wait_replicas``, ``wait_timeout_ms``: see
        above (``[redis]`` of the configuration)."""
        self.redis = redis
        self.keys = keys
        self.node = checked(node, "node")
        self.origin = origin
        self._now = now
        self._staged: list[tuple[str, tuple[Any, ...]]] = []
        # The latest record of each call changed since the last flush: a call saved five times in one loop turn
        # is written once. Written at the head of the pipeline, so a record is never older than its events.
        self._calls: dict[str, bytes] = {}
        self._live: set[str] = set()
        self._later: list[_Later] = []  # steps to run in the next batch (``execute_later``)
        self._flushing = False  # whether ``run_flusher`` runs
        self._wakeup = anyio.Event()
        self._gather = gather
        self._timeout = timeout
        # One flush at a time: a caller of flush() must know that everything staged before it is in Redis,
        # including a batch the flusher task is writing right now.
        self._flush_lock = anyio.Lock()
        self.round_trips = 0
        self.fence: Fence | None = None  # set while a hot standby's lease is held: writes only under its token
        self._wait = (wait_replicas, wait_timeout_ms)
        self._replicas_late_until = 0.0  # time.monotonic(): until then, batches do not wait for the replicas
        self.replicas_late = 0  # batches that a replica did not confirm in time

    def current_fence(self) -> Fence | None:
        """The fence the stores that write on their own write under (``store/fenced.py``): the batches' own."""
        return self.fence

    # ---- staged writes (flushed in one pipeline) --------------------------------------------------------

    def save_call(self, call: CallRecord, *, again: bool = False) -> None:
        """Stage the call's record (and its place in the live set). ``again``: Redis lost its data, write it all."""
        call_id = checked(call.call_id, "call id")
        self._calls[call_id] = _encode(call)
        if again:
            self._live.discard(call_id)
        if call.phase == "ended":
            self._live.discard(call_id)
            self._stage("srem", self.keys.live_calls(self.node), call_id)
        elif call_id not in self._live:
            self._live.add(call_id)
            self._stage("sadd", self.keys.live_calls(self.node), call_id)
        self._wakeup.set()

    def drop_agent(self, agent_id: str) -> None:
        """An agent removed from the directory: their record and seat go too."""
        self._stage("delete", self.keys.agent(agent_id))
        self._stage("srem", self.keys.agents, agent_id)
        self._stage("zrem", self.keys.seats, agent_id)

    def save_line(self, agent_id: str, channel_id: str) -> None:
        """A persistent agent's standing line, so that a restart finds it again."""
        self._stage("hset", self.keys.lines, checked(agent_id, "agent id"), channel_id)

    def drop_line(self, agent_id: str) -> None:
        self._stage("hdel", self.keys.lines, agent_id)

    def queue_add(self, queue: str, call_id: str, score: float) -> None:
        self._stage("zadd", self.keys.queue(queue), {checked(call_id, "call id"): score})

    def queue_remove(self, queue: str, call_id: str) -> None:
        self._stage("zrem", self.keys.queue(queue), call_id)

    def emit(self, kind: str, fields: dict[str, Any]) -> None:
        """Append to the event stream (after the records staged before it, in the same pipeline)."""
        at = fields.pop("at", None)
        entry = {"kind": kind, "at": f"{self._now() if at is None else at:.3f}", "data": _encode(fields)}
        if self.origin:
            entry["origin"] = self.origin
        self._stage("xadd", self.keys.events, entry, "*", EVENT_STREAM_MAXLEN, True)

    def stage(self, op: str, *args: Any) -> None:
        """Stage a write of another store's (recordings' metadata): it shares the next flush's pipeline."""
        self._stage(op, *args)

    def _stage(self, op: str, *args: Any) -> None:
        self._staged.append((op, args))
        self._wakeup.set()

    async def run_flusher(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Flush staged writes whenever there are some, at most one batch every ``gather`` seconds: a write
        after a quiet spell goes at once (after the rest of its loop turn), writes that follow a batch closely wait
        for the rest of the interval and share the next one. What waits on it is a step that rides its batches
        (``execute_later``: the ACD's agent writes, a work order's number), at most one interval; a step that must
        go at once takes ``execute``, which carries the staged writes itself. At 100 calls/s each step of each call
        was its own round trip."""
        task_status.started()
        last = -self._gather
        self._flushing = True
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup = anyio.Event()
                wait = last + self._gather - time.monotonic()
                if wait > 0:
                    await anyio.sleep(wait)
                else:
                    await anyio.lowlevel.checkpoint()  # let the rest of this loop turn stage its writes too
                last = time.monotonic()
                await self._flush_once()
        finally:
            self._flushing = False  # steps asked for from now on go on their own
            # A last flush on the way out, but not forever: a Redis that is down must not hang the shutdown.
            with anyio.CancelScope(shield=True), anyio.move_on_after(FINAL_FLUSH_SECONDS) as scope:
                await self.flush()
            if scope.cancelled_caught:
                log.error(
                    "store.unflushed_at_shutdown", pending=len(self._staged) + len(self._calls) + len(self._later)
                )
                left, self._later = self._later, []
                for step in left:  # nobody will write them now: their askers must not wait for ever
                    step.answer(StoreUnavailable("the store stopped before Redis took this step"))

    async def flush(self) -> None:
        """Write everything staged, one batch per hold of the lock: a step waiting to ``execute`` goes after the
        batch in flight, not after every batch staged while it waits (under a steady load, that wait need not end).
        The lock is fair: a step that asked first is written first."""
        while await self._flush_once():
            pass

    async def _flush_once(self) -> bool:
        """One batch of what is staged (what is staged while it is written waits for the next); False if there was
        nothing, checked under the lock: every batch taken before is in Redis then."""
        async with self._flush_lock:
            if not self._pending:
                return False
            await self._execute(self._take_batch())
            return True

    @property
    def _pending(self) -> bool:
        return bool(self._staged or self._calls or self._later)

    # ---- atomic steps -----------------------------------------------------------------------------------

    async def execute(self, queue: Callable[[Pipeline], int]) -> list[Any]:
        """Write everything staged, then the commands ``queue`` adds to the pipeline (it returns how many), in one
        round trip; returns the results of those commands, errors in place (a script Redis did not know is a
        ``NoScriptError`` there, for ``Script.retry_if_unknown``). Retries while Redis is unreachable."""
        async with self._flush_lock:
            return await self._execute(self._take_batch(), queue)

    async def execute_later(self, queue: Callable[[Pipeline], int]) -> list[Any]:
        """As ``execute``, but in the flusher's next batch instead of a round trip of its own: for a step that must
        be atomic and answered within a few milliseconds (an agent's change, a work order's number). Waits at most
        the flusher's gathering interval, unless Redis is unreachable; without a flusher running, it is
        ``execute``."""
        if not self._flushing:
            return await self.execute(queue)  # no flusher (stopped, or never started): a round trip of its own
        step = _Later(queue)
        self._later.append(step)
        self._wakeup.set()
        await step.done.wait()
        if isinstance(step.result, BaseException):
            raise step.result
        return step.result

    def _take_batch(self) -> _Batch:
        batch = _Batch(self._calls, self._staged, self._later)
        self._calls, self._staged, self._later = {}, [], []
        return batch

    async def _execute(self, batch: _Batch, extra: Callable[[Pipeline], int] | None = None) -> list[Any]:
        """Write a batch in one pipeline, retrying while Redis is unreachable: a hiccup must not lose a record.
        Returns the results of the commands ``extra`` queued after the batch; the deferred steps' results go to
        them (what ``_write`` raised too)."""
        try:
            results = await self._write(batch, extra)
        except anyio.get_cancelled_exc_class():
            # The writer stops: the whole batch goes back ahead of what was staged since, for the flusher's last
            # flush to write in order (what reached Redis before the cancellation is written again).
            self._calls = {**batch.calls, **self._calls}
            self._staged[:0] = batch.ops
            self._later[:0] = batch.later
            raise
        except (Exception, Fenced) as exc:
            for step in batch.later:
                step.answer(exc)
            if isinstance(exc, Fenced) and extra is None and not (batch.calls or batch.ops):
                return []  # only other parts' steps were refused, and each has its refusal to act on
            raise
        for step in batch.later:
            step.answer(results[: step.count])
            results = results[step.count :]
        return results

    async def _write(self, batch: _Batch, extra: Callable[[Pipeline], int] | None) -> list[Any]:
        calls, ops = batch.calls, batch.ops
        # Records first, then the other writes as staged, the events last (a record is never older than its
        # events), all in one command (``store/commit.py``).
        commands = [("SET", self.keys.call(call_id), blob) for call_id, blob in calls.items()]
        commands += [spelled(op, args) for op, args in ops if op != "xadd"]
        commands += [spelled(op, args) for op, args in ops if op == "xadd"]
        commit = Commit(commands, self.keys.batch(secrets.token_hex(8)))

        def fill(pipe: Pipeline) -> int:
            commit.queue(pipe)
            queued = 0
            for step in batch.later:
                step.count = step.queue(pipe)
                queued += step.count
            return queued + (extra(pipe) if extra is not None else 0)

        while True:
            fence = self.fence
            # Not inside a fenced batch's transaction (WAIT is refused there): with a hot standby the replicas are
            # not waited for.
            waiting = fence is None and self._wait[0] > 0 and time.monotonic() >= self._replicas_late_until
            try:
                with translated():
                    # TimeoutError is an OSError: translated as Redis being unreachable, and the batch goes again.
                    if fence is None:
                        pipe = self.redis.pipeline(transaction=False)
                        extras = fill(pipe)
                        if waiting:
                            pipe.execute_command("WAIT", *self._wait)
                        with anyio.fail_after(self._timeout):
                            results: list[Any] = await pipe.execute(raise_on_error=False)
                    else:
                        with anyio.fail_after(self._timeout):
                            written = await self._write_fenced(fence, fill)
                        if written is None:
                            continue  # the token moved while the batch was on its way: read it again
                        extras, results = written
                if waiting:
                    self._replicated(results.pop())
                refusals = commit.refusals(results[: commit.calls])
                # A server that takes no writes now refused the steps behind the batch too: all of it again.
                if (refused := not_writable_now([*refusals, *results[commit.calls :]])) is not None:
                    raise StoreUnavailable(repr(refused))
            except StoreUnavailable as exc:
                log.error("store.flush_failed", error=str(exc), pending=len(calls) + len(ops) + len(batch.later))
                await anyio.sleep(0.5)
                continue
            self.round_trips += 1
            if refusals:
                log.error("store.write_refused", error=repr(refusals[0]), count=len(refusals))
            return results[len(results) - extras :] if extras else []

    async def _write_fenced(self, fence: Fence, fill: Callable[[Pipeline], int]) -> tuple[int, list[Any]] | None:
        """The batch as a transaction that Redis runs only if the node's token is still this process's; None if
        the token changed meanwhile (the caller reads it again). Raises ``Fenced`` when it is another's."""
        fence.check()
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(fence.key)
            current = await pipe.get(fence.key)
            if not fence.matches(current):
                log.error("standby.write_fenced", token=fence.token, current=None if current is None else int(current))
                raise Fenced(f"another process holds the node (token {current!r}, this process's {fence.token})")
            pipe.multi()  # type: ignore[no-untyped-call]
            extras = fill(pipe)
            try:
                return extras, await pipe.execute(raise_on_error=False)
            except WatchError:
                return None

    def _replicated(self, acknowledged: Any) -> None:
        wanted = self._wait[0]
        if isinstance(acknowledged, int) and acknowledged >= wanted:
            return
        self.replicas_late += 1
        self._replicas_late_until = time.monotonic() + REPLICA_PAUSE
        log.warning("store.replicas_late", wanted=wanted, acknowledged=repr(acknowledged), pause=REPLICA_PAUSE)

    # ---- reads ------------------------------------------------------------------------------------------

    async def live_calls(self) -> list[CallRecord]:
        """This node's calls not yet ended (with those a version before nodes left in the tenant's one set)."""
        with translated():
            mine = self.keys.live_calls(self.node)
            legacy = self.keys.legacy_live_calls
            if await self.redis.exists(legacy):
                await self.redis.sunionstore(mine, [mine, legacy])
                await self.redis.delete(legacy)
            ids = sorted(await self.redis.smembers(mine))
            if not ids:
                return []
            blobs = await self.redis.mget([self.keys.call(text(i)) for i in ids])
        return [_decode_call(blob) for blob in blobs if blob is not None]

    async def call(self, call_id: str) -> CallRecord | None:
        with translated():
            blob = await self.redis.get(self.keys.call(call_id))
        return _decode_call(blob) if blob is not None else None

    async def calls(self, call_ids: list[str]) -> dict[str, CallRecord | None]:
        """The records of these calls (any node's) in one round trip; None for a call that has none."""
        if not call_ids:
            return {}
        with translated():
            blobs = await self.redis.mget([self.keys.call(call_id) for call_id in call_ids])
        return {call_id: _decode_call(b) if b is not None else None for call_id, b in zip(call_ids, blobs, strict=True)}

    async def lines(self) -> dict[str, str]:
        """Persistent agents' standing lines: agent id -> channel id."""
        raw = await self.redis.hgetall(self.keys.lines)
        return {text(agent): text(channel) for agent, channel in raw.items()}

    async def queue_entries(self, queue: str) -> list[tuple[str, float]]:
        with translated():
            return scored(await self.redis.zrange(self.keys.queue(queue), 0, -1, withscores=True))

    async def stream(self, start: str, count: int = 5000) -> list[StreamEvent]:
        """Events from stream id ``start`` on (``(id`` for after it), oldest first."""
        with translated():
            rows = entries(await self.redis.xrange(self.keys.events, min=start, count=count))
        return [_event(ident, fields) for ident, fields in rows]

    async def last_event_id(self) -> str:
        """The id of the newest event of the stream ("0-0" when it is empty): where a follower starts."""
        with translated():
            rows = entries(await self.redis.xrevrange(self.keys.events, count=1))
        return rows[0][0] if rows else "0-0"

    async def follow(
        self, after: str, block_seconds: float, count: int = 500, *, undecoded: str = ""
    ) -> list[StreamEvent]:
        """Events strictly after stream id ``after``, oldest first; waits up to ``block_seconds`` for the first
        when there is none yet (an empty list then). ``undecoded``: an origin whose events come with empty data
        (a follower of the others' events skips its own, and need not decode them)."""
        with translated():
            # BLOCK 0 would wait for ever: the shortest wait is a millisecond.
            block = max(1, int(block_seconds * 1000))
            rows = read_entries(await self.redis.xread({self.keys.events: after}, count=count, block=block))
        return [_event(ident, fields, undecoded) for ident, fields in rows]

    async def events(self, count: int = 1000, after: str = "-") -> list[tuple[str, str, dict[str, Any]]]:
        """Events as (stream id, kind, data), oldest first; this process's own events staged before the read are
        written first (the flusher gathers for a few milliseconds: an API client reading right after its change
        sees it), within the batches' time-out."""
        if self._pending:
            with anyio.move_on_after(self._timeout):
                await self.flush()
        with translated():
            rows = entries(await self.redis.xrange(self.keys.events, min=after, count=count))
        return [(ident, fields[b"kind"].decode(), msgspec.json.decode(fields[b"data"])) for ident, fields in rows]


class StreamEvent(NamedTuple):
    """An event as the stream holds it: its id, kind, time, fields and the process that appended it ("" for an
    event of a version before origins were stamped)."""

    ident: str
    kind: str
    at: float
    data: dict[str, Any]
    origin: str


def _event(ident: str, fields: dict[bytes, bytes], undecoded: str = "") -> StreamEvent:
    raw = fields.get(b"origin")
    origin = raw.decode() if raw is not None else ""
    data = {} if undecoded and origin == undecoded else msgspec.json.decode(fields[b"data"])
    return StreamEvent(ident, fields[b"kind"].decode(), float(fields[b"at"]), data, origin)


def queue_score(priority: int, enqueued_at: float) -> float:
    """Higher priority first, then first come first served; one float so Redis sorts it."""
    return -priority * 1e11 + enqueued_at
