"""The IVR surge announcement: read it, switch it on with its message, switch it off.

A change reaches every process within a second and affects the next caller, never one already listening.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
import structlog
from litestar import Controller, delete, get, put
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.errors import ApiError, FieldProblem, NotFound, documented
from callcenter_ari.http.params import Caller, Deps
from callcenter_ari.ivr import SurgeAnnouncement
from callcenter_ari.ivr.media import NAME
from callcenter_ari.runtime.surge import InvalidSurge, SurgeService

log = structlog.get_logger(__name__)

PromptItem = Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="sound:x, digits:1, number:5")]


class SurgeOn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    prompt: Annotated[list[PromptItem], msgspec.Meta(min_length=1, max_length=20)]
    area_variable: Annotated[str, msgspec.Meta(pattern=NAME.pattern + r"(?!\n)")] = "area"
    areas: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=100)] = []
    offer_self_service: bool = False
    offer_callback: bool = False


class InvalidPrompt(ApiError):
    status, code = 422, "invalid"


async def switch_on(service: SurgeService, data: SurgeOn) -> SurgeAnnouncement:
    try:
        return await service.switch_on(
            SurgeAnnouncement(
                prompt=tuple(data.prompt),
                area_variable=data.area_variable,
                areas=tuple(data.areas),
                offer_self_service=data.offer_self_service,
                offer_callback=data.offer_callback,
            )
        )
    except InvalidSurge as exc:
        problems = [FieldProblem(field, message) for field, message in exc.problems]
        raise InvalidPrompt(str(exc), problems) from None


def _home(principal: Principal) -> None:
    if not principal.home:
        raise NotFound("no surge announcement for this token's tenant here")


class SurgeController(Controller):
    path = "/ivr/surge"
    tags = ["ivr"]

    @get("/", guards=[requires("surge.read")], responses=documented(), sync_to_thread=False)
    def get_surge(self, deps: Deps, principal: Caller) -> SurgeAnnouncement:
        _home(principal)
        return deps.surge.current()

    @put("/", guards=[requires("surge.change")], status_code=HTTP_200_OK, responses=documented())
    async def switch_on(self, deps: Deps, principal: Caller, data: JSONBody[SurgeOn]) -> SurgeAnnouncement:
        """Switch the announcement on with this message (it replaces any current one)."""
        _home(principal)
        surge = await switch_on(deps.surge, data)
        log.info("api.surge_on", by=principal.name)
        return surge

    @delete("/", guards=[requires("surge.change")], status_code=HTTP_200_OK, responses=documented())
    async def switch_off(self, deps: Deps, principal: Caller) -> SurgeAnnouncement:
        """Switch it off; the message is kept (inactive) so that it can be read back."""
        _home(principal)
        surge = await deps.surge.switch_off()
        log.info("api.surge_off", by=principal.name)
        return surge
