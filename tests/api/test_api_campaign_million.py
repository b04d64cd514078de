"""A million-row lead list streamed through the real API as multipart into the real Redis, in bounded memory.

The file is generated while it is sent and never exists whole, here or in the server. Memory is measured, not
time: tracemalloc traces the first rows (it slows Python about five times, so not all million), the count of
Python's allocated blocks must not grow with the rows (one object kept per row would add a million), and the
process's resident memory must stay far below what holding the leads would take.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import AsyncIterator

import psutil
import pytest

from tests.api.conftest import OpenApi
from tests.api.test_api_campaigns import BASE, CAMPAIGN, TRUNK

ROWS = 1_000_000
TRACED_ROWS = 20_000
BATCH = 2_000  # rows per chunk sent
BOUNDARY = "lead-list-boundary-7d1f"


class Probe:
    """Memory readings taken while the rows are generated (the server reads them as they come)."""

    def __init__(self) -> None:
        self.traced_peak = 0
        self.blocks_at_100k = 0
        self.rss_start = psutil.Process().memory_info().rss
        self.rss_max = self.rss_start

    def at(self, sent: int) -> None:
        if sent == TRACED_ROWS:  # a multiple of BATCH
            self.traced_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        if sent == 100_000:
            gc.collect()
            self.blocks_at_100k = sys.getallocatedblocks()
        if sent % 100_000 == 0:
            self.rss_max = max(self.rss_max, psutil.Process().memory_info().rss)


async def multipart(probe: Probe) -> AsyncIterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="million.csv"\r\n'
        "content-type: text/csv\r\n\r\n姓名,手机,城市,备注\n"
    ).encode()
    for start in range(0, ROWS, BATCH):
        # Mobile numbers 130-139 with eight more digits: a million distinct valid numbers.
        rows = "".join(f"客户{n},13{n % 10}{n:08d},上海,第{n}行\n" for n in range(start, start + BATCH))
        yield rows.encode()
        probe.at(start + BATCH)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_a_million_rows_stream_in_through_the_api_in_bounded_memory(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api, api.client("admin") as http:
        assert (await http.post(BASE, json=CAMPAIGN)).status_code == 201
        gc.collect()
        probe = Probe()
        tracemalloc.start()
        try:
            answer = await http.post(
                f"{BASE}/loans/imports",
                content=multipart(probe),
                headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
                timeout=900,
            )
        finally:
            tracemalloc.stop()
        gc.collect()
        blocks_growth = sys.getallocatedblocks() - probe.blocks_at_100k
        rss_growth = max(probe.rss_max, psutil.Process().memory_info().rss) - probe.rss_start
        assert answer.status_code == 201, answer.text
        report = answer.json()
        assert (report["rows"], report["loaded"], report["rejected"]) == (ROWS, ROWS, 0)
        assert (await http.get(f"{BASE}/loans/stats")).json()["by_state"]["new"] == ROWS
        print(
            f"traced peak {probe.traced_peak / 2**20:.1f} MB, blocks +{blocks_growth}, RSS +{rss_growth / 2**20:.0f} MB"
        )
        assert 0 < probe.traced_peak < 32 * 2**20  # client, server and import together, first 20,000 rows
        assert blocks_growth < 50_000  # from row 100,000 to the end: nothing kept per row
        assert rss_growth < 64 * 2**20  # a million leads held would be several hundred MB
