"""Tickets over the API: a call an agent handled leaves a ticket, which that agent (and only they) completes."""

from __future__ import annotations

import time
from typing import Any

from callcenter_ari.clock import WallClock
from callcenter_ari.sim import Simulator
from tests.api.conftest import Api, OpenApi, call_with_agent

FORM: dict[str, Any] = {
    "category": "complaint",
    "customer_name": "Anna Miller",
    "place": "Main Street 5",
    "summary": "No power since the storm",
    "description": {
        "time": "since yesterday 18:00",
        "what_happened": "The whole street is dark.",
        "request": "Send a technician",
    },
    "answer": "A crew is on its way",
    "answer_basis": "Outage map",
    "urgent": True,
}


async def handled_call_ticket(api: Api, sim: Simulator, caller: str) -> str:
    """A call answered by a1 and ended by the caller; returns its ticket's number once it is opened."""
    channel = await call_with_agent(api.app, sim, caller)
    call_id = api.app.services.channels.call(channel).call_id
    await sim.hangup(channel)
    ticket = await api.app.tickets.for_call(call_id)
    assert ticket is not None, "ticket opened"
    assert (ticket.agent_id, ticket.caller_number, ticket.status) == ("a1", caller, "open")
    return ticket.number


async def test_the_agent_completes_the_ticket_of_the_call_they_handled(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api() as api:
        number = await handled_call_ticket(api, sim, "+15550707070")
        async with api.client("agent1") as http:
            [found] = (await http.get("/api/v1/tickets", params={"caller_number": "+1 (555) 070-7070"})).json()[
                "tickets"
            ]
            assert found["number"] == number and found["status"] == "open"
            answer = await http.post(f"/api/v1/tickets/{number}/complete", json=FORM)
            assert answer.status_code == 200, answer.text
            done = answer.json()
            assert (done["status"], done["category"], done["urgent"]) == ("completed", "complaint", True)
            assert done["title"] == "Main Street 5: No power since the storm"
            assert done["description"]["request"] == "Send a technician"
            assert done["escalated_role"] == "fallback"  # no shift lead on duty
            again = await http.post(f"/api/v1/tickets/{number}/complete", json=FORM)
            assert again.status_code == 409 and again.json()["error"] == "conflict"
            assert (await http.get(f"/api/v1/tickets/{number.lower()}")).json()["status"] == "completed"
        kinds = [kind for _, kind, fields in await api.app.store.events() if fields.get("ticket") == number]
        assert kinds == ["ticket.created", "ticket.completed", "ticket.escalated"]


async def test_a_bad_form_is_422_naming_every_field(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api() as api:
        number = await handled_call_ticket(api, sim, "+15550808080")
        async with api.client("agent1") as http:
            bad = {**FORM, "category": "rant", "summary": "", "description": {**FORM["description"], "request": " "}}
            answer = await http.post(f"/api/v1/tickets/{number}/complete", json=bad)
            typo = await http.post(f"/api/v1/tickets/{number}/complete", json={**FORM, "sumary": "x"})
            wrong_type = await http.post(f"/api/v1/tickets/{number}/complete", json={**FORM, "urgent": "yes"})
        assert answer.status_code == 422
        assert {e["field"] for e in answer.json()["errors"]} == {"category", "summary", "description.request"}
        assert (typo.status_code, typo.json()["errors"][0]["field"]) == (422, "sumary")
        assert (wrong_type.status_code, wrong_type.json()["errors"][0]["field"]) == (422, "urgent")
        assert (await api.app.tickets.get(number)).status == "open"  # type: ignore[union-attr]


async def test_another_agent_sees_nothing_of_the_ticket(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api() as api:
        number = await handled_call_ticket(api, sim, "+15550909090")
        async with api.client("agent2") as http:
            assert (await http.get(f"/api/v1/tickets/{number}")).status_code == 404
            assert (await http.post(f"/api/v1/tickets/{number}/complete", json=FORM)).status_code == 404
            assert (await http.get("/api/v1/tickets", params={"number": number})).json() == {"tickets": []}
            assert (await http.get("/api/v1/tickets", params={"caller_number": "+15550909090"})).json()["tickets"] == []
        async with api.client("other_supervisor") as http:
            assert (await http.get(f"/api/v1/tickets/{number}")).status_code == 404
        assert (await api.app.tickets.get(number)).status == "open"  # type: ignore[union-attr]


async def test_search_by_number_name_and_caller_for_crm_and_qa(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api() as api:
        number = await handled_call_ticket(api, sim, "+15551010101")
        for role in ("crm", "qa", "supervisor"):
            async with api.client(role) as http:
                by_name = await http.get("/api/v1/tickets", params={"customer_name": "ANNA", "prefix": "true"})
                exact = await http.get("/api/v1/tickets", params={"customer_name": "anna  miller"})
                by_number = await http.get("/api/v1/tickets", params={"number": number.lower()})
                assert [t["number"] for t in by_name.json()["tickets"]] == [number]
                assert [t["number"] for t in exact.json()["tickets"]] == [number]
                assert [t["number"] for t in by_number.json()["tickets"]] == [number]
        async with api.client("crm") as http:
            assert (await http.get("/api/v1/tickets/T-1999-000001")).status_code == 404
            assert (await http.get("/api/v1/tickets/not a number")).status_code == 404


async def test_search_takes_exactly_one_criterion(open_api: OpenApi) -> None:
    async with open_api() as api, api.client("crm") as http:
        none = await http.get("/api/v1/tickets")
        two = await http.get("/api/v1/tickets", params={"number": "T-2026-000001", "caller_number": "555"})
        long = await http.get("/api/v1/tickets", params={"caller_number": "5" * 65})
        limit = await http.get("/api/v1/tickets", params={"number": "T-2026-000001", "limit": "501"})
    assert none.status_code == 400 and {e["field"] for e in none.json()["errors"]} == {
        "caller_number",
        "number",
        "customer_name",
    }
    assert two.status_code == 400
    assert (long.status_code, long.json()["errors"][0]["field"]) == (400, "caller_number")
    assert (limit.status_code, limit.json()["errors"][0]["field"]) == (400, "limit")


async def test_overdue_lists_open_tickets_past_their_deadline(sim: Simulator, open_api: OpenApi) -> None:
    """The API's clock 16 minutes ahead: the open ticket is overdue; once completed it is not."""
    async with open_api(clock=WallClock(start=time.time() + 16 * 60)) as api:
        number = await handled_call_ticket(api, sim, "+15551111111")
        async with api.client("supervisor") as http:
            assert [t["number"] for t in (await http.get("/api/v1/tickets/overdue")).json()["tickets"]] == [number]
        async with api.client("agent2") as http:
            assert (await http.get("/api/v1/tickets/overdue")).json() == {"tickets": []}
        async with api.client("agent1") as http:
            assert [t["number"] for t in (await http.get("/api/v1/tickets/overdue")).json()["tickets"]] == [number]
            assert (await http.post(f"/api/v1/tickets/{number}/complete", json=FORM)).status_code == 200
            assert (await http.get("/api/v1/tickets/overdue")).json() == {"tickets": []}
