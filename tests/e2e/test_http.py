"""Health, readiness and Prometheus metrics over real HTTP, with Asterisk over real sockets too."""

from __future__ import annotations

import httpx
import pytest

from callcenter_ari.sim import Simulator
from tests.e2e.helpers import ended_record, eventually, greeted_over_wire


@pytest.mark.wire
async def test_health_ready_and_metrics(sim: Simulator, start_app) -> None:
    tokens = '[api.tokens.ops]\ntoken = "ops-token-0123456789"\nrole = "supervisor"\n'
    async with start_app(tokens, http=True) as app:
        base = f"http://127.0.0.1:{app.http_port}"
        auth = {"Authorization": "Bearer ops-token-0123456789"}
        async with httpx.AsyncClient(base_url=base, headers=auth) as http:
            assert (await http.get("/health")).json() == {"status": "ok", "role": "active"}
            assert (await http.get("/ready")).status_code == 200
            channel = await sim.inject_call(did="5551000", caller="+15551234567")
            await greeted_over_wire(sim, channel)
            await eventually(lambda: ended_record(app, channel), what="call ended")
            metrics = (await http.get("/metrics")).text
            assert "callcenter_calls_started_total 1.0" in metrics
            assert 'callcenter_calls_ended_total{outcome="completed"} 1.0' in metrics
            assert 'callcenter_ari_events_total{type="StasisStart"} 1.0' in metrics
            assert "callcenter_ari_connected 1.0" in metrics
            app.services.draining = True
            assert (await http.get("/ready")).status_code == 503
