"""Campaigns for the API and the command line: create, change and run them through their states, import their
lead lists and the do-not-call list, read their statistics, file the agents' dispositions.

The desk checks a spec against the tenant it serves (its trunks and queues), resolves the defaults of
``[campaigns]``, and hands the dialer ``dialing`` (claims, attempts, leases; ``store/dialing.py``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping

import msgspec
import structlog
from redis.asyncio import Redis

from callcenter_ari.campaigns.checks import Problem, check_spec
from callcenter_ari.campaigns.model import LEAD_STATES, Campaign, CampaignError, CampaignSpec, CampaignState, Lead
from callcenter_ari.campaigns.numbers import BadNumber, read_number
from callcenter_ari.campaigns.reader import LeadReader, ReadOptions, check_options
from callcenter_ari.campaigns.rules import apply_disposition
from callcenter_ari.campaigns.settings import CampaignSettings
from callcenter_ari.campaigns.states import EDITABLE, TAKES_LEADS, Action, transition
from callcenter_ari.store.campaigns import CampaignStore
from callcenter_ari.store.dialing import LeadDialing
from callcenter_ari.store.dnc import DncEntry, DoNotCallList
from callcenter_ari.store.errors import translating
from callcenter_ari.store.fenced import FenceSource, unfenced
from callcenter_ari.store.keys import Keys, checked
from callcenter_ari.store.lead_imports import ImportRecord, ImportRun, ImportStore, dnc_sink, lead_sink, new_import_id
from callcenter_ari.store.leads import LeadStore, state_counts
from callcenter_ari.trunks import InvalidNumber, TrunkConfig
from callcenter_ari.trunks.phone import check_region

log = structlog.get_logger(__name__)

MAX_DATA_COLUMNS = 100
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class CampaignInvalid(CampaignError):
    """A spec or request with fields at fault; ``problems`` names each (path in the body, message)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))
        self.problems = problems


class CampaignConflict(CampaignError):
    """The campaign or lead is not in a state for this."""


class CampaignStats(msgspec.Struct, frozen=True, kw_only=True):
    campaign_id: str
    state: CampaignState
    leads: int
    by_state: dict[str, int]
    attempts: int
    outcomes: dict[str, int]
    contacts: int  # attempts answered by a person
    contact_rate: float | None  # contacts per attempt
    dispositions: dict[str, int]
    successes: int  # contacts disposed with a disposition that counts as a success
    calls_today: int  # in the campaign's own day


@translating
class CampaignDesk:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        trunks: Mapping[str, TrunkConfig],
        queues: Mapping[str, str],
        settings: CampaignSettings,
        now: Callable[[], float],
        fence: FenceSource = unfenced,
    ) -> None:
        """``fence``: under a hot standby's lease, the dialer's writes (campaign changes, leads) are fenced. The
        do-not-call list and imports are not: they are a person's requests through the API, not the node's work."""
        self.campaigns = CampaignStore(redis, keys, fence=fence)
        self.leads = LeadStore(redis, keys, fence=fence)
        self.dnc = DoNotCallList(redis, keys)
        self.imports = ImportStore(redis, keys)
        self.dialing = LeadDialing(self.campaigns, self.leads)
        self.trunks, self.queues, self.settings = trunks, queues, settings
        self.now = now
        self.watchers: list[Callable[[str], None]] = []  # told the id of a campaign whose state this process changed

    # ---- the campaign ---------------------------------------------------------------------------------------

    def check(self, spec: CampaignSpec) -> CampaignSpec:
        """The spec with its defaults resolved; CampaignInvalid naming every field at fault."""
        problems = check_spec(spec, trunks=self.trunks, queues=self.queues)
        if problems:
            raise CampaignInvalid(problems)
        return msgspec.structs.replace(spec, time_zone=spec.time_zone or self.settings.default_time_zone)

    async def create(self, campaign_id: str, spec: CampaignSpec, by: str) -> Campaign:
        if not _ID.fullmatch(campaign_id):
            raise CampaignInvalid([("id", "letters, digits, '_', '.', '-' (at most 64), a letter or digit first")])
        now = self.now()
        fields = msgspec.structs.asdict(self.check(spec))
        campaign = Campaign(**fields, id=campaign_id, created_at=now, updated_at=now, created_by=by)
        await self.campaigns.create(campaign)
        log.info("campaign.created", campaign=campaign_id, by=by)
        return campaign

    async def replace(self, campaign_id: str, spec: CampaignSpec, by: str) -> Campaign:
        resolved = msgspec.structs.asdict(self.check(spec))

        def change(campaign: Campaign) -> Campaign:
            if campaign.state not in EDITABLE:
                raise CampaignConflict(f"campaign {campaign.id} is {campaign.state}: pause it to change it")
            return msgspec.structs.replace(campaign, **resolved, updated_at=self.now())

        changed = await self.campaigns.change(campaign_id, change)
        log.info("campaign.changed", campaign=campaign_id, by=by)
        return changed

    async def act(self, campaign_id: str, action: Action, by: str) -> Campaign:
        changed = await self.campaigns.change(campaign_id, lambda c: transition(c, action, self.now()))
        log.info("campaign.state", campaign=campaign_id, action=action, state=changed.state, by=by)
        for watcher in self.watchers:
            watcher(campaign_id)
        return changed

    async def delete(self, campaign_id: str, by: str) -> None:
        """Only a draft goes: a campaign that ran keeps its results (customer records are not deleted)."""
        campaign = await self.campaigns.require(campaign_id)
        if campaign.state != "draft":
            raise CampaignConflict(f"campaign {campaign_id} is {campaign.state}: only a draft can be deleted")
        imports = await self.imports.recent(self.imports.index(campaign_id), self.now(), 10_000)
        parts = [self.leads.keys.lead_import(i.id, part) for i in imports for part in ("", "rejects", "seen")]
        await self.campaigns.delete(campaign_id, self.leads.all_parts(campaign_id) + parts)
        log.info("campaign.deleted", campaign=campaign_id, by=by)

    async def stats(self, campaign_id: str) -> CampaignStats:
        campaign = await self.campaigns.require(campaign_id)
        counters = await self.leads.counters(campaign_id)
        attempts, contacts = counters.get("attempts", 0), counters.get("contacts", 0)
        day_key = self.dialing.day_key(campaign, self.now())
        return CampaignStats(
            campaign_id=campaign.id,
            state=campaign.state,
            leads=counters.get("leads", 0),
            by_state=state_counts(counters, LEAD_STATES),
            attempts=attempts,
            outcomes={k.split(":", 1)[1]: v for k, v in counters.items() if k.startswith("outcome:") and v},
            contacts=contacts,
            contact_rate=contacts / attempts if attempts else None,
            dispositions={k.split(":", 1)[1]: v for k, v in counters.items() if k.startswith("disposition:") and v},
            successes=counters.get("successes", 0),
            calls_today=await self.leads.calls_on(day_key),
        )

    # ---- imports --------------------------------------------------------------------------------------------

    async def import_leads(
        self,
        campaign_id: str,
        source: AsyncIterator[bytes],
        options: ReadOptions,
        *,
        dry_run: bool,
        by: str,
        file_name: str = "",
        on_progress: Callable[[ImportRecord], None] | None = None,
    ) -> ImportRecord:
        """Read a lead list into the campaign as it arrives. Raises ImportFailed (saying how far it got)."""
        campaign = await self.require_open(campaign_id)
        region = self.region_of(campaign, options.region)
        record = self._record("leads", campaign.id, options, region, dry_run=dry_run, by=by, file_name=file_name)
        run = self._run(record, options, region, on_progress)
        try:
            done = await run.run(source, lead_sink(self.leads, record, record.started_at))
        finally:
            if dry_run:
                await self.leads.redis.unlink(self.leads.keys.lead_import(record.id, "seen"))
        if not dry_run and done.data_columns:
            await self._add_columns(campaign.id, done.data_columns)
        return done

    async def import_dnc(
        self,
        source: AsyncIterator[bytes],
        options: ReadOptions,
        *,
        dry_run: bool,
        by: str,
        file_name: str = "",
        on_progress: Callable[[ImportRecord], None] | None = None,
    ) -> ImportRecord:
        """Read numbers onto the do-not-call list (same rules as a lead list). Raises ImportFailed."""
        region = self._region(options.region or self.settings.default_region, None)
        record = self._record("do_not_call", "", options, region, dry_run=dry_run, by=by, file_name=file_name)
        run = self._run(record, options, region, on_progress)
        scratch_key = self.leads.keys.lead_import(record.id, "seen")
        scratch = DoNotCallList(self.dnc.redis, self.leads.keys, scratch_key) if dry_run else None
        try:
            return await run.run(source, dnc_sink(self.dnc, scratch, record, record.started_at))
        finally:
            if dry_run:
                await self.dnc.redis.unlink(scratch_key)

    async def require_open(self, campaign_id: str) -> Campaign:
        campaign = await self.campaigns.require(campaign_id)
        if campaign.state not in TAKES_LEADS:
            raise CampaignConflict(f"campaign {campaign_id} is {campaign.state}: it takes no more leads")
        return campaign

    def _record(
        self, kind: str, campaign_id: str, options: ReadOptions, region: str, *, dry_run: bool, by: str, file_name: str
    ) -> ImportRecord:
        now = self.now()
        return ImportRecord(
            id=new_import_id(),
            kind="leads" if kind == "leads" else "do_not_call",
            campaign_id=campaign_id,
            dry_run=dry_run,
            file_name=file_name[:200],
            by=by,
            started_at=now,
            updated_at=now,
            options=options,
            region=region,
        )

    def _run(
        self,
        record: ImportRecord,
        options: ReadOptions,
        region: str,
        on_progress: Callable[[ImportRecord], None] | None,
    ) -> ImportRun:
        limits = self.settings
        problems = check_options(options)
        if problems:
            raise CampaignInvalid(problems)
        reader = LeadReader(options, region, max_bytes=limits.max_upload_bytes, max_rows=limits.max_import_rows)
        return ImportRun(
            self.imports, record, reader, now=self.now, keep_rejects=limits.keep_rejects, on_progress=on_progress
        )

    def region_of(self, campaign: Campaign, stated: str = "") -> str:
        """Where a campaign's national numbers are read: as stated, the campaign's, the tenant's, the trunk's."""
        return self._region(stated or campaign.region or self.settings.default_region, campaign)

    def _region(self, region: str, campaign: Campaign | None) -> str:
        if not region and campaign is not None:
            trunk = self.trunks.get(campaign.trunk)
            region = trunk.region if trunk is not None else ""
        if region and _unknown_region(region):
            raise CampaignInvalid([("region", f"unknown region {region[:8]!r} (an ISO 3166 code such as CN)")])
        return region

    async def _add_columns(self, campaign_id: str, columns: list[str]) -> None:
        def change(campaign: Campaign) -> Campaign:
            known = list(campaign.data_columns)
            known += [c for c in columns if c not in known][: MAX_DATA_COLUMNS - len(known)]
            return msgspec.structs.replace(campaign, data_columns=known)

        await self.campaigns.change(campaign_id, change)

    # ---- leads ----------------------------------------------------------------------------------------------

    async def dispose(self, campaign_id: str, lead_id: str, code: str, note: str, by: str) -> Lead:
        """File the agent's disposition of the lead's last (answered) call; a second one replaces the first."""
        campaign = await self.campaigns.require(campaign_id)
        if campaign.disposition(code) is None:
            codes = ", ".join(d.code for d in campaign.dispositions)
            raise CampaignInvalid([("code", f"unknown disposition {code[:32]!r} (this campaign's: {codes})")])
        for _ in range(3):
            lead = await self.leads.get(campaign_id, lead_id)
            if lead is None:
                raise LeadNotFound(f"no lead {lead_id[:64]!r} in campaign {campaign_id}")
            try:
                disposed = apply_disposition(campaign, lead, code, note, by, self.now())
            except CampaignError as exc:
                raise CampaignConflict(str(exc)) from None
            if await self.leads.swap(campaign_id, lead, disposed, _disposition_counters(campaign, lead, code)):
                if disposed.state == "do_not_call":
                    await self.dnc.add([_dnc_entry(campaign_id, disposed, by, self.now())])
                log.info("campaign.disposition", campaign=campaign_id, lead=lead_id, code=code, by=by)
                return disposed
        raise CampaignConflict(f"lead {lead_id} keeps changing; try again")

    async def add_dnc(self, numbers: list[str], region: str, reason: str, by: str) -> tuple[list[DncEntry], int]:
        """Put numbers on the do-not-call list; returns the entries added and how many were listed already."""
        region = self._region(region or self.settings.default_region, None)
        problems: list[Problem] = []
        entries: list[DncEntry] = []
        for n, raw in enumerate(numbers):
            try:
                number, _ = read_number(raw, region)
            except BadNumber as exc:
                problems.append((f"numbers[{n}]", str(exc)))
                continue
            entries.append(DncEntry(number=number, added_at=self.now(), by=by, reason=reason))
        if problems:
            raise CampaignInvalid(problems)
        added = await self.dnc.add(entries)
        log.info("campaign.dnc_added", numbers=added.count(True), by=by)
        return [e for e, new in zip(entries, added, strict=True) if new], added.count(False)

    def number_of(self, raw: str, region: str) -> str:
        """A number given in a path or query, in E.164; CampaignInvalid if it is not one."""
        try:
            return read_number(raw, self._region(region or self.settings.default_region, None))[0]
        except BadNumber as exc:
            raise CampaignInvalid([("number", str(exc))]) from None


class LeadNotFound(CampaignError):
    pass


def _unknown_region(region: str) -> bool:
    try:
        check_region(region)
    except InvalidNumber:
        return True
    return False


def _disposition_counters(campaign: Campaign, lead: Lead, code: str) -> dict[str, int]:
    counters = {f"disposition:{code}": 1}
    new = campaign.disposition(code)
    if new is not None and new.success:
        counters["successes"] = 1
    previous = lead.last.disposition if lead.last is not None else ""
    if previous:
        counters[f"disposition:{previous}"] = counters.get(f"disposition:{previous}", 0) - 1
        old = campaign.disposition(previous)
        if old is not None and old.success:
            counters["successes"] = counters.get("successes", 0) - 1
    return counters


def _dnc_entry(campaign_id: str, lead: Lead, by: str, now: float) -> DncEntry:
    return DncEntry(number=lead.number, added_at=now, by=by, reason=f"disposition in {checked(campaign_id)}/{lead.id}")
