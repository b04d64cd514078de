"""Webhook subscriptions, delivery log, dead letters, replays and the outbox over the API, with a real receiver."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import pytest
from litestar import Litestar, Request, Response, post

from callcenter_ari.http.app import serve
from callcenter_ari.webhooks import Subscription, generate_secret, verify
from tests.api.conftest import OpenApi, emit
from tests.e2e.helpers import eventually

# Nothing here reaches beyond loopback or looks a name up in DNS; refused destinations are refused before that.
pytestmark = pytest.mark.usefixtures("loopback_only")
STRICT = "[webhooks]\negress_allow = []\n"  # the default egress policy (the other tests allow their receivers)


@dataclass
class Receiver:
    url: str = ""
    status: int = 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    """A CRM's endpoint over real HTTP: records every request and answers ``status``."""
    box = Receiver()

    @post("/hook")
    async def hook(request: Request) -> Response[bytes]:  # type: ignore[type-arg]
        box.received.append((dict(request.headers), await request.body()))
        return Response(b"", status_code=box.status)

    async with anyio.create_task_group() as tg:
        port = await tg.start(serve, Litestar([hook], openapi_config=None), "127.0.0.1", 0)
        box.url = f"http://127.0.0.1:{port}/hook"
        yield box
        tg.cancel_scope.cancel()


async def test_subscription_crud_shows_the_secret_only_on_create_and_rotate(open_api: OpenApi) -> None:
    async with open_api() as api, api.client("crm") as http:
        created = await http.post(
            "/api/v1/webhooks/subscriptions",
            json={
                "url": "https://crm.example.com/hook",
                "events": ["call.*", "ticket.completed"],
                "description": "CRM",
            },
        )
        assert created.status_code == 201
        sub = created.json()
        secret, sub_id = sub["secret"], sub["id"]
        assert secret.startswith("whsec_") and sub["events"] == ["call.*", "ticket.completed"] and sub["enabled"]
        listed = await http.get("/api/v1/webhooks/subscriptions")
        one = await http.get(f"/api/v1/webhooks/subscriptions/{sub_id}")
        changed = await http.patch(f"/api/v1/webhooks/subscriptions/{sub_id}", json={"enabled": False, "events": []})
        for answer in (listed, one, changed):
            assert answer.status_code == 200
            assert secret not in answer.text and "secret" not in answer.text
        assert (changed.json()["enabled"], changed.json()["events"]) == (False, [])
        rotated = (await http.post(f"/api/v1/webhooks/subscriptions/{sub_id}/rotate-secret")).json()
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
        assert (await api.app.webhooks.subscription(sub_id)).secret == rotated["secret"]  # type: ignore[union-attr]
        assert (await http.delete(f"/api/v1/webhooks/subscriptions/{sub_id}")).status_code == 204
        assert (await http.get(f"/api/v1/webhooks/subscriptions/{sub_id}")).status_code == 404
        assert (await http.delete(f"/api/v1/webhooks/subscriptions/{sub_id}")).status_code == 404


async def test_bad_subscription_fields_are_422_naming_the_field(open_api: OpenApi) -> None:
    async with open_api() as api, api.client("admin") as http:
        cases = {
            "url": {"url": "ftp://crm.example.com/"},
            "events[1]": {"url": "https://crm.example.com/", "events": ["call.*", "Not A Kind"]},
            "secret": {"url": "https://crm.example.com/", "secret": "hunter2"},
            "description": {"url": "https://crm.example.com/", "description": "x" * 501},
            "enabled": {"url": "https://crm.example.com/", "enabled": "yes"},
        }
        for field_name, body in cases.items():
            answer = await http.post("/api/v1/webhooks/subscriptions", json=body)
            assert answer.status_code == 422, (field_name, answer.text)
            assert answer.json()["errors"][0]["field"] == field_name, answer.text
            assert "hunter2" not in answer.text
        assert await api.app.webhooks.subscriptions() == []
        patch = await http.patch("/api/v1/webhooks/subscriptions/sub_x", json={"url": "https://a.example.com/"})
        assert patch.status_code == 404


async def test_dead_letter_log_and_replays(open_api: OpenApi) -> None:
    """A receiver answering 410 Gone dead-letters the delivery and disables the subscription; after re-enabling
    it, the dead letter is replayed with its webhook-id, and a past event is replayed by its stream id."""
    async with receiver() as crm, open_api() as api, api.client("admin") as http:
        crm.status = 410
        sub = (await http.post("/api/v1/webhooks/subscriptions", json={"url": crm.url, "events": ["call.*"]})).json()
        emit(api.app, "call.started", call_id="c-dead", caller="+15550000001")
        await api.app.store.flush()
        await eventually(lambda: crm.received, what="first attempt")

        async def dead_letters() -> list[dict[str, object]]:
            answer = await http.get("/api/v1/webhooks/dead-letters")
            return answer.json()["deliveries"]  # type: ignore[no-any-return]

        [dead] = await eventually(dead_letters, what="dead letter")
        assert (dead["subscription_id"], dead["type"], dead["status"]) == (sub["id"], "call.started", "dead")
        log = (await http.get(f"/api/v1/webhooks/subscriptions/{sub['id']}/log")).json()["attempts"]
        assert [(a["outcome"], a["status_code"]) for a in log] == [("dead", 410)]
        disabled = (await http.get(f"/api/v1/webhooks/subscriptions/{sub['id']}")).json()
        assert not disabled["enabled"] and "410" in disabled["disabled_reason"]
        status = (await http.get("/api/v1/webhooks/outbox")).json()
        assert status["dead"] == 1 and set(status) == {"unread", "unacknowledged", "scheduled", "dead"}

        crm.status = 200
        await http.patch(f"/api/v1/webhooks/subscriptions/{sub['id']}", json={"enabled": True})
        replayed = await http.post(f"/api/v1/webhooks/dead-letters/{dead['id']}/replay")
        assert replayed.status_code == 202 and replayed.json()["id"] == dead["id"]
        await eventually(lambda: len(crm.received) == 2, what="dead letter replayed")
        headers, body = crm.received[1]
        assert headers["webhook-id"] == dead["id"]
        assert verify(headers, body, sub["secret"], now=time.time()) == dead["id"]
        assert (await http.post(f"/api/v1/webhooks/dead-letters/{dead['id']}/replay")).status_code == 404

        [event] = [e for e in (await http.get("/api/v1/events")).json()["events"] if e["type"] == "call.started"]
        again = await http.post("/api/v1/webhooks/replay", json={"event_id": event["id"], "subscription_id": sub["id"]})
        assert again.status_code == 202
        [delivery] = again.json()["deliveries"]
        assert delivery["replay_of"] == event["id"] and delivery["id"] != dead["id"]
        await eventually(lambda: len(crm.received) == 3, what="event replayed")
        assert crm.received[2][0]["webhook-id"] == delivery["id"]
        missing = await http.post("/api/v1/webhooks/replay", json={"event_id": "1-0"})
        bad_id = await http.post("/api/v1/webhooks/replay", json={"event_id": "yesterday"})
        assert missing.status_code == 404
        assert (bad_id.status_code, bad_id.json()["errors"][0]["field"]) == (422, "event_id")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://[::1]:8080/api/v1/agents",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://10.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:8088/ari/channels",
    ],
)
async def test_an_internal_destination_is_422_naming_the_url(open_api: OpenApi, url: str) -> None:
    async with open_api(STRICT) as api, api.client("crm") as http:
        created = await http.post("/api/v1/webhooks/subscriptions", json={"url": url})
        assert created.status_code == 422, created.text
        assert created.json()["errors"] == [{"field": "url", "message": created.json()["errors"][0]["message"]}]
        assert "egress" in created.json()["message"]
        sub = (await http.post("/api/v1/webhooks/subscriptions", json={"url": "https://93.184.215.14/h"})).json()
        moved = await http.patch(f"/api/v1/webhooks/subscriptions/{sub['id']}", json={"url": url})
        assert (moved.status_code, moved.json()["errors"][0]["field"]) == (422, "url")


async def test_the_delivery_log_never_tells_what_an_internal_service_answered(open_api: OpenApi) -> None:
    """A subscription to an internal service made before the policy (or before the allow-list was narrowed): its
    deliveries are refused before any connection, and the log a crm token reads says so and nothing more."""
    async with receiver() as internal, open_api(STRICT) as api, api.client("crm") as http:
        internal.status = 500  # what it would answer, had it been asked
        sub = Subscription(id="sub_0123456789abcdef", url=internal.url, secret=generate_secret(), created_at=1.0)
        await api.app.webhooks.store.save_subscription(sub)
        emit(api.app, "call.started", call_id="c-internal")
        await api.app.store.flush()

        async def log() -> list[dict[str, object]]:
            answer = await http.get(f"/api/v1/webhooks/subscriptions/{sub.id}/log")
            # The agents' log-ins at the start may be there too: the subscription existed already.
            return [line for line in answer.json()["attempts"] if line["type"] == "call.started"]

        [line] = await eventually(log, what="the first attempt")
        assert internal.received == []
        assert (line["outcome"], line["status_code"]) == ("retry", None)
        assert str(line["error"]).startswith("refused by the egress policy")
        assert "500" not in str(line["error"]) and "127.0.0.1" not in str(line["error"])
