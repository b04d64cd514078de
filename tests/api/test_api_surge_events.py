"""The IVR surge announcement switched on and off, and the event stream read in pages."""

from __future__ import annotations

from callcenter_ari.runtime.surge import SurgeService
from callcenter_ari.store.surge import SurgeStore
from tests.api.conftest import OpenApi, emit

STORM = {
    "prompt": ["sound:utility/storm-outage", "digits:2"],
    "areas": ["north"],
    "offer_callback": True,
}


async def test_supervisor_switches_the_surge_announcement_on_and_off(open_api: OpenApi) -> None:
    """On: every process sees it (Redis); off: inactive for the next caller, the message kept for reading."""
    async with open_api() as api:
        other_process = SurgeService(SurgeStore(api.app.store.redis, api.app.store.keys))
        async with api.client("supervisor") as http:
            assert (await http.get("/api/v1/ivr/surge")).json()["active"] is False
            on = await http.put("/api/v1/ivr/surge", json=STORM)
            assert on.status_code == 200
            assert on.json() == {
                "active": True,
                "prompt": ["sound:utility/storm-outage", "digits:2"],
                "area_variable": "area",
                "areas": ["north"],
                "offer_self_service": False,
                "offer_callback": True,
            }
            await other_process.refresh()
            assert other_process.current().active and other_process.current().areas == ("north",)
        async with api.client("agent1") as http:
            assert (await http.get("/api/v1/ivr/surge")).json()["active"] is True
        async with api.client("admin") as http:
            off = await http.delete("/api/v1/ivr/surge")
            assert off.status_code == 200 and off.json()["active"] is False
            assert off.json()["prompt"] == STORM["prompt"]
        await other_process.refresh()
        assert not other_process.current().active and not api.app.surge.current().active


async def test_surge_input_is_checked_field_by_field(open_api: OpenApi) -> None:
    async with open_api() as api, api.client("supervisor") as http:
        cases = {
            "prompt[1]": {"prompt": ["sound:ok", "sound:../../etc/passwd"]},
            "prompt": {"prompt": []},
            "area_variable": {"prompt": ["sound:ok"], "area_variable": "1 bad"},
            "offer_callback": {"prompt": ["sound:ok"], "offer_callback": "yes"},
            "active": {"prompt": ["sound:ok"], "active": False},
        }
        for field_name, body in cases.items():
            answer = await http.put("/api/v1/ivr/surge", json=body)
            assert answer.status_code == 422, (field_name, answer.text)
            assert answer.json()["errors"][0]["field"] == field_name
        assert not api.app.surge.current().active


async def test_events_are_read_after_a_stream_id_in_pages(open_api: OpenApi) -> None:
    async with open_api() as api:
        for n in range(5):
            emit(api.app, "call.note", call_id=f"c{n}", n=n)
        await api.app.store.flush()
        async with api.client("crm") as http:
            # Start after what the application wrote when it started (agents logged in).
            start = (await http.get("/api/v1/events", params={"limit": 1000})).json()["events"]
            after = next(e for e in start if e["type"] == "call.note")["id"]
            first = (await http.get("/api/v1/events", params={"limit": 2, "after": after})).json()
            rest = (await http.get("/api/v1/events", params={"after": first["last_id"], "limit": 3})).json()
            end = (await http.get("/api/v1/events", params={"after": rest["last_id"]})).json()
            bad = await http.get("/api/v1/events", params={"after": "yesterday"})
            newline = await http.get("/api/v1/events", params={"after": f"{after}\n"})
            too_many = await http.get("/api/v1/events", params={"limit": 1001})
    assert [e["data"]["n"] for e in first["events"]] == [1, 2]
    assert [e["data"]["n"] for e in rest["events"]] == [3, 4]
    assert {e["type"] for e in first["events"] + rest["events"]} == {"call.note"}
    assert first["last_id"] == first["events"][-1]["id"]
    assert end == {"events": [], "last_id": None}
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "after")
    assert (newline.status_code, newline.json()["errors"][0]["field"]) == (400, "after")  # not a Redis error (503)
    assert (too_many.status_code, too_many.json()["errors"][0]["field"]) == (400, "limit")
