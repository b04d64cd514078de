"""The Redis store: write-behind batches for the hot path, atomic steps where writers race, reads for recovery.

Writes are staged in memory and flushed by one task as a single pipeline, so a burst of events costs one round
trip per batch instead of one per field. Reserving an agent is a Lua script: with two processes on one Redis, an
agent is still offered only one call.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import msgspec
import structlog
from anyio.abc import TaskStatus
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from callcenter_ari.acd.records import AgentRecord
from callcenter_ari.calls.records import CallRecord
from callcenter_ari.store.keys import Keys, checked

log = structlog.get_logger(__name__)

_encode = msgspec.json.Encoder().encode
_decode_call = msgspec.json.Decoder(CallRecord).decode
_decode_agent = msgspec.json.Decoder(AgentRecord).decode

# KEYS[1] the agent's hash. ARGV: call id, record JSON. The one thing that must never happen is an agent reserved
# for, or talking on, two different calls: refuse exactly that, whatever else the agent's state says.
_RESERVE = """
local current = redis.call('HMGET', KEYS[1], 'state', 'call_id')
if (current[1] == 'reserved' or current[1] == 'talking') and current[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'reserved', 'call_id', ARGV[1], 'record', ARGV[2])
return 1
"""

EVENT_STREAM_MAXLEN = 1_000_000
FINAL_FLUSH_SECONDS = 10.0


class Store:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._staged: list[tuple[str, tuple[Any, ...]]] = []
        # The latest record of each call changed since the last flush: a call saved five times in one loop turn
        # is written once. Written at the head of the pipeline, so a record is never older than its events.
        self._calls: dict[str, bytes] = {}
        self._live: set[str] = set()
        self._wakeup = anyio.Event()
        # One flush at a time: a caller of flush() must know that everything staged before it is in Redis,
        # including a batch the flusher task is writing right now.
        self._flush_lock = anyio.Lock()
        self._reserve = redis.register_script(_RESERVE)
        self.round_trips = 0

    # ---- staged writes (flushed in one pipeline) --------------------------------------------------------

    def save_call(self, call: CallRecord) -> None:
        call_id = checked(call.call_id, "call id")
        self._calls[call_id] = _encode(call)
        if call.phase == "ended":
            self._live.discard(call_id)
            self._stage("srem", self.keys.live_calls, call_id)
        elif call_id not in self._live:
            self._live.add(call_id)
            self._stage("sadd", self.keys.live_calls, call_id)
        self._wakeup.set()

    def save_agent(self, agent: AgentRecord) -> None:
        mapping = {"state": agent.state, "call_id": agent.call_id, "record": _encode(agent)}
        self._stage("hset", self.keys.agent(agent.agent_id), None, None, mapping)
        self._stage("sadd", self.keys.agents, agent.agent_id)

    def drop_agent(self, agent_id: str) -> None:
        """An agent removed from the directory: their record goes too."""
        self._stage("delete", self.keys.agent(agent_id))
        self._stage("srem", self.keys.agents, agent_id)

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
        entry = {"kind": kind, "at": f"{fields.pop('at', time.time()):.3f}", "data": _encode(fields)}
        self._stage("xadd", self.keys.events, entry, "*", EVENT_STREAM_MAXLEN, True)

    def stage(self, op: str, *args: Any) -> None:
        """Stage a write of another store's (recordings' metadata): it shares the next flush's pipeline."""
        self._stage(op, *args)

    def _stage(self, op: str, *args: Any) -> None:
        self._staged.append((op, args))
        self._wakeup.set()

    async def run_flusher(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Flush staged writes whenever there are some; everything staged in one loop turn shares a pipeline."""
        task_status.started()
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup = anyio.Event()
                await anyio.lowlevel.checkpoint()  # let the rest of this loop turn stage its writes too
                await self.flush()
        finally:
            # A last flush on the way out, but not forever: a Redis that is down must not hang the shutdown.
            with anyio.CancelScope(shield=True), anyio.move_on_after(FINAL_FLUSH_SECONDS) as scope:
                await self.flush()
            if scope.cancelled_caught:
                log.error("store.unflushed_at_shutdown", pending=len(self._staged) + len(self._calls))

    async def flush(self) -> None:
        async with self._flush_lock:
            while self._staged or self._calls:
                await self._execute(self._take_batch())

    # ---- atomic steps -----------------------------------------------------------------------------------

    async def reserve_agent(self, agent: AgentRecord) -> bool:
        """Reserve the agent for ``agent.call_id`` unless Redis has it on another call already (another process).

        The staged writes go in the same pipeline, ahead of the script: its last state change is in Redis before
        the script compares against it, and the whole step is one round trip.
        """
        key = self.keys.agent(agent.agent_id)
        args = [checked(agent.call_id, "call id"), _encode(agent)]
        async with self._flush_lock:

            async def reserve(pipe: Pipeline) -> None:
                await self._reserve(keys=[key], args=args, client=pipe)  # queues EVALSHA in the pipeline

            results = await self._execute(self._take_batch(), reserve)
        return bool(results[-1])

    def _take_batch(self) -> tuple[dict[str, bytes], list[tuple[str, tuple[Any, ...]]]]:
        batch = (self._calls, self._staged)
        self._calls, self._staged = {}, []
        return batch

    async def _execute(
        self,
        batch: tuple[dict[str, bytes], list[tuple[str, tuple[Any, ...]]]],
        extra: Callable[[Pipeline], Awaitable[None]] | None = None,
    ) -> list[Any]:
        """Write a batch in one pipeline, retrying while Redis is unreachable: a hiccup must not lose a record."""
        calls, ops = batch
        while True:
            pipe = self.redis.pipeline(transaction=False)
            for call_id, blob in calls.items():
                pipe.set(self.keys.call(call_id), blob)
            for op, args in ops:
                if op == "xadd":
                    key, entry, ident, maxlen, approximate = args
                    pipe.xadd(key, entry, id=ident, maxlen=maxlen, approximate=approximate)
                else:
                    getattr(pipe, op)(*args)
            if extra is not None:
                await extra(pipe)
            try:
                results: list[Any] = await pipe.execute()
            except (RedisError, OSError) as exc:
                log.error("store.flush_failed", error=repr(exc), pending=len(calls) + len(ops))
                await anyio.sleep(0.5)
                continue
            self.round_trips += 1
            return results

    # ---- reads ------------------------------------------------------------------------------------------

    async def live_calls(self) -> list[CallRecord]:
        ids = sorted(await self.redis.smembers(self.keys.live_calls))
        if not ids:
            return []
        blobs = await self.redis.mget([self.keys.call(i.decode()) for i in ids])
        return [_decode_call(blob) for blob in blobs if blob is not None]

    async def call(self, call_id: str) -> CallRecord | None:
        blob = await self.redis.get(self.keys.call(call_id))
        return _decode_call(blob) if blob is not None else None

    async def agents(self) -> list[AgentRecord]:
        ids = sorted(await self.redis.smembers(self.keys.agents))
        pipe = self.redis.pipeline(transaction=False)
        for agent_id in ids:
            pipe.hget(self.keys.agent(agent_id.decode()), "record")
        return [_decode_agent(blob) for blob in await pipe.execute() if blob is not None]

    async def lines(self) -> dict[str, str]:
        """Persistent agents' standing lines: agent id -> channel id."""
        raw = await self.redis.hgetall(self.keys.lines)
        return {agent.decode(): channel.decode() for agent, channel in raw.items()}

    async def queue_entries(self, queue: str) -> list[tuple[str, float]]:
        raw = await self.redis.zrange(self.keys.queue(queue), 0, -1, withscores=True)
        return [(member.decode(), score) for member, score in raw]

    async def events(self, count: int = 1000, after: str = "-") -> list[tuple[str, str, dict[str, Any]]]:
        """Events as (stream id, kind, data), oldest first."""
        rows = await self.redis.xrange(self.keys.events, min=after, count=count)
        return [
            (ident.decode(), fields[b"kind"].decode(), msgspec.json.decode(fields[b"data"])) for ident, fields in rows
        ]


def queue_score(priority: int, enqueued_at: float) -> float:
    """Higher priority first, then first come first served; one float so Redis sorts it."""
    return -priority * 1e11 + enqueued_at
