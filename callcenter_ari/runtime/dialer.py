"""The dialer at run time: every running campaign of the tenant dialed by this process, under its own pacer.

Once a second (``POLL_SECONDS``, on the application's clock while it dials, else on wall time or as soon as this
process changes a campaign's state) the service reads the campaigns from Redis and keeps one ``CampaignRun`` per
campaign that is running or still has calls here (``runtime/dialer_campaign.py``): a campaign set running starts
one (its abandon ledger read back from Redis), one paused or stopped is paused (calls in flight go on), one that is
over ends its run once its last call has. For each run it then tells the pacer the campaign's agents as the ACD
board shows them (persistent agents of the campaign's queue whose line is up; blended agents as the blend policy
lends them) and the trunk's free lines, renews the leases of the leads it holds, settles leases other dialers left
to expire, and finishes a campaign with nothing left to dial.

Several processes may dial one campaign: each claims its own leads (one Lua script, ``store/dialing.py``), so no
lead is dialed twice at once; each keeps its own pacer and all of them append to one ledger. A process that dies
leaves its leads claimed until their lease ends, then any dialer settles them as failed attempts, and the retry
rules bring them back. Its calls still up in Asterisk are hung up by the next process of the same node
(``recover``: call ids carry a tag of the node), and their agents freed by the ACD's recovery.

When Redis loses its data (a campaign that ran is gone, or has fewer leads than it had; or the presence's beat
says so), the process writes back what it holds (``write_back``): every campaign as last read, its leads in
progress with their attempts, its pacers' ledgers; what nobody held is said lost, and a campaign that could not
dial on safely goes back paused (``campaigns/loss.py``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
import msgspec
import structlog
from anyio.abc import TaskStatus
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from callcenter_ari.acd.errors import InvalidTransition
from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.errors import AriError
from callcenter_ari.campaigns.loss import after_loss
from callcenter_ari.campaigns.model import Campaign
from callcenter_ari.campaigns.settings import CampaignSettings
from callcenter_ari.clock import Clock
from callcenter_ari.config import AgentConfig
from callcenter_ari.dialer.blend import Inbound
from callcenter_ari.dialer.ledger import AbandonLedger, Rolling, RuleFigures
from callcenter_ari.dialer.messages import LinesFree, Pause, PauseCampaign, PreviewSkip, PreviewStart, Recorded, Resume
from callcenter_ari.dialer.pacer import Pacer
from callcenter_ari.dialer.roster import BoardAgent, Roster
from callcenter_ari.dialer.settings import DAY, UK_OFCOM, US_TSR, LedgerSettings, PacingSettings
from callcenter_ari.metrics import Metrics
from callcenter_ari.runtime.dialer_campaign import CampaignRun, Leg, Sync
from callcenter_ari.runtime.shared import Emit, Spawn
from callcenter_ari.store.campaign_desk import CampaignDesk
from callcenter_ari.store.dialer_ledger import DialerLedger
from callcenter_ari.store.dialing import CampaignGone, LeaseLost
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.store.leads import lead_counters
from callcenter_ari.store.trunk_lines import TrunkLines

if TYPE_CHECKING:
    from callcenter_ari.acd.stats import Live, LiveQueue
    from callcenter_ari.runtime.acd import AcdService
    from callcenter_ari.runtime.outbound import OutboundLegs
    from callcenter_ari.runtime.standing import StandingLines

log = structlog.get_logger(__name__)

POLL_SECONDS = 1.0
_OVER = frozenset({"stopped", "finished"})


class NoPreview(LookupError):
    """The agent has no lead on screen (or not that call)."""


class Preview(msgspec.Struct, frozen=True, kw_only=True):
    """A lead on an agent's screen in preview mode: its data and its calls so far."""

    campaign_id: str
    call_id: str
    lead_id: str
    number: str
    name: str
    data: dict[str, str]
    attempts: list[dict[str, object]]


class LiveFigures(msgspec.Struct, frozen=True, kw_only=True):
    """What the campaign's dialer is doing, in this process (``dialing_here``) and in the ledger all share."""

    campaign_id: str
    state: str
    mode: str
    dialing_here: bool
    paused: bool = False
    agents: dict[str, int] = {}  # by the pacer's state
    calls: dict[str, int] = {}  # by phase
    hopper: int = 0
    abandon_limit: float
    periods: list[RuleFigures]  # each rule's current period
    last_24h: dict[str, float]
    last_30d: dict[str, float]


@dataclass(frozen=True)
class DialerServices:
    """What the dialer uses of the application."""

    ari: AriClient
    clock: Clock
    lines: TrunkLines
    metrics: Metrics
    outbound: OutboundLegs
    standing: StandingLines
    spawn: Spawn
    emit: Emit
    draining: Callable[[], bool]  # the process is stopping: no more dialing


class DialerService:
    def __init__(
        self,
        services: DialerServices,
        acd: AcdService,
        desk: CampaignDesk,
        ledger: DialerLedger,
        *,
        settings: CampaignSettings,
        agents: Callable[[], Mapping[str, AgentConfig]],
        live: Callable[[], Live],
        capacities: Mapping[str, int],
        node: str,
    ) -> None:
        self.services = services
        self.ari = services.ari
        self.clock = services.clock
        self.acd = acd
        self.desk = desk
        self._changed = anyio.Event()  # a campaign's state changed in this process
        desk.watchers.append(lambda _campaign: self._changed.set())
        self.dialing = desk.dialing
        self.ledger = ledger
        self.settings = settings
        self.lease_seconds = settings.lease_seconds
        self._agents = agents
        self._live = live
        self._capacities = dict(capacities)
        token = uuid.uuid4().hex[:6]
        # Call ids (and channel ids): "dl-<node tag>-<process>-<run>-<n>", unique across processes and restarts.
        self.tag = "dl-" + hashlib.sha1(node.encode()).hexdigest()[:6] + "-"
        self.holder = f"dialer.{self.tag[3:9]}.{token}"
        self._prefix = f"{self.tag}{token}-"
        self._runs_started = 0
        self.runs: dict[str, CampaignRun] = {}
        # As last read, for a loss of Redis's data: every campaign, its lead counters, the do-not-call list's size.
        self._held: dict[str, Campaign] = {}
        self._counters: dict[str, dict[str, int]] = {}
        self._do_not_call: int | None = None
        self._claimed_then: dict[str, set[str]] = {}  # the leads each run held when the counters were read
        self._lines_dirty = False
        self._tg: anyio.abc.TaskGroup | None = None

    # ---- the loop ---------------------------------------------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as tg:
            self._tg = tg
            task_status.started()
            while True:
                try:
                    await self.poll()
                except StoreUnavailable as exc:
                    log.warning("dialer.poll_failed", error=str(exc))
                if self.runs:
                    await self.clock.sleep_until(self.clock.now() + POLL_SECONDS)
                    continue
                # Nothing dialing here: woken by a campaign this process changed, else after a second of wall time
                # (one another process started); a clock moved on by days is not stepped through second by second.
                with anyio.move_on_after(POLL_SECONDS):
                    await self._changed.wait()
                self._changed = anyio.Event()

    async def poll(self) -> None:
        campaigns = {c.id: c for c in await self.desk.campaigns.all()}
        if not await self._take_stock(campaigns):
            # What this process holds goes back at once (before a renewal or an attempt finds its lead gone), as it
            # would at the next presence beat (runtime/presence.py), which then finds nothing left to write.
            await self.write_back()
            return
        now = self.clock.now()
        for campaign in campaigns.values():
            if campaign.state == "running" and campaign.id not in self.runs and self._dialing:
                await self._start(campaign)
        for campaign_id, run in list(self.runs.items()):
            await self._steer(run, campaigns.get(campaign_id), now)
        self._sync_agents()
        await self._refresh_lines()

    async def _take_stock(self, campaigns: dict[str, Campaign]) -> bool:
        """Keep what a loss of Redis's data would take: every campaign, its lead counters (read once for a campaign
        that is over), and the do-not-call list's size. False, keeping what it held, if Redis lost its data since:
        a campaign that ran is gone (only a draft is ever deleted), or a campaign has fewer leads than it had (no
        lead is ever deleted but with its draft campaign); another process may have written some back already."""
        gone = sorted(i for i, c in self._held.items() if c.state != "draft" and i not in campaigns)
        wanted = [i for i, c in campaigns.items() if c.state not in _OVER or self._held.get(i) != c]
        counters = await self.desk.leads.counters_of(wanted)
        fewer = sorted(i for i, c in counters.items() if c.get("leads", 0) < self._counters.get(i, {}).get("leads", 0))
        if gone or fewer:
            log.error("dialer.campaigns_lost", gone=gone, fewer_leads=fewer)
            return False
        self._counters = {i: self._counters[i] for i in campaigns if i in self._counters} | counters
        self._claimed_then = {i: set(run.claimed) for i, run in self.runs.items()}
        self._do_not_call = await self.desk.dnc.count()
        self._held = campaigns
        return True

    def _staffed(self, queue: str) -> bool:
        standing = self.services.standing
        return any(
            queue in config.queues and config.persistent and standing.line(agent_id) is not None
            for agent_id, config in self._agents().items()
        )

    @property
    def _dialing(self) -> bool:
        return self.settings.dial and not self.services.draining()

    async def _start(self, campaign: Campaign) -> None:
        entries = await self.ledger.entries(campaign.id, self.clock.now() - 31 * DAY)
        self._runs_started += 1
        pacer = Pacer(
            pacing_settings(campaign, self.settings.default_time_zone),
            now=self.clock.now(),
            ledger=entries,
            id_prefix=f"{self._prefix}{self._runs_started}",
        )
        run = CampaignRun(self, campaign, pacer, Roster(self.settings.blend))
        self.runs[campaign.id] = run
        assert self._tg is not None
        self._tg.start_soon(run.run)
        log.info("dialer.campaign_started", campaign=campaign.id, mode=campaign.dial_mode, ledger=len(entries))

    async def _steer(self, run: CampaignRun, campaign: Campaign | None, now: float) -> None:
        """Follow the campaign's state; keep its leases; settle what died elsewhere; finish it when done."""
        if campaign is not None:
            run.campaign = campaign
        state = campaign.state if campaign is not None else "stopped"
        # A process with none of the campaign's agents on a line holds no leads: the others dial them.
        dialing = state == "running" and self._dialing and self._staffed(run.campaign.queue)
        breaches = run.pacer.ledger.breaches(now) if state == "running" else []
        if breaches and run.pacer.paused:
            # Over the limit while this pacer was not dialing (no agents here): the pacer would only say so at
            # its next entry; the campaign is paused now.
            first = breaches[0]
            breach = PauseCampaign(first.rule, first.rate, first.limit, first.answered, first.abandoned)
            await self.pause_campaign(run.id, breach)
        elif dialing and run.pacer.paused:
            run.tell(Resume())
        elif not dialing and not run.pacer.paused:
            run.tell(Pause())  # calls in flight go on; a process shutting down dials no more
        await run.record_pending()
        for lead in run.renewals(now, self.lease_seconds):
            try:
                run.renewed(await self.dialing.renew(run.id, lead.id, self.holder, now + self.lease_seconds))
            except CampaignGone:
                break  # Redis lost its data since the campaign was read: the next poll writes the lead back
            except LeaseLost:
                run.claimed.pop(lead.id, None)
        if campaign is None or state in _OVER:
            if run.idle:
                run.close()
                del self.runs[run.id]
                log.info("dialer.campaign_ended", campaign=run.id, state=state)
            return
        await self.dialing.release_expired(run.id, now)
        if state == "running" and run.idle and run.pacer.hopper() == 0:
            await self._finish_if_done(run)

    async def _finish_if_done(self, run: CampaignRun) -> None:
        stats = await self.desk.stats(run.id)
        if any(stats.by_state.get(state, 0) for state in ("new", "scheduled", "dialing")):
            return
        if stats.leads == 0 or await self._importing(run.id):
            return  # its list is not loaded yet, or still coming in: nothing is over
        try:
            await self.desk.act(run.id, "finish", by="dialer")
        except InvalidTransition:
            return
        self.services.emit("campaign.finished", {"campaign": run.id, "attempts": stats.attempts})
        log.info("dialer.campaign_finished", campaign=run.id, attempts=stats.attempts)

    async def _importing(self, campaign_id: str) -> bool:
        imports = self.desk.imports
        recent = await imports.recent(imports.index(campaign_id), self.clock.now(), 20)
        return any(record.status == "running" for record in recent)

    # ---- agents and lines --------------------------------------------------------------------------------------

    def _sync_agents(self) -> None:
        if not self.runs:
            return
        configs = self._agents()
        board = self.acd.board
        live = self._live().queues
        standing = self.services.standing
        for run in self.runs.values():
            queue = run.campaign.queue
            ours = set(run.pacer.calls()) | set(run.legs) | set(run.reservations.values())
            held = run.pacer.agents()
            seen: dict[str, BoardAgent] = {}
            free_blended = 0
            for agent_id, config in configs.items():
                record = board.agents.get(agent_id)
                if queue not in config.queues or record is None:
                    continue
                state = board.state(agent_id)
                others = [q for q in config.queues if q != queue]
                if others and state == "available" and held.get(agent_id) is None:
                    free_blended += 1
                seen[agent_id] = BoardAgent(
                    state=state,
                    joinable=config.persistent and standing.line(agent_id) is not None,
                    ours=record.call_id in ours,
                    inbound=_inbound([live[q] for q in others if q in live]) if others else None,
                )
            for agent_id, agent in seen.items():
                if agent.inbound is not None:
                    free = msgspec.structs.replace(agent.inbound, free_blended=free_blended)
                    seen[agent_id] = msgspec.structs.replace(agent, inbound=free)
            run.tell(Sync(seen))

    def lines_changed(self) -> None:
        """A line was taken or given back: the pacers hear the new count (once, however many changed)."""
        if not self._lines_dirty and self._tg is not None:
            self._lines_dirty = True
            self._tg.start_soon(self._refresh_lines)

    async def _refresh_lines(self) -> None:
        self._lines_dirty = False
        capacities = self._capacities
        for run in list(self.runs.values()):
            trunk = run.campaign.trunk
            try:
                busy = await self.services.lines.busy(trunk)
            except StoreUnavailable:
                continue
            run.tell(LinesFree(max(0, capacities.get(trunk, 0) - busy)))

    # ---- from the runs ---------------------------------------------------------------------------------------

    async def record_entry(self, campaign_id: str, entry: Recorded) -> None:
        if entry.kind == "abandoned":
            self.services.emit(
                "dialer.abandoned", {"campaign": campaign_id, "call_id": entry.call_id, "message": entry.message}
            )
        self.services.metrics.dialer_ledger.labels(campaign_id, entry.kind).inc()
        try:
            await self.ledger.append(campaign_id, entry)
        except StoreUnavailable as exc:
            log.error("dialer.ledger_write_failed", campaign=campaign_id, call_id=entry.call_id, error=str(exc))

    async def pause_campaign(self, campaign_id: str, breach: PauseCampaign) -> None:
        """A rule's period went over its limit: the campaign is paused for every process, with an event."""
        try:
            await self.desk.act(campaign_id, "pause", by="dialer")
        except InvalidTransition:
            pass  # paused or stopped meanwhile
        except StoreUnavailable as exc:
            log.error("dialer.pause_failed", campaign=campaign_id, error=str(exc))
        fields: dict[str, object] = {"campaign": campaign_id, "by": "dialer", "reason": "abandon_limit"}
        fields |= {"rule": breach.rule, "rate": round(breach.rate, 5), "limit": breach.limit}
        fields |= {"answered": breach.answered, "abandoned": breach.abandoned}
        self.services.emit("campaign.paused", fields)
        log.warning("dialer.campaign_paused", **fields)

    def counted(self, campaign_id: str, outcome: str) -> None:
        self.services.metrics.dialer_calls.labels(campaign_id, outcome).inc()

    # ---- from the dispatcher ---------------------------------------------------------------------------------

    def _leg(self, channel_id: str) -> tuple[CampaignRun, Leg] | None:
        if not channel_id.startswith(self._prefix):
            return None
        for run in self.runs.values():
            leg = run.call_of(channel_id)
            if leg is not None:
                return run, leg
        return None

    def detecting(self, channel_id: str) -> bool:
        """The channel left Stasis for answering-machine detection (its StasisEnd is not its end)."""
        found = self._leg(channel_id)
        return found is not None and found[1].phase == "detecting"

    def detected(self, channel_id: str) -> bool:
        """StasisStart(amd, ...): back from AMD(); False if the call is not ours (to be hung up)."""
        found = self._leg(channel_id)
        if found is None:
            return False
        run, leg = found
        self.services.spawn(run.detected, leg)
        return True

    def playback_done(self, playback_id: str) -> bool:
        """The message to a person nobody could take, or to a machine, ended: the call is hung up."""
        channel_id, _, what = playback_id.rpartition(".")
        if what not in ("message", "machine") or self._leg(channel_id) is None:
            return False
        self.services.spawn(self.services.outbound.hang_up, channel_id)
        return True

    # ---- when Redis lost its data -----------------------------------------------------------------------------

    async def write_back(self) -> None:
        """Redis lost its data: every campaign as last read goes back (a running one paused if leads still to dial
        or the do-not-call list went with the data: ``campaigns/loss.py``), with the leads this process holds and
        their attempts, and each pacer's abandon ledger; what is gone is said, once per campaign (by the process
        that writes the campaign back), in a log line and a ``campaign.leads_lost`` event."""
        held = self._held | {run.id: run.campaign for run in self.runs.values()}
        for campaign in held.values():
            await self._write_back(campaign, self.runs.get(campaign.id))
        # Redis as it is now is what the next poll compares with (fewer leads than before is no news any more).
        self._held, self._counters = {}, {}

    async def _write_back(self, campaign: Campaign, run: CampaignRun | None) -> None:
        leads = list(run.claimed.values()) if run is not None else []
        since = len({lead.id for lead in leads} - self._claimed_then.get(campaign.id, set()))
        loss = after_loss(
            campaign, self._counters.get(campaign.id), held=len(leads), claimed_since=since,
            do_not_call=self._do_not_call, now=self.clock.now(),
        )  # fmt: skip
        restored = await self.desk.campaigns.restore(loss.campaign)
        written = 0
        for lead in leads:
            written += await self.desk.leads.restore(campaign.id, lead, lead_counters(lead, campaign.succeeds))
        if run is not None:
            await self.ledger.restore(campaign.id, run.pacer.ledger.entries)
            run.campaign = loss.campaign if restored else run.campaign
        if not restored:
            log.info("dialer.campaign_kept", campaign=campaign.id, leads_written_back=written)
            return
        fields = loss.fields()
        self.services.emit("campaign.leads_lost", fields)
        log.error("dialer.campaign_written_back", **fields)
        if loss.paused:
            paused: dict[str, object] = {"campaign": campaign.id, "by": "dialer", "reason": "redis_data_lost"}
            paused |= {"lost": list(loss.reasons)}
            self.services.emit("campaign.paused", paused)
            log.warning("dialer.campaign_paused", **paused)

    # ---- after a restart -------------------------------------------------------------------------------------

    async def recover(self) -> None:
        """Calls this node placed before a restart are no one's now: hung up and their lines (recovered by the
        trunk lines' ledger) given back; their leads settle when their leases end, their agents were freed by the
        ACD's recovery."""
        try:
            channels = await self.ari.list_channels()
        except AriError as exc:
            log.error("dialer.recovery_failed", error=exc.message)
            return
        for channel in channels:
            if channel.id.startswith(self.tag) and not channel.id.startswith(self._prefix):
                log.info("dialer.orphan_call", channel=channel.id)
                # No leg of this process names it, so its end would not give its line back: abandoned, it does.
                await self.services.outbound.abandon(channel.id)

    # ---- for the API -----------------------------------------------------------------------------------------

    async def figures(self, campaign: Campaign) -> LiveFigures:
        now = self.clock.now()
        settings = pacing_settings(campaign, self.settings.default_time_zone)
        ledger = AbandonLedger(settings.ledger, await self.ledger.entries(campaign.id, now - 31 * DAY))
        run = self.runs.get(campaign.id)
        day, month = ledger.rolling(now, DAY), ledger.rolling(now, 30 * DAY)
        figures = LiveFigures(
            campaign_id=campaign.id,
            state=campaign.state,
            mode=campaign.dial_mode,
            dialing_here=run is not None,
            abandon_limit=settings.ledger.limit,
            periods=list(ledger.figures(now)),
            last_24h=_rolling(day),
            last_30d=_rolling(month),
        )
        if run is None:
            return figures
        return msgspec.structs.replace(
            figures,
            paused=run.pacer.paused,
            agents=_count(run.pacer.agents().values()),
            calls=_count(run.pacer.calls().values()),
            hopper=run.pacer.hopper(),
        )

    def preview_of(self, agent_id: str) -> Preview:
        for run in self.runs.values():
            shown = run.previews.get(agent_id)
            if shown is not None:
                call_id, lead = shown
                return Preview(
                    campaign_id=run.id,
                    call_id=call_id,
                    lead_id=lead.id,
                    number=lead.number,
                    name=lead.name,
                    data=dict(lead.data),
                    attempts=[msgspec.to_builtins(a) for a in lead.attempts],
                )
        raise NoPreview(f"agent {agent_id[:64]!r} has no lead to preview")

    def answer_preview(self, agent_id: str, call_id: str, *, start: bool) -> None:
        preview = self.preview_of(agent_id)
        if preview.call_id != call_id:
            raise NoPreview(f"call {call_id[:64]!r} is not the lead on agent {agent_id[:64]!r}'s screen")
        run = self.runs[preview.campaign_id]
        run.previews.pop(agent_id, None)
        run.tell(PreviewStart(call_id) if start else PreviewSkip(call_id))


def pacing_settings(campaign: Campaign, default_zone: str) -> PacingSettings:
    rule = UK_OFCOM if campaign.abandon_rule == "uk_ofcom" else US_TSR
    return PacingSettings(
        campaign=campaign.id,
        mode=campaign.dial_mode,
        ratio=campaign.ratio,
        ring_seconds=campaign.ring_seconds,
        preview_seconds=campaign.preview_seconds,
        ledger=LedgerSettings(
            rules=(msgspec.structs.replace(rule, limit=campaign.abandon_limit),),
            started_at=campaign.created_at,
            timezone=campaign.time_zone or default_zone,
        ),
    )


def _inbound(queues: list[LiveQueue]) -> Inbound:
    levels = [q.today.service_level for q in queues if q.today.service_level is not None]
    return Inbound(
        service_level=min(levels) if levels else None,
        waiting=sum(q.waiting for q in queues),
        longest_wait=max((q.longest_wait for q in queues), default=0.0),
    )


def _rolling(figures: Rolling) -> dict[str, float]:
    return {"answered": figures.answered, "abandoned": figures.abandoned, "rate": figures.rate}


def _count(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


class DialerCollector(Collector):
    """The campaigns this process dials, computed when Prometheus scrapes: calls by phase, agents by the pacer's
    state, and each abandon rule's rate over its current period and the last 24 hours (the pacer's ledger: this
    process's entries and those it read when its run started)."""

    def __init__(self, dialer: DialerService) -> None:
        self._dialer = dialer

    def collect(self) -> Iterable[GaugeMetricFamily]:
        calls = GaugeMetricFamily(
            "callcenter_dialer_calls_in_progress", "Campaign calls by phase", labels=["campaign", "phase"]
        )
        agents = GaugeMetricFamily(
            "callcenter_dialer_agents", "A campaign's agents by the pacer's state", labels=["campaign", "state"]
        )
        period = GaugeMetricFamily(
            "callcenter_dialer_abandon_rate",
            "Abandoned share of answered calls over the rule's current period",
            labels=["campaign", "rule"],
        )
        day = GaugeMetricFamily(
            "callcenter_dialer_abandon_rate_24h",
            "Abandoned share of answered calls, last 24 hours",
            labels=["campaign"],
        )
        now = self._dialer.clock.now()
        for campaign_id, run in sorted(self._dialer.runs.items()):
            for phase, count in sorted(_count(run.pacer.calls().values()).items()):
                calls.add_metric([campaign_id, phase], count)
            for state, count in sorted(_count(run.pacer.agents().values()).items()):
                agents.add_metric([campaign_id, state], count)
            for figures in run.pacer.ledger.figures(now):
                period.add_metric([campaign_id, figures.rule], figures.rate)
            day.add_metric([campaign_id], run.pacer.ledger.rolling(now, DAY).rate)
        yield from (calls, agents, period, day)
