"""Outbound campaigns: create, change, run through their states, delete a draft, read their statistics.

The body of a campaign is ``CampaignSpec`` (docs/CAMPAIGNS.md), checked against the tenant's trunks and queues;
every field at fault is named (422). A token of another tenant sees no campaign and changes none (404).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from callcenter_ari.campaigns import Campaign, CampaignSpec
from callcenter_ari.campaigns.states import Action
from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.errors import NotFound, documented
from callcenter_ari.http.params import Caller, Deps, Id
from callcenter_ari.store.campaign_desk import CampaignStats


class NewCampaign(CampaignSpec, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A campaign's spec with its id."""

    id: str


class CampaignList(msgspec.Struct, frozen=True):
    campaigns: list[Campaign]


class StateChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    action: Action  # start, pause, resume, stop, finish


def home(principal: Principal) -> None:
    """Another tenant's token changes nothing here and learns nothing: every object is 404."""
    if not principal.home:
        raise NotFound("no such campaign")


def _spec(data: msgspec.Struct) -> CampaignSpec:
    fields = {f: getattr(data, f) for f in CampaignSpec.__struct_fields__}
    return CampaignSpec(**fields)


_CHANGE: dict[str, Any] = {"guards": [requires("campaigns.manage")], "responses": documented(409)}


class CampaignController(Controller):
    path = "/campaigns"
    tags = ["campaigns"]

    @get("/", guards=[requires("campaigns.read")], responses=documented())
    async def list_campaigns(self, deps: Deps, principal: Caller) -> CampaignList:
        """Every campaign of the tenant, oldest first."""
        return CampaignList(await deps.campaigns.campaigns.all() if principal.home else [])

    @post("/", status_code=HTTP_201_CREATED, **_CHANGE)
    async def create_campaign(self, deps: Deps, principal: Caller, data: JSONBody[NewCampaign]) -> Campaign:
        """Create a campaign in draft; 409 if the id is taken, 422 naming every field at fault."""
        home(principal)
        return await deps.campaigns.create(data.id, _spec(data), by=principal.name)

    @get("/{campaign_id:str}", guards=[requires("campaigns.read")], responses=documented())
    async def get_campaign(self, deps: Deps, principal: Caller, campaign_id: Id) -> Campaign:
        home(principal)
        return await deps.campaigns.campaigns.require(campaign_id)

    @put("/{campaign_id:str}", status_code=HTTP_200_OK, **_CHANGE)
    async def replace_campaign(
        self, deps: Deps, principal: Caller, campaign_id: Id, data: JSONBody[CampaignSpec]
    ) -> Campaign:
        """Replace a draft or paused campaign's spec (409 while it runs: pause it first)."""
        home(principal)
        return await deps.campaigns.replace(campaign_id, data, by=principal.name)

    @delete("/{campaign_id:str}", status_code=HTTP_204_NO_CONTENT, **_CHANGE)
    async def delete_campaign(self, deps: Deps, principal: Caller, campaign_id: Id) -> None:
        """Delete a draft with its leads; a campaign that has run keeps its results (409)."""
        home(principal)
        await deps.campaigns.delete(campaign_id, by=principal.name)

    @post("/{campaign_id:str}/state", status_code=HTTP_200_OK, **_CHANGE)
    async def change_state(
        self, deps: Deps, principal: Caller, campaign_id: Id, data: JSONBody[StateChange]
    ) -> Campaign:
        """start, pause, resume, stop or finish; an action the campaign's state does not allow is 409."""
        home(principal)
        return await deps.campaigns.act(campaign_id, data.action, by=principal.name)

    @get("/{campaign_id:str}/stats", guards=[requires("campaigns.read")], responses=documented())
    async def campaign_stats(self, deps: Deps, principal: Caller, campaign_id: Id) -> CampaignStats:
        """Leads by state, attempts and their outcomes, contacts, dispositions, today's calls."""
        home(principal)
        return await deps.campaigns.stats(campaign_id)
