"""Callbacks through the API: scheduled by the CRM or an agent, listed, cancelled and rescheduled; a number the
plan refuses or a second pending one for the queue answered with a clear 4xx; the queue statistics' callbacks."""

from __future__ import annotations

from tests.api.conftest import OpenApi

TRUNK = """
[trunks.provider1]
kind = "pjsip"
endpoint = "provider1"
capacity = 4
region = "US"
[callback.plan]
region = "US"
"""
TOMORROW = 86_400.0


async def test_the_crm_schedules_a_callback_and_a_second_for_the_number_is_refused(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api:
        at = api.app.clock.now() + TOMORROW
        async with api.client("crm") as http:
            made = await http.post("/api/v1/callbacks", json={"queue": "support", "number": "202-555-0143", "at": at})
            assert made.status_code == 201, made.text
            body = made.json()
            assert body["number"] == "+12025550143" and body["state"] == "requested" and body["not_before"] == at
            again = await http.post("/api/v1/callbacks", json={"queue": "support", "number": "+12025550143"})
            assert again.status_code == 409
            assert "pending already" in again.json()["message"] and body["id"] in again.json()["message"]
            listed = (await http.get("/api/v1/callbacks", params={"queue": "support"})).json()["callbacks"]
            assert [c["id"] for c in listed] == [body["id"]]
            assert (await http.get(f"/api/v1/callbacks/{body['id']}")).json()["origin"] == "scheduled"
        await api.app.store.flush()
        kinds = [kind for _, kind, f in await api.app.store.events() if f.get("callback_id") == body["id"]]
        assert kinds == ["callback.requested"]


async def test_bad_input_names_the_field(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api:
        async with api.client("admin") as http:
            cases = {
                "number": {"queue": "support", "number": "PJSIP/evil@x"},
                "queue": {"queue": "nowhere", "number": "+12025550143"},
                "agent": {"queue": "support", "number": "+12025550143", "agent": "nobody"},
                "deadline": {"queue": "support", "number": "+12025550143", "deadline": 1_000_000_001.0},
            }
            for field, body in cases.items():
                answer = await http.post("/api/v1/callbacks", json=body)
                assert answer.status_code == 422, (field, answer.text)
                assert [e["field"] for e in answer.json()["errors"]] == [field]
            premium = await http.post("/api/v1/callbacks", json={"queue": "support", "number": "1-900-555-0123"})
            assert premium.status_code == 422 and premium.json()["errors"][0]["field"] == "number"


async def test_cancel_and_reschedule(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api:
        now = api.app.clock.now()
        async with api.client("supervisor") as http:
            made = (
                await http.post(
                    "/api/v1/callbacks", json={"queue": "support", "number": "+12025550143", "at": now + 600}
                )
            ).json()
            moved = await http.post(f"/api/v1/callbacks/{made['id']}/reschedule", json={"at": now + 7200})
            assert moved.status_code == 200 and moved.json()["not_before"] == now + 7200
            past = await http.post(f"/api/v1/callbacks/{made['id']}/reschedule", json={"at": now - 5})
            assert past.status_code == 422 and past.json()["errors"][0]["field"] == "at"
            gone = await http.post(f"/api/v1/callbacks/{made['id']}/cancel")
            assert gone.status_code == 200 and gone.json()["state"] == "cancelled"
            twice = await http.post(f"/api/v1/callbacks/{made['id']}/cancel")
            assert twice.status_code == 409
            assert (await http.post("/api/v1/callbacks/k-nothing/cancel")).status_code == 404
            again = await http.post("/api/v1/callbacks", json={"queue": "support", "number": "+12025550143"})
            assert again.status_code == 201, "the cancelled one no longer blocks the number"


async def test_an_agent_schedules_for_itself_and_sees_only_its_own_and_anyones(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api:
        async with api.client("admin") as http:
            for_a2 = await http.post(
                "/api/v1/callbacks", json={"queue": "support", "number": "+12025550101", "agent": "a2"}
            )
            assert for_a2.status_code == 201
        async with api.client("agent1") as http:
            mine = await http.post(
                "/api/v1/callbacks", json={"queue": "support", "number": "+12025550102", "agent": "a1"}
            )
            assert mine.status_code == 201 and mine.json()["agent"] == "a1"
            other = await http.post(
                "/api/v1/callbacks", json={"queue": "support", "number": "+12025550103", "agent": "a2"}
            )
            assert other.status_code == 422
            seen = {c["id"] for c in (await http.get("/api/v1/callbacks")).json()["callbacks"]}
            assert seen == {mine.json()["id"]}
            assert (await http.post(f"/api/v1/callbacks/{for_a2.json()['id']}/cancel")).status_code == 404
        async with api.client("qa") as http:
            assert (
                await http.post("/api/v1/callbacks", json={"queue": "support", "number": "+12025550104"})
            ).status_code == 403
            assert (await http.get("/api/v1/callbacks")).status_code == 200
        async with api.client("other_crm") as http:
            assert (await http.get("/api/v1/callbacks")).json() == {"callbacks": []}


async def test_queue_statistics_count_callbacks(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api:
        now = api.app.clock.now()
        async with api.client("crm") as http:
            await http.post("/api/v1/callbacks", json={"queue": "support", "number": "+12025550101", "at": now + 3600})
            queue = (await http.get("/api/v1/queues/support")).json()
            assert queue["callbacks"] == {"pending": 1, "due": 0, "attempted": 0, "connected": 0, "expired": 0}
