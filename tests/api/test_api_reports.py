"""Interval reports over the API: the figures of the 15-minute interval a call fell in."""

from __future__ import annotations

from callcenter_ari.sim import Simulator
from tests.api.conftest import OpenApi, call_with_agent


async def test_interval_report_counts_the_calls_of_its_interval(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api() as api:
        await call_with_agent(api.app, sim, "+15550909090")
        async with api.client("supervisor") as http:
            starts = (await http.get("/api/v1/reports/intervals")).json()["starts"]
            assert len(starts) == 1 and starts[0] % 900 == 0  # 15-minute intervals on the clock
            report = (await http.get(f"/api/v1/reports/intervals/{starts[0]}")).json()
            assert report["end"] - report["start"] == 900
            support = report["queues"]["support"]
            assert (support["entered"], support["answered"], support["abandoned"]) == (1, 1, 0)
            assert report["agents"]["a1"]["calls"] == 1
        async with api.client("agent1") as http:
            assert (await http.get("/api/v1/reports/intervals")).status_code == 403
        async with api.client("other_supervisor") as http:
            assert (await http.get("/api/v1/reports/intervals")).json() == {"starts": []}
            assert (await http.get(f"/api/v1/reports/intervals/{starts[0]}")).status_code == 404
