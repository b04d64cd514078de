"""Importing a CSV file into a campaign or into the do-not-call list, as its bytes arrive, and the import's record.

One driver for the HTTP upload and the command line: chunks go through the pure ``LeadReader``, candidates are
written a thousand at a time (the Lua step that adds them judges duplicates, within the file and against the
campaign, and the do-not-call list), rejected rows go to a list kept for download (up to
``campaigns.keep_rejects``; the rest are counted). Memory stays bounded whatever the file's size. The record in
Redis shows progress while the import runs, and if it stops (a bad encoding half-way, the upload cut off, a file
over the limit) it says why, at which line, and how many rows were loaded before: a file is never half loaded
without saying so. A dry run does the same without adding anything.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

import msgspec
import structlog
from redis.asyncio import Redis

from callcenter_ari.campaigns.csvfile import FileProblem
from callcenter_ari.campaigns.model import CampaignError, Lead
from callcenter_ari.campaigns.reader import Candidate, LeadReader, ReadOptions, Rejected, Row
from callcenter_ari.store.codec import text
from callcenter_ari.store.dnc import DncEntry, DoNotCallList
from callcenter_ari.store.errors import translating
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.leads import LeadStore

log = structlog.get_logger(__name__)

BATCH = 1000
PROGRESS_EVERY = 50  # batches between progress saves
STALE_SECONDS = 120.0  # a running import not heard of for this long has died with its process
SCRATCH_SECONDS = 3600  # a dry run's list of numbers seen, should the run die before removing it

_encode = msgspec.json.Encoder().encode

Status = Literal["running", "done", "failed", "interrupted"]


class ImportRecord(msgspec.Struct, kw_only=True):
    id: str
    kind: Literal["leads", "do_not_call"]
    campaign_id: str = ""
    status: Status = "running"
    dry_run: bool = False
    file_name: str = ""
    by: str = ""
    started_at: float
    updated_at: float
    finished_at: float = 0.0
    options: ReadOptions = ReadOptions()
    region: str = ""  # national numbers were read in this region
    encoding: str = ""
    delimiter: str = ""
    columns: dict[str, str] = {}  # phone, name, time_zone -> the column used
    data_columns: list[str] = []  # the columns kept as lead data
    bytes_read: int = 0
    lines: int = 0
    rows: int = 0  # data rows read (blank ones apart)
    loaded: int = 0  # leads or numbers added (in a dry run: that would be)
    already_listed: int = 0  # do-not-call imports: numbers that were on the list already
    rejected: int = 0
    blank: int = 0
    reasons: dict[str, int] = {}  # rejected rows by reason
    rejects_kept: int = 0  # of them in the download
    error: str = ""  # why the import stopped
    error_line: int = 0


_decode = msgspec.json.Decoder(ImportRecord).decode
_decode_rejected = msgspec.json.Decoder(Rejected).decode


class ImportFailed(CampaignError):
    """The import stopped; the record says why, where, and what was loaded before."""

    def __init__(self, record: ImportRecord, too_large: bool = False) -> None:
        done = "would have loaded" if record.dry_run else "loaded"
        super().__init__(
            f"{record.error} (import {record.id}: {record.loaded} rows {done} and {record.rejected} rejected "
            f"before it stopped)"
        )
        self.record = record
        self.too_large = too_large


class UploadBroken(Exception):
    """Raised by a source when the upload itself fails: cut off, or over the size limit."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@translating
class ImportStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def save(self, record: ImportRecord, index: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.lead_import(record.id), _encode(record))
            pipe.zadd(index, {record.id: record.started_at})
            await pipe.execute()

    async def get(self, import_id: str, now: float) -> ImportRecord | None:
        blob = await self.redis.get(self.keys.lead_import(import_id))
        if blob is None:
            return None
        record = _decode(blob)
        if record.status == "running" and now - record.updated_at > STALE_SECONDS:
            record.status = "interrupted"  # its process stopped: the counts say how far it got
        return record

    async def recent(self, index: str, now: float, limit: int) -> list[ImportRecord]:
        ids: Any = await self.redis.zrevrange(index, 0, limit - 1)
        found = [await self.get(text(i), now) for i in ids]
        return [record for record in found if record is not None]

    async def add_rejects(self, import_id: str, rows: list[Rejected]) -> None:
        if rows:
            await self.redis.rpush(self.keys.lead_import(import_id, "rejects"), *map(_encode, rows))

    async def rejects(self, import_id: str, batch: int = 1000) -> AsyncIterator[list[Rejected]]:
        key = self.keys.lead_import(import_id, "rejects")
        start = 0
        while True:
            found: Any = await self.redis.lrange(key, start, start + batch - 1)
            if not found:
                return
            yield [_decode_rejected(blob) for blob in found]
            start += batch

    def index(self, campaign_id: str) -> str:
        """Where a target's imports are listed ("" for the do-not-call list)."""
        return self.keys.campaign_part(campaign_id, "imports") if campaign_id else self.keys.do_not_call_imports


# Writes a batch of candidates; returns the rows refused and how many were listed already (no error).
Sink = Callable[[list[Candidate]], Awaitable[tuple[list[Rejected], int]]]


def new_import_id() -> str:
    return "i" + uuid.uuid4().hex[:16]


@translating
class ImportRun:
    """One import, from the first byte to its record's last word."""

    def __init__(
        self,
        store: ImportStore,
        record: ImportRecord,
        reader: LeadReader,
        *,
        now: Callable[[], float],
        keep_rejects: int,
        on_progress: Callable[[ImportRecord], None] | None = None,
    ) -> None:
        self.store, self.record, self.reader = store, record, reader
        self._now = now
        self._keep = keep_rejects
        self._on_progress = on_progress
        self._candidates: list[Candidate] = []
        self._rejects: list[Rejected] = []
        self._batches = 0

    async def run(self, source: AsyncIterator[bytes], sink: Sink) -> ImportRecord:
        index = self.store.index(self.record.campaign_id)
        await self.store.save(self.record, index)
        try:
            async for chunk in source:
                await self._take(self.reader.feed(chunk), sink)
            await self._take(self.reader.finish(), sink, final=True)
        except FileProblem as exc:
            await self._stop(index, sink, exc.reason, exc.line or self.reader.line + 1)
            raise ImportFailed(self.record) from None
        except UploadBroken as exc:
            await self._stop(index, sink, str(exc), self.reader.line + 1)
            raise ImportFailed(self.record, too_large=exc.too_large) from None
        self._update("done")
        await self.store.save(self.record, index)
        log.info("campaign.imported", **_summary(self.record))
        return self.record

    async def _take(self, rows: list[Row], sink: Sink, final: bool = False) -> None:
        for row in rows:
            if isinstance(row, Candidate):
                self._candidates.append(row)
            else:
                self._reject(row)
        if len(self._candidates) >= BATCH or final:
            await self._flush(sink)

    async def _flush(self, sink: Sink) -> None:
        batch, self._candidates = self._candidates, []
        refused, listed = await sink(batch) if batch else ([], 0)
        for rejected in refused:
            self._reject(rejected)
        self.record.loaded += len(batch) - len(refused) - listed
        self.record.already_listed += listed
        await self.store.add_rejects(self.record.id, self._rejects)
        self._rejects = []
        self._batches += 1
        self._update("running")
        if self._batches % PROGRESS_EVERY == 0:
            await self.store.save(self.record, self.store.index(self.record.campaign_id))
        if self._on_progress is not None:
            self._on_progress(self.record)

    def _reject(self, rejected: Rejected) -> None:
        self.record.rejected += 1
        self.record.reasons[rejected.reason] = self.record.reasons.get(rejected.reason, 0) + 1
        if self.record.rejects_kept < self._keep:
            self.record.rejects_kept += 1
            self._rejects.append(rejected)

    async def _stop(self, index: str, sink: Sink, reason: str, line: int) -> None:
        """Load what was read before the problem, then record where and why the import stopped."""
        await self._flush(sink)
        self.record.error, self.record.error_line = f"line {line}: {reason}" if line else reason, line
        self._update("failed")
        await self.store.save(self.record, index)
        log.warning("campaign.import_failed", **_summary(self.record))

    def _update(self, status: Status) -> None:
        record, reader = self.record, self.reader
        record.status = status
        record.updated_at = self._now()
        if status != "running":
            record.finished_at = record.updated_at
        record.bytes_read, record.lines, record.rows, record.blank = (
            reader.bytes_read,
            reader.line,
            reader.rows,
            reader.blank,
        )
        record.encoding, record.delimiter = reader.text.encoding, reader.records.delimiter
        if reader.mapping is not None and not record.columns:
            record.columns = reader.mapping.describe()
            record.data_columns = [reader.mapping.names[n] for n in reader.mapping.data()]


def lead_sink(leads: LeadStore, record: ImportRecord, now: float) -> Sink:
    """Candidates into the campaign (or, in a dry run, only checked): duplicates and listed numbers rejected."""
    seen = leads.keys.lead_import(record.id, "seen") if record.dry_run else ""

    async def sink(batch: list[Candidate]) -> tuple[list[Rejected], int]:
        new = [_lead(record, candidate, now) for candidate in batch]
        results = await leads.add(record.campaign_id, new, now, seen=seen)
        if seen:
            await leads.redis.expire(seen, SCRATCH_SECONDS)
        judged = (_judged(record, candidate, result) for candidate, result in zip(batch, results, strict=True))
        return [r for r in judged if r is not None], 0

    return sink


def dnc_sink(dnc: DoNotCallList, scratch: DoNotCallList | None, record: ImportRecord, now: float) -> Sink:
    """Numbers onto the do-not-call list (a dry run: only counted); a number listed already is no error."""

    async def sink(batch: list[Candidate]) -> tuple[list[Rejected], int]:
        entries = [DncEntry(number=c.number, added_at=now, by=f"import {record.id}") for c in batch]
        if scratch is None:
            added = await dnc.add(entries)
        else:
            listed = await dnc.listed([e.number for e in entries])
            fresh = await scratch.add(entries)
            added = [new and not was for new, was in zip(fresh, listed, strict=True)]
            await scratch.redis.expire(scratch.key, SCRATCH_SECONDS)
        return [], added.count(False)

    return sink


def _lead(record: ImportRecord, candidate: Candidate, now: float) -> Lead:
    return Lead(
        id=f"{record.id}-{candidate.line}",
        number=candidate.number,
        name=candidate.name,
        zone=candidate.zone,
        data=candidate.data,
        next_at=now,
        line=candidate.line,
        import_id=record.id,
        created_at=now,
    )


def _judged(record: ImportRecord, candidate: Candidate, result: str) -> Rejected | None:
    if not result:
        return None
    if result == "!dnc":
        return Rejected(candidate.line, "do_not_call", f"{candidate.number} is on the do-not-call list")
    if result.startswith(f"{record.id}-"):
        first = result.rsplit("-", 1)[1]
        return Rejected(candidate.line, "duplicate", f"{candidate.number}: the same number as line {first}")
    return Rejected(candidate.line, "in_campaign", f"{candidate.number} is in the campaign already (lead {result})")


def _summary(record: ImportRecord) -> dict[str, Any]:
    return {
        "import_id": record.id,
        "campaign": record.campaign_id,
        "kind": record.kind,
        "dry_run": record.dry_run,
        "status": record.status,
        "rows": record.rows,
        "loaded": record.loaded,
        "rejected": record.rejected,
        "error": record.error,
    }
