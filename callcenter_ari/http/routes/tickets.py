"""Tickets (work orders): read by number, search, complete at wrap-up, list the overdue ones."""

from __future__ import annotations

from typing import Annotated

import msgspec
import structlog
from litestar import Controller, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.http.errors import BadRequest, FieldProblem, NotFound, documented
from callcenter_ari.http.params import Caller, Deps, Id
from callcenter_ari.tickets import Ticket, TicketForm

log = structlog.get_logger(__name__)

_SEARCH_KEYS = ("caller_number", "number", "customer_name")


class TicketList(msgspec.Struct, frozen=True):
    tickets: list[Ticket]


class WhatHappened(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    time: str = ""  # when it happened, in the caller's words ("yesterday around 18:00")
    what_happened: str = ""
    request: str = ""  # what the caller asks for


class Completion(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The wrap-up form, shaped as the ticket shows it, so that an error's field name is the body's own path
    (``description.request``, ``candidates[1]``). Texts are checked by the ticket rules, all at once."""

    category: str = ""  # inquiry, suggestion, complaint, request_for_help
    borderline: bool = False
    candidates: list[str] = []  # a borderline case: the two categories the agent hesitates between
    customer_name: str = ""
    caller_number: str = ""  # overrides the call's number (withheld, or a callback number)
    place: str = ""
    summary: str = ""
    description: WhatHappened = WhatHappened()
    answer: str = ""  # the answer the agent gave
    answer_basis: str = ""  # what the answer rests on
    urgent: bool = False

    def form(self) -> TicketForm:
        return TicketForm(
            category=self.category,
            borderline=self.borderline,
            candidates=tuple(self.candidates),
            customer_name=self.customer_name,
            caller_number=self.caller_number,
            place=self.place,
            summary=self.summary,
            time=self.description.time,
            what_happened=self.description.what_happened,
            request=self.description.request,
            answer=self.answer,
            answer_basis=self.answer_basis,
            urgent=self.urgent,
        )


async def visible(deps: ApiDeps, principal: Principal, number: str) -> Ticket:
    ticket = await deps.tickets.get(number) if principal.home else None
    if ticket is None or not principal.sees_ticket(ticket.tenant, ticket.agent_id):
        raise NotFound(f"no ticket {number[:40]!r}")
    return ticket


class TicketController(Controller):
    path = "/tickets"
    tags = ["tickets"]

    @get("/", guards=[requires("tickets.read")], responses=documented(), opt={"exactly_one_of": _SEARCH_KEYS})
    async def search(
        self,
        deps: Deps,
        principal: Caller,
        caller_number: Annotated[str | None, QueryParameter(max_length=64, description="digits compared")] = None,
        number: Annotated[str | None, QueryParameter(max_length=40, description="T-2026-000123, any case")] = None,
        customer_name: Annotated[str | None, QueryParameter(max_length=200, description="case-insensitive")] = None,
        prefix: Annotated[bool, QueryParameter(description="customer_name is the start of the name")] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> TicketList:
        """Search by exactly one of caller number, ticket number or customer name; newest first."""
        given = {k: v for k, v in zip(_SEARCH_KEYS, (caller_number, number, customer_name), strict=True) if v}
        if len(given) != 1:
            problems = [FieldProblem(k, "give exactly one of these") for k in _SEARCH_KEYS]
            raise BadRequest("search by exactly one of caller_number, number, customer_name", problems)
        if not principal.home:
            return TicketList([])
        found = await deps.tickets.search(**given, prefix=prefix, limit=limit)
        return TicketList([t for t in found if principal.sees_ticket(t.tenant, t.agent_id)])

    @get("/overdue", guards=[requires("tickets.read")], responses=documented())
    async def overdue(
        self, deps: Deps, principal: Caller, limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100
    ) -> TicketList:
        """Open tickets past their deadline (15 minutes after the call ended), the longest overdue first."""
        if not principal.home:
            return TicketList([])
        late = await deps.tickets.overdue(deps.clock.now())
        return TicketList([t for t in late if principal.sees_ticket(t.tenant, t.agent_id)][:limit])

    @get("/{number:str}", guards=[requires("tickets.read")], responses=documented())
    async def get_ticket(self, deps: Deps, principal: Caller, number: Id) -> Ticket:
        return await visible(deps, principal, number)

    @post(
        "/{number:str}/complete",
        guards=[requires("tickets.complete")],
        status_code=HTTP_200_OK,
        responses=documented(409),
    )
    async def complete(self, deps: Deps, principal: Caller, number: Id, data: JSONBody[Completion]) -> Ticket:
        """File the wrap-up form; every bad field is named (422). Escalates complaints, help and urgent tickets."""
        ticket = await visible(deps, principal, number)
        done = await deps.tickets.complete(ticket.number, data.form())
        log.info("api.ticket_completed", ticket=done.number, by=principal.name)
        return done
