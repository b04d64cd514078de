"""Lead-list import: a generated CSV (Chinese names, mobile numbers, two data columns) imported from a file into
Redis by the same code as the API and `callcenter-ari campaign import`: rows per second, and memory.

Speed is measured without tracing; memory twice: the process's resident-memory growth over the whole run, and
the peak traced by tracemalloc in a separate, smaller run (tracing slows Python about five times).
"""

from __future__ import annotations

import functools
import gc
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import psutil
from redis.asyncio import Redis

from bench.harness import REDIS_URL, delete_prefix, new_prefix, quiet_logs
from callcenter_ari.campaigns.model import CampaignSpec
from callcenter_ari.campaigns.reader import ReadOptions
from callcenter_ari.campaigns.settings import CampaignSettings
from callcenter_ari.store.campaign_desk import CampaignDesk
from callcenter_ari.store.keys import Keys
from callcenter_ari.trunks import PjsipTrunk

CHUNK = 256 * 1024
SPEC = CampaignSpec(name="bench", queue="support", trunk="provider1", time_zone="Asia/Shanghai")


@dataclass
class ImportResult:
    name: str
    rows: int
    megabytes: float
    seconds: float
    rss_growth_mb: float
    traced_peak_mb: float

    def row(self) -> dict[str, Any]:
        return {
            "run": self.name,
            "rows": self.rows,
            "file MB": self.megabytes,
            "rows/s": self.rows / self.seconds,
            "MB/s": self.megabytes / self.seconds,
            "RSS growth MB": self.rss_growth_mb,
            "tracemalloc peak MB": self.traced_peak_mb,
        }


def write_file(path: Path, rows: int, encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as out:
        out.write("姓名,手机,城市,备注\n")
        for start in range(0, rows, 10_000):
            out.write(
                "".join(f"客户{n},13{n % 10}{n:08d},上海,第{n}行\n" for n in range(start, min(rows, start + 10_000)))
            )


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as file:
        while chunk := await file.read(CHUNK):
            yield chunk


async def _import(path: Path, *, dry_run: bool, trace: bool) -> tuple[float, float, float, int]:
    """Seconds, RSS growth (MB), tracemalloc peak (MB), rows loaded."""
    redis = Redis.from_url(REDIS_URL)
    prefix = new_prefix()
    trunks = {"provider1": PjsipTrunk(region="CN", endpoint="provider1", capacity=30)}
    desk = CampaignDesk(
        redis, Keys(prefix, "bench"), trunks=trunks, queues={"support": "S"}, settings=CampaignSettings(), now=time.time
    )
    try:
        await desk.create("bench", SPEC, by="bench")
        gc.collect()
        process = psutil.Process()
        before, peak_rss = process.memory_info().rss, 0
        if trace:
            tracemalloc.start()

        def sample(_: object) -> None:
            nonlocal peak_rss
            peak_rss = max(peak_rss, process.memory_info().rss)

        started = time.perf_counter()
        record = await desk.import_leads(
            "bench", _chunks(path), ReadOptions(), dry_run=dry_run, by="bench", on_progress=sample
        )
        seconds = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
        return seconds, max(0, peak_rss - before) / 2**20, traced / 2**20, record.loaded
    finally:
        await delete_prefix(redis, f"{prefix}:*")
        await redis.aclose()


def run_import(quick: bool) -> list[ImportResult]:
    quiet_logs()
    rows = 100_000 if quick else 1_000_000
    traced_rows = rows // 10
    results: list[ImportResult] = []
    with tempfile.TemporaryDirectory() as tmp:
        for encoding, dry_run in (("utf-8", False), ("gbk", False), ("utf-8", True)):
            path = Path(tmp) / f"{encoding}.csv"
            write_file(path, rows, encoding)
            seconds, rss, _, loaded = anyio.run(functools.partial(_import, path, dry_run=dry_run, trace=False))
            small = Path(tmp) / f"small-{encoding}.csv"
            write_file(small, traced_rows, encoding)
            _, _, traced, _ = anyio.run(functools.partial(_import, small, dry_run=dry_run, trace=True))
            name = f"{encoding.upper()}{' dry run' if dry_run else ''}"
            assert loaded == rows, f"{name}: {loaded} of {rows} loaded"
            results.append(ImportResult(name, rows, path.stat().st_size / 2**20, seconds, rss, traced))
    return results
