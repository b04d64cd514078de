"""The tenant's event stream, for CRMs catching up: the events after a stream id, oldest first."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.params import QueryParameter

from callcenter_ari.http.auth import requires
from callcenter_ari.http.errors import documented
from callcenter_ari.http.params import Caller, Deps

_STREAM_ID = r"^\d{1,19}-\d{1,19}$(?!\n)"  # (?!\n): Python's $ also matches before a final newline


class Event(msgspec.Struct, frozen=True):
    id: str  # the stream id: pass the last one you processed as `after`
    type: str  # call.answered, ticket.completed, ... (the webhook event types)
    data: dict[str, Any]


class EventPage(msgspec.Struct, frozen=True):
    events: list[Event]
    last_id: str | None  # the id to pass as `after` next time; None when this page is empty


class EventController(Controller):
    path = "/events"
    tags = ["events"]

    @get("/", guards=[requires("events.read")], responses=documented())
    async def read_events(
        self,
        deps: Deps,
        principal: Caller,
        after: Annotated[
            str | None, QueryParameter(pattern=_STREAM_ID, description="a stream id; omitted: from the oldest kept")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> EventPage:
        """Events strictly after ``after``, oldest first, at most ``limit``."""
        if not principal.home:
            return EventPage([], None)
        rows = await deps.store.events(limit, f"({after}" if after else "-")
        events = [Event(ident, kind, data if isinstance(data, dict) else {}) for ident, kind, data in rows]
        return EventPage(events, events[-1].id if events else None)
