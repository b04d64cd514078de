"""The dialer: a campaign's live figures (its pacer in this process, the abandon ledger all processes share), and
preview mode's screen pop: the lead an agent is to call, with its data and history, started or skipped.

Starting, pausing, resuming and stopping a campaign is its state (``POST /campaigns/{id}/state``): every process's
dialer follows it within a second.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from callcenter_ari.http.auth import requires
from callcenter_ari.http.errors import NotFound, documented
from callcenter_ari.http.params import Caller, Deps, Id
from callcenter_ari.http.routes.campaigns import home
from callcenter_ari.runtime.dialer import LiveFigures, NoPreview, Preview


class PreviewAnswer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    call_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    action: Literal["start", "skip"] = "start"


class DialerController(Controller):
    path = "/"
    tags = ["dialer"]

    @get("/campaigns/{campaign_id:str}/dialer", guards=[requires("campaigns.read")], responses=documented())
    async def dialer_figures(self, deps: Deps, principal: Caller, campaign_id: Id) -> LiveFigures:
        """The campaign's dialer now: agents and calls by state in this process, and each abandon rule's current
        period, the last 24 hours and the last 30 days from the ledger."""
        home(principal)
        return await deps.dialer.figures(await deps.campaigns.campaigns.require(campaign_id))

    @get("/agents/{agent_id:str}/preview", guards=[requires("campaigns.preview")], responses=documented())
    async def agent_preview(self, deps: Deps, principal: Caller, agent_id: Id) -> Preview:
        """The lead on the agent's screen in a preview campaign (404 when none)."""
        if not principal.sees_agent(agent_id):
            raise NotFound("no such agent")
        try:
            return deps.dialer.preview_of(agent_id)
        except NoPreview as exc:
            raise NotFound(str(exc)) from None

    @post(
        "/agents/{agent_id:str}/preview",
        status_code=HTTP_204_NO_CONTENT,
        guards=[requires("campaigns.preview")],
        responses=documented(),
    )
    async def answer_preview(self, deps: Deps, principal: Caller, agent_id: Id, data: JSONBody[PreviewAnswer]) -> None:
        """Start the call to the previewed lead, or skip it (it goes back to the campaign)."""
        if not principal.sees_agent(agent_id):
            raise NotFound("no such agent")
        try:
            deps.dialer.answer_preview(agent_id, data.call_id, start=data.action == "start")
        except NoPreview as exc:
            raise NotFound(str(exc)) from None
