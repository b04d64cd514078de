"""A campaign's leads: lists uploaded as CSV (streamed), the imports' reports and rejected rows, the leads
themselves, the agents' dispositions, and the results exported as CSV.

An upload is read while it arrives and answered when it has been read: 201 with the import's report, or 422 (413
past the size limit) saying why it stopped, at which line, and what was loaded before. Options are query
parameters. An agent token sees and disposes of the leads whose last call it took; other roles need
``campaigns.read``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from callcenter_ari.campaigns import Lead
from callcenter_ari.campaigns.export import REJECT_COLUMNS, CsvWriter, Encoding, lead_header, lead_row, reject_row
from callcenter_ari.campaigns.model import LeadState
from callcenter_ari.campaigns.reader import ReadOptions
from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.http.errors import NotFound, documented
from callcenter_ari.http.params import Caller, Deps, Id
from callcenter_ari.http.routes.campaigns import home
from callcenter_ari.http.uploads import CsvUpload, Upload
from callcenter_ari.store.lead_imports import ImportRecord

Text = Annotated[str, QueryParameter(max_length=64)]
Header = Annotated[Literal["auto", "yes", "no"], QueryParameter(description="does the first row name the columns")]
CsvEncoding = Annotated[Encoding, QueryParameter(description="utf-8 (with a byte-order mark) or gbk")]


class LeadPage(msgspec.Struct, frozen=True):
    leads: list[Lead]
    cursor: str | None  # pass as ?cursor= for the next page; null at the end


class ImportList(msgspec.Struct, frozen=True):
    imports: list[ImportRecord]


class DispositionBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""


def read_options(
    encoding: str, delimiter: str, header: Literal["auto", "yes", "no"], phone: str, name: str, zone: str, region: str
) -> ReadOptions:
    return ReadOptions(
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        phone_column=phone,
        name_column=name,
        zone_column=zone,
        region=region,
    )


def csv_download(chunks: AsyncIterator[bytes], name: str, encoding: Encoding) -> Stream:
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Stream(chunks, media_type=f"text/csv; charset={encoding}", headers=headers)


async def rejects_csv(deps: ApiDeps, record: ImportRecord, encoding: Encoding) -> AsyncIterator[bytes]:
    writer = CsvWriter(REJECT_COLUMNS, encoding)
    yield writer.rows(())
    async for batch in deps.campaigns.imports.rejects(record.id):
        yield writer.rows([reject_row(rejected) for rejected in batch])


async def visible_import(deps: ApiDeps, principal: Principal, campaign_id: str, import_id: str) -> ImportRecord:
    record = await deps.campaigns.imports.get(import_id, deps.clock.now()) if principal.home else None
    if (
        record is None
        or record.campaign_id != campaign_id
        or record.kind != ("leads" if campaign_id else "do_not_call")
    ):
        raise NotFound(f"no import {import_id[:64]!r}")
    return record


UPLOAD: dict[str, Any] = {
    "guards": [requires("campaigns.manage")],
    "responses": documented(409, 413, 415),
    "operation_class": CsvUpload,
    "request_max_body_size": None,  # campaigns.max_upload_mb applies, as the bytes arrive
    "status_code": HTTP_201_CREATED,
}


class CampaignLeadController(Controller):
    path = "/campaigns/{campaign_id:str}"
    tags = ["campaigns"]

    @post("/imports", **UPLOAD)
    async def import_leads(
        self,
        deps: Deps,
        principal: Caller,
        campaign_id: Id,
        request: Request[Any, Any, Any],
        dry_run: Annotated[bool, QueryParameter(description="report what would load; load nothing")] = False,
        encoding: Annotated[str, QueryParameter(max_length=20, description="empty: detected")] = "",
        delimiter: Annotated[str, QueryParameter(max_length=1, description="empty: detected")] = "",
        header: Header = "auto",
        phone_column: Text = "",
        name_column: Text = "",
        zone_column: Text = "",
        region: Annotated[str, QueryParameter(max_length=2, description="ISO 3166; empty: the campaign's")] = "",
    ) -> ImportRecord:
        """Upload a lead list (CSV); rows are read and loaded as they arrive, every rejected row reported."""
        home(principal)
        options = read_options(encoding, delimiter, header, phone_column, name_column, zone_column, region)
        await deps.campaigns.require_open(campaign_id)
        upload = await Upload(request, deps.campaigns.settings.max_upload_bytes).open()
        return await deps.campaigns.import_leads(
            campaign_id, upload.chunks(), options, dry_run=dry_run, by=principal.name, file_name=upload.file_name
        )

    @get("/imports", guards=[requires("campaigns.read")], responses=documented())
    async def list_imports(
        self, deps: Deps, principal: Caller, campaign_id: Id, limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50
    ) -> ImportList:
        """The campaign's imports, newest first."""
        home(principal)
        campaign = await deps.campaigns.campaigns.require(campaign_id)
        index = deps.campaigns.imports.index(campaign.id)
        return ImportList(await deps.campaigns.imports.recent(index, deps.clock.now(), limit))

    @get("/imports/{import_id:str}", guards=[requires("campaigns.read")], responses=documented())
    async def get_import(self, deps: Deps, principal: Caller, campaign_id: Id, import_id: Id) -> ImportRecord:
        """One import's report (while it runs: its progress)."""
        return await visible_import(deps, principal, campaign_id, import_id)

    @get(
        "/imports/{import_id:str}/rejects",
        guards=[requires("campaigns.read")],
        responses=documented(),
        media_type="text/csv",
    )
    async def import_rejects(
        self, deps: Deps, principal: Caller, campaign_id: Id, import_id: Id, encoding: CsvEncoding = "utf-8"
    ) -> Stream:
        """The rejected rows as CSV: line, reason, message, then the row's cells."""
        record = await visible_import(deps, principal, campaign_id, import_id)
        return csv_download(rejects_csv(deps, record, encoding), f"{record.id}-rejects.csv", encoding)

    @get("/leads", guards=[requires("campaigns.read")], responses=documented())
    async def list_leads(
        self,
        deps: Deps,
        principal: Caller,
        campaign_id: Id,
        state_filter: Annotated[LeadState | None, QueryParameter(name="state")] = None,
        number: Annotated[str | None, QueryParameter(max_length=40, description="a number, any form")] = None,
        cursor: Annotated[int, QueryParameter(ge=0, le=2**63 - 1)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> LeadPage:
        """A page of leads (in no particular order; a state filter may leave a page short), or the lead that has
        ``number``."""
        home(principal)
        campaign = await deps.campaigns.campaigns.require(campaign_id)
        if number is not None:
            e164 = deps.campaigns.number_of(number, deps.campaigns.region_of(campaign))
            found = await deps.campaigns.leads.by_number(campaign.id, e164)
            return LeadPage([found] if found is not None else [], None)
        leads, nxt = await deps.campaigns.leads.page(campaign.id, cursor, limit)
        return LeadPage(
            [lead for lead in leads if state_filter is None or lead.state == state_filter], str(nxt) if nxt else None
        )

    @get("/leads/{lead_id:str}", guards=[requires("campaigns.leads")], responses=documented())
    async def get_lead(self, deps: Deps, principal: Caller, campaign_id: Id, lead_id: Id) -> Lead:
        """One lead with every attempt (an agent token: a lead whose last call it took)."""
        return await _visible_lead(deps, principal, campaign_id, lead_id)

    @post(
        "/leads/{lead_id:str}/disposition",
        guards=[requires("campaigns.disposition")],
        responses=documented(409),
        status_code=HTTP_200_OK,
    )
    async def dispose(
        self, deps: Deps, principal: Caller, campaign_id: Id, lead_id: Id, data: JSONBody[DispositionBody]
    ) -> Lead:
        """The agent's result of the lead's last (answered) call, from the campaign's list; 409 if nobody answered."""
        await _visible_lead(deps, principal, campaign_id, lead_id)
        return await deps.campaigns.dispose(campaign_id, lead_id, data.code, data.note, by=principal.name)

    @get("/export", guards=[requires("campaigns.read")], responses=documented(), media_type="text/csv")
    async def export(self, deps: Deps, principal: Caller, campaign_id: Id, encoding: CsvEncoding = "utf-8") -> Stream:
        """Every lead with its result as CSV (UTF-8 with a byte-order mark for Excel; GBK on request)."""
        home(principal)
        campaign = await deps.campaigns.campaigns.require(campaign_id)

        async def rows() -> AsyncIterator[bytes]:
            writer = CsvWriter(lead_header(campaign.data_columns), encoding)
            yield writer.rows(())
            async for batch in deps.campaigns.leads.scan(campaign.id):
                yield writer.rows([lead_row(lead, campaign.data_columns) for lead in batch])

        return csv_download(rows(), f"{campaign.id}-results.csv", encoding)


async def _visible_lead(deps: ApiDeps, principal: Principal, campaign_id: str, lead_id: str) -> Lead:
    home(principal)
    lead = await deps.campaigns.leads.get(campaign_id, lead_id)
    mine = lead is not None and lead.last is not None and lead.last.agent_id == principal.agent_id
    if lead is None or (principal.role == "agent" and not mine):
        raise NotFound(f"no lead {lead_id[:64]!r}")
    return lead
