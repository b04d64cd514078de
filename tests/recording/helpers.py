"""Recording builders and fixed times shared by the recording tests."""

from __future__ import annotations

from typing import Any

from callcenter_ari.recording import Recording

DAY = 86_400.0
NOV_1 = 1_793_491_200.0  # 2026-11-01T00:00:00Z, a Sunday
NOW = NOV_1 + 15 * DAY


def recording(name: str = "c0001-r1", **override: Any) -> Recording:
    fields: dict[str, Any] = {
        "name": name,
        "call_id": name.split("-")[0],
        "tenant": "t1",
        "agent_id": "a1",
        "queue": "support",
        "caller": "+15551234567",
        "started_at": NOV_1 + DAY,
        "ended_at": NOV_1 + DAY + 120,
        "duration": 120.0,
        "state": "done",
    }
    return Recording(**{**fields, **override})
