from __future__ import annotations


async def test_smoke(open_api) -> None:
    async with open_api() as api:
        async with api.client("admin") as http:
            for path in ["/api/v1/agents", "/api/v1/queues", "/api/v1/calls", "/api/v1/ivr/surge", "/api/v1/events",
                         "/api/v1/webhooks/subscriptions", "/api/v1/webhooks/outbox", "/api/v1/tickets/overdue",
                         "/api/v1/tickets?number=T-2026-000001", "/api/v1/tickets?limit=0", "/api/v1/agents/zz",
                         "/api/v1/events?after=abc"]:
                r = await http.get(path)
                print(path, r.status_code, r.text[:300])
            r = await http.post("/api/v1/agents/a1/not-ready", json={"reason": "Lunch!"})
            print(r.status_code, r.text)
            r = await http.post("/api/v1/agents/a1/not-ready", content=b"{bad")
            print(r.status_code, r.text)
            r = await http.post("/api/v1/agents/a1/not-ready", json={"reason": "lunch", "x": 1})
            print(r.status_code, r.text)
            r = await http.post("/api/v1/agents/a1/not-ready", json={"reason": "lunch"})
            print(r.status_code, r.text)
            r = await http.post("/api/v1/agents/a1/not-ready")
            print(r.status_code, r.text)
            r = await http.post("/api/v1/webhooks/subscriptions", json={"url": "ftp://x", "events": ["a"]})
            print(r.status_code, r.text)
            r = await http.post("/api/v1/webhooks/subscriptions", json={"url": 5})
            print(r.status_code, r.text)
            r = await http.post("/api/v1/tickets/T-2026-000001/complete", json={"category": 5})
            print(r.status_code, r.text)
            r = await http.get("/api/openapi.json")
            print(r.status_code, len(r.text))
            r = await http.get("/metrics")
            print(r.status_code, r.text[:100])
        async with api.client() as http:
            r = await http.get("/api/v1/agents")
            print(r.status_code, r.headers, r.text)
            r = await http.get("/health")
            print(r.status_code, r.text)
        async with api.client("qa") as http:
            r = await http.post("/api/v1/agents/a1/logout")
            print(r.status_code, r.text)
