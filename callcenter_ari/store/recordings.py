"""Recordings' metadata, QA scores, samples and the deletion audit in Redis.

Layout (names from ``Keys``): one JSON string per recording; sorted sets of recording names by start time, one for
the tenant (retention walks it oldest first), one per agent and one per call; a set per recording of who played it
(kept apart from the record, so that playing never races with the runtime's writes); a hash per recording of
reviewer -> score and a sorted set per agent of their scores by time; one JSON per QA period's sample; and an
untrimmed list of deletion audit entries.

The call path writes through ``Store`` (staged, one pipeline per loop turn); the API reads and writes directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import WatchError

from callcenter_ari.recording.model import DeletionAudit, Recording, Score
from callcenter_ari.store.codec import text
from callcenter_ari.store.errors import translating
from callcenter_ari.store.keys import Keys, checked
from callcenter_ari.store.redis import Store

_encode = msgspec.json.Encoder().encode
_recording = msgspec.json.Decoder(Recording).decode
_score = msgspec.json.Decoder(Score).decode
_SEP = "\x00"


class Sample(msgspec.Struct, frozen=True, kw_only=True):
    """A QA period's sample as drawn: the seed makes it reproducible, ``recordings`` are names."""

    period: str
    seed: str
    drawn_at: float
    drawn_by: str
    recordings: list[str]


_sample = msgspec.json.Decoder(Sample).decode


@translating
class RecordingStore:
    def __init__(self, redis: Redis, store: Store) -> None:
        self.redis = redis
        self.store = store
        self.keys: Keys = store.keys

    # ---- metadata ------------------------------------------------------------------------------------------

    def stage(self, rec: Recording) -> None:
        """Write the record and its indexes with the call path's next flush."""
        keys, store = self.keys, self.store
        name = checked(rec.name, "recording name")
        store.stage("set", keys.recording(name), _encode(rec))
        store.stage("zadd", keys.recordings, {name: rec.started_at})
        store.stage("zadd", keys.recordings_by_call(rec.call_id), {name: rec.started_at})
        if rec.agent_id:
            store.stage("zadd", keys.recordings_by_agent(rec.agent_id), {name: rec.started_at})

    async def get(self, name: str) -> Recording | None:
        found = await self.get_many([name])
        return found[0] if found else None

    async def get_many(self, names: Sequence[str]) -> list[Recording]:
        """The recordings of these names that exist, in the same order, with who played them."""
        if not names:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.get(self.keys.recording(name))
            pipe.smembers(self.keys.recording_played(name))
        replies: list[Any] = await pipe.execute()
        found = []
        for blob, played in zip(replies[::2], replies[1::2], strict=True):
            if blob is not None:
                rec = _recording(blob)
                rec.played_by = sorted({*rec.played_by, *(text(p) for p in played)})
                found.append(rec)
        return found

    async def names(
        self,
        *,
        agent_id: str = "",
        call_id: str = "",
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = True,
    ) -> list[str]:
        """Names by start time in ``[since, until)``, from the narrowest index the filters allow."""
        if call_id:
            key = self.keys.recordings_by_call(call_id)
        elif agent_id:
            key = self.keys.recordings_by_agent(agent_id)
        else:
            key = self.keys.recordings
        low = "-inf" if since is None else repr(since)
        high = "+inf" if until is None else f"({until!r}"
        start, num = (offset, limit) if limit is not None else (None, None)
        if newest_first:
            raw: Any = await self.redis.zrevrangebyscore(key, high, low, start=start, num=num)
        else:
            raw = await self.redis.zrangebyscore(key, low, high, start=start, num=num)
        return [text(name) for name in raw]

    async def mark_played(self, name: str, by: str) -> None:
        await self.redis.sadd(self.keys.recording_played(name), by)

    async def record_deletion(self, rec: Recording, audit: DeletionAudit) -> bool:
        """The record marked deleted (kept, so its name still answers) and out of the listings, with the audit
        entry, in one transaction; False when it was deleted meanwhile (by the sweeper, by another admin)."""
        keys = self.keys
        key = keys.recording(rec.name)
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(key)
            current = await pipe.get(key)
            if current is None or _recording(current).state == "deleted":
                return False
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.set(key, _encode(rec))
            pipe.zrem(keys.recordings, rec.name)
            pipe.zrem(keys.recordings_by_call(rec.call_id), rec.name)
            if rec.agent_id:
                pipe.zrem(keys.recordings_by_agent(rec.agent_id), rec.name)
            pipe.lpush(keys.recordings_audit, _encode(audit))
            try:
                await pipe.execute()
            except WatchError:
                return False
        return True

    async def audit(self, limit: int = 100) -> list[DeletionAudit]:
        raw: Any = await self.redis.lrange(self.keys.recordings_audit, 0, limit - 1)
        return [msgspec.json.decode(blob, type=DeletionAudit) for blob in raw]

    # ---- QA ------------------------------------------------------------------------------------------------

    async def save_score(self, score: Score) -> None:
        """One reviewer's score of one recording (a second score by the same reviewer replaces the first)."""
        member = f"{checked(score.recording, 'recording name')}{_SEP}{score.reviewer}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.qa_scores(score.recording), score.reviewer, _encode(score))
            if score.agent_id:
                pipe.zadd(self.keys.qa_agent_scores(score.agent_id), {member: score.at})
            await pipe.execute()

    async def scores(self, name: str) -> list[Score]:
        raw: Any = await self.redis.hvals(self.keys.qa_scores(name))
        return sorted((_score(blob) for blob in raw), key=lambda s: (s.at, s.reviewer))

    async def scored(self, names: Sequence[str]) -> set[str]:
        """Which of these recordings have at least one score (one round trip)."""
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.exists(self.keys.qa_scores(name))
        return {name for name, found in zip(names, await pipe.execute(), strict=True) if found}

    async def agent_scores(self, agent_id: str, limit: int) -> list[Score]:
        """The agent's latest ``limit`` scores, oldest first."""
        raw: Any = await self.redis.zrevrange(self.keys.qa_agent_scores(agent_id), 0, limit - 1)
        members = [text(m).split(_SEP, 1) for m in reversed(raw)]
        if not members:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for name, reviewer in members:
            pipe.hget(self.keys.qa_scores(name), reviewer)
        return [_score(blob) for blob in await pipe.execute() if blob is not None]

    async def save_sample(self, sample: Sample) -> None:
        await self.redis.set(self.keys.qa_sample(sample.period), _encode(sample))

    async def sample(self, period: str) -> Sample | None:
        blob = await self.redis.get(self.keys.qa_sample(period))
        return _sample(blob) if blob is not None else None

    async def all_in(self, since: float, until: float, batch: int = 500) -> list[Recording]:
        """Every recording that started in ``[since, until)``, oldest first (a QA period)."""
        names = await self.names(since=since, until=until, newest_first=False)
        found: list[Recording] = []
        for chunk in _chunks(names, batch):
            found += await self.get_many(chunk)
        return found


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
