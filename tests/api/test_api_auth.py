"""Authentication and the roles matrix: 401 without or with a wrong token, 403 for a role not allowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callcenter_ari.http.auth import PERMISSIONS
from tests.api.conftest import TOKENS, OpenApi

# Every operation of the API once, with a body where it needs one.
OPERATIONS: list[tuple[str, str, object]] = [
    ("GET", "/api/v1/agents", None),
    ("GET", "/api/v1/agents/a1", None),
    ("POST", "/api/v1/agents/a3/login", None),
    ("POST", "/api/v1/agents/a1/logout", None),
    ("POST", "/api/v1/agents/a1/ready", None),
    ("POST", "/api/v1/agents/a1/not-ready", {"reason": "lunch"}),
    ("GET", "/api/v1/queues", None),
    ("GET", "/api/v1/queues/support", None),
    ("GET", "/api/v1/calls", None),
    ("GET", "/api/v1/calls/c1", None),
    ("POST", "/api/v1/calls/c1/hangup", None),
    ("GET", "/api/v1/tickets?number=T-2026-000001", None),
    ("GET", "/api/v1/tickets/overdue", None),
    ("GET", "/api/v1/tickets/T-2026-000001", None),
    ("POST", "/api/v1/tickets/T-2026-000001/complete", {}),
    ("GET", "/api/v1/webhooks/subscriptions", None),
    ("POST", "/api/v1/webhooks/subscriptions", {"url": "https://crm.example.com/hook"}),
    ("GET", "/api/v1/webhooks/subscriptions/sub_1", None),
    ("PATCH", "/api/v1/webhooks/subscriptions/sub_1", {}),
    ("DELETE", "/api/v1/webhooks/subscriptions/sub_1", None),
    ("POST", "/api/v1/webhooks/subscriptions/sub_1/rotate-secret", None),
    ("GET", "/api/v1/webhooks/subscriptions/sub_1/log", None),
    ("GET", "/api/v1/webhooks/dead-letters", None),
    ("POST", "/api/v1/webhooks/dead-letters/d1/replay", None),
    ("POST", "/api/v1/webhooks/replay", {"event_id": "1-0"}),
    ("GET", "/api/v1/webhooks/outbox", None),
    ("GET", "/api/v1/ivr/surge", None),
    ("PUT", "/api/v1/ivr/surge", {"prompt": ["sound:storm"]}),
    ("DELETE", "/api/v1/ivr/surge", None),
    ("GET", "/api/v1/events", None),
    ("GET", "/metrics", None),
    ("GET", "/api/openapi.json", None),
]


async def test_every_operation_needs_a_token(open_api: OpenApi) -> None:
    """No token, a wrong one, or another scheme: 401 with a Bearer challenge, and nothing about the token echoed."""
    async with open_api() as api:
        for client in (api.client(), api.client(token="x" * 24), api.client(token=TOKENS["admin"] + "x")):
            async with client as http:
                for method, path, body in OPERATIONS:
                    answer = await http.request(method, path, json=body)
                    assert answer.status_code == 401, (method, path, answer.text)
                    assert answer.headers["www-authenticate"].startswith("Bearer")
                    assert answer.json()["error"] == "unauthorized"
                    assert TOKENS["admin"] not in answer.text
        async with api.client() as http:
            basic = await http.get("/api/v1/agents", headers={"authorization": f"Basic {TOKENS['admin']}"})
            assert basic.status_code == 401


async def test_health_and_readiness_need_no_token(open_api: OpenApi) -> None:
    async with open_api() as api, api.client() as http:
        assert (await http.get("/health")).json() == {"status": "ok", "role": "active"}
        assert (await http.get("/ready")).status_code == 200
        api.app.services.draining = True
        assert (await http.get("/ready")).status_code == 503


async def test_openapi_document_describes_the_versioned_api(open_api: OpenApi) -> None:
    async with open_api() as api, api.client("crm") as http:
        document = (await http.get("/api/openapi.json")).json()
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    paths = set(document["paths"])
    assert {"/api/v1/agents", "/api/v1/tickets/{number}/complete", "/api/v1/ivr/surge", "/metrics"} <= paths
    assert all(p.startswith("/api/v1/") or p == "/metrics" for p in paths)
    assert "/health" not in paths


@pytest.mark.parametrize("role", ["admin", "supervisor"])
async def test_metrics_for_admin_and_supervisor(open_api: OpenApi, role: str) -> None:
    async with open_api() as api, api.client(role) as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert "callcenter_calls_started_total" in answer.text
    assert answer.headers["content-type"].startswith("text/plain")


# (role, method, path, body): refused with 403 whatever the object, because the role lacks the permission.
FORBIDDEN = [
    ("crm", "POST", "/api/v1/agents/a1/logout", None),
    ("crm", "POST", "/api/v1/agents/a1/not-ready", {"reason": "lunch"}),
    ("qa", "POST", "/api/v1/agents/a1/ready", None),
    ("crm", "POST", "/api/v1/calls/c1/hangup", None),
    ("qa", "POST", "/api/v1/calls/c1/hangup", None),
    ("agent1", "POST", "/api/v1/agents/a1/force", {"state": "available"}),
    ("qa", "POST", "/api/v1/agents/a1/force", {"state": "available"}),
    ("agent1", "GET", "/api/v1/wallboard", None),
    ("crm", "GET", "/api/v1/wallboard/stream", None),
    ("crm", "POST", "/api/v1/tickets/T-2026-000001/complete", {}),
    ("qa", "POST", "/api/v1/tickets/T-2026-000001/complete", {}),
    ("supervisor", "GET", "/api/v1/webhooks/subscriptions", None),
    ("agent1", "POST", "/api/v1/webhooks/subscriptions", {"url": "https://x.example.com/"}),
    ("qa", "GET", "/api/v1/webhooks/outbox", None),
    ("crm", "PUT", "/api/v1/ivr/surge", {"prompt": ["sound:storm"]}),
    ("agent1", "DELETE", "/api/v1/ivr/surge", None),
    ("crm", "GET", "/api/v1/ivr/surge", None),
    ("agent1", "GET", "/api/v1/events", None),
    ("qa", "GET", "/api/v1/events", None),
    ("qa", "GET", "/metrics", None),
    ("crm", "GET", "/metrics", None),
    ("agent1", "GET", "/metrics", None),
]


async def test_roles_without_the_permission_get_403(open_api: OpenApi) -> None:
    async with open_api() as api:
        states = {a: r.state for a, r in api.app.acd.board.agents.items()}
        for role, method, path, body in FORBIDDEN:
            async with api.client(role) as http:
                answer = await http.request(method, path, json=body)
            assert answer.status_code == 403, (role, method, path, answer.text)
            assert answer.json()["error"] == "forbidden"
        assert {a: r.state for a, r in api.app.acd.board.agents.items()} == states
        assert not api.app.surge.current().active


def test_docs_show_the_permissions_matrix_of_the_code() -> None:
    """docs/API.md's roles table is the one the code enforces."""
    text = (Path(__file__).parents[2] / "docs" / "API.md").read_text()
    roles = ["admin", "supervisor", "qa", "agent", "crm"]
    for permission, allowed in PERMISSIONS.items():
        row = re.search(rf"^\| `{re.escape(permission)}` \|(.+)$", text, re.MULTILINE)
        assert row, f"docs/API.md has no row for {permission}"
        cells = [cell.strip() for cell in row.group(1).split("|")[: len(roles)]]
        assert [role for role, cell in zip(roles, cells, strict=True) if cell] == [r for r in roles if r in allowed]
