"""The tenant's do-not-call list: look a number up, add numbers, remove one, upload a list as CSV.

Numbers are read as lead lists read them (E.164, or national in ``region`` or ``campaigns.default_region``); every
campaign checks the list at import and again right before each dial.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_204_NO_CONTENT

from callcenter_ari.http.auth import requires
from callcenter_ari.http.errors import NotFound, documented
from callcenter_ari.http.params import Caller, Deps, Id
from callcenter_ari.http.routes.campaign_leads import (
    UPLOAD,
    CsvEncoding,
    Header,
    Text,
    csv_download,
    read_options,
    rejects_csv,
    visible_import,
)
from callcenter_ari.http.routes.campaigns import home
from callcenter_ari.http.uploads import Upload
from callcenter_ari.store.dnc import DncEntry
from callcenter_ari.store.lead_imports import ImportRecord

Region = Annotated[str, QueryParameter(max_length=2, description="ISO 3166, for national numbers")]
Number = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class DncPage(msgspec.Struct, frozen=True):
    entries: list[DncEntry]
    cursor: str | None
    total: int


class NewNumbers(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    numbers: Annotated[list[Number], msgspec.Meta(min_length=1, max_length=1000)]
    region: Annotated[str, msgspec.Meta(max_length=2)] = ""
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""


class Added(msgspec.Struct, frozen=True):
    added: list[DncEntry]
    already_listed: int


class DncController(Controller):
    path = "/dnc"
    tags = ["do-not-call"]

    @get("/", guards=[requires("dnc.read")], responses=documented())
    async def list_numbers(
        self,
        deps: Deps,
        principal: Caller,
        cursor: Annotated[int, QueryParameter(ge=0, le=2**63 - 1)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> DncPage:
        """A page of the list (in no particular order) and how many numbers it holds."""
        if not principal.home:
            return DncPage([], None, 0)
        entries, nxt = await deps.campaigns.dnc.page(cursor, limit)
        return DncPage(entries, str(nxt) if nxt else None, await deps.campaigns.dnc.count())

    @post("/", guards=[requires("dnc.manage")], responses=documented())
    async def add_numbers(self, deps: Deps, principal: Caller, data: JSONBody[NewNumbers]) -> Added:
        """Put numbers on the list; every number that is not one is named (numbers[i])."""
        home(principal)
        added, listed = await deps.campaigns.add_dnc(data.numbers, data.region, data.reason, by=principal.name)
        return Added(added, listed)

    @get("/{number:str}", guards=[requires("dnc.read")], responses=documented())
    async def get_number(self, deps: Deps, principal: Caller, number: Id, region: Region = "") -> DncEntry:
        """The list's entry for a number (E.164, or national with ``region``); 404 when it is not listed."""
        home(principal)
        entry = await deps.campaigns.dnc.get(deps.campaigns.number_of(number, region))
        if entry is None:
            raise NotFound(f"{number[:40]} is not on the do-not-call list")
        return entry

    @delete("/{number:str}", guards=[requires("dnc.manage")], responses=documented(), status_code=HTTP_204_NO_CONTENT)
    async def remove_number(self, deps: Deps, principal: Caller, number: Id, region: Region = "") -> None:
        home(principal)
        if not await deps.campaigns.dnc.remove(deps.campaigns.number_of(number, region)):
            raise NotFound(f"{number[:40]} is not on the do-not-call list")

    @post("/imports", **{**UPLOAD, "guards": [requires("dnc.manage")]})
    async def import_dnc(
        self,
        deps: Deps,
        principal: Caller,
        request: Request[Any, Any, Any],
        dry_run: Annotated[bool, QueryParameter(description="report what would load; load nothing")] = False,
        encoding: Annotated[str, QueryParameter(max_length=20)] = "",
        delimiter: Annotated[str, QueryParameter(max_length=1)] = "",
        header: Header = "auto",
        phone_column: Text = "",
        region: Region = "",
    ) -> ImportRecord:
        """Upload numbers for the list (CSV, the same rules as a lead list)."""
        home(principal)
        options = read_options(encoding, delimiter, header, phone_column, "", "", region)
        upload = await Upload(request, deps.campaigns.settings.max_upload_bytes).open()
        return await deps.campaigns.import_dnc(
            upload.chunks(), options, dry_run=dry_run, by=principal.name, file_name=upload.file_name
        )

    @get("/imports/{import_id:str}", guards=[requires("dnc.read")], responses=documented())
    async def get_dnc_import(self, deps: Deps, principal: Caller, import_id: Id) -> ImportRecord:
        return await visible_import(deps, principal, "", import_id)

    @get(
        "/imports/{import_id:str}/rejects", guards=[requires("dnc.read")], responses=documented(), media_type="text/csv"
    )
    async def dnc_import_rejects(
        self, deps: Deps, principal: Caller, import_id: Id, encoding: CsvEncoding = "utf-8"
    ) -> Stream:
        record = await visible_import(deps, principal, "", import_id)
        return csv_download(rejects_csv(deps, record, encoding), f"{record.id}-rejects.csv", encoding)
