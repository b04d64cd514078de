"""The composition root: builds the adapters and services from the configuration and runs them in one task tree.

Start order matters: Redis first, then ARI (the first connect must succeed), then recovery (calls still up in
Asterisk continue where their records say they were; calls that ended while we were down are closed), and only
then does the dispatcher take events. On shutdown new calls go back to the dialplan while live ones finish.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import httpx
import structlog
from anyio.abc import TaskStatus
from redis.asyncio import Redis

from callcenter_ari.acd.board import Board
from callcenter_ari.acd.errors import InvalidTransition
from callcenter_ari.acd.specs import TeamSpec
from callcenter_ari.acd.stats import Stats
from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.errors import AriError
from callcenter_ari.ari.events import StasisStart
from callcenter_ari.ari.transport import Endpoint, TransportFactory
from callcenter_ari.calls.leftovers import Leftovers, ended_calls_objects, leftovers, owner, unrecorded_callers
from callcenter_ari.calls.legs import every_leg
from callcenter_ari.calls.machine import CallSettings, InboundCall, QueueSettings
from callcenter_ari.calls.messages import EndedWhileAway, Input, Resume
from callcenter_ari.calls.monitoring import settle_sessions
from callcenter_ari.calls.records import LEG_PHASES, CallRecord
from callcenter_ari.clock import Clock, WallClock
from callcenter_ari.config import Config, ContactConfig, TicketsSection, destination_endpoint, node_of
from callcenter_ari.fencing import SteppedDown
from callcenter_ari.ivr import SurgeAnnouncement
from callcenter_ari.metrics import Metrics
from callcenter_ari.runtime.acd import AcdService, BoardCollector
from callcenter_ari.runtime.call import LiveCall
from callcenter_ari.runtime.callbacks import CallbackService, CallbackServices
from callcenter_ari.runtime.center import Center
from callcenter_ari.runtime.channels import Channels
from callcenter_ari.runtime.dialer import DialerCollector, DialerService, DialerServices
from callcenter_ari.runtime.directory import Directory, agent_spec, queue_spec
from callcenter_ari.runtime.dispatcher import EVENTS_USED, Dispatcher
from callcenter_ari.runtime.egress import Resolver, system_resolver
from callcenter_ari.runtime.features import FeatureCodes
from callcenter_ari.runtime.monitor import MonitorService
from callcenter_ari.runtime.outbound import LegServices, OutboundLegs
from callcenter_ari.runtime.overload import Admission
from callcenter_ari.runtime.presence import Presence, RedisCollector
from callcenter_ari.runtime.queue_log import QueueLog
from callcenter_ari.runtime.recording import RecordingService
from callcenter_ari.runtime.shared import Emit, Events, Spawner
from callcenter_ari.runtime.standby import Standby
from callcenter_ari.runtime.standing import StandingLines
from callcenter_ari.runtime.stats import REPLAY_SECONDS, StatsFeed, replay
from callcenter_ari.runtime.surge import SurgeService
from callcenter_ari.runtime.tickets import TicketOpener, watch_overdue
from callcenter_ari.runtime.timers import Timers
from callcenter_ari.runtime.webhooks import WebhookService
from callcenter_ari.store.agents import AgentStore
from callcenter_ari.store.callbacks import CallbackStore
from callcenter_ari.store.campaign_desk import CampaignDesk
from callcenter_ari.store.connection import tenant_keys
from callcenter_ari.store.dialer_ledger import DialerLedger
from callcenter_ari.store.directory import DirectoryStore
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.store.keys import InvalidId
from callcenter_ari.store.lease import NodeLease
from callcenter_ari.store.monitor_sessions import MonitorSessions
from callcenter_ari.store.recordings import RecordingStore
from callcenter_ari.store.redis import Store, StreamEvent
from callcenter_ari.store.surge import SurgeStore
from callcenter_ari.store.tickets import TicketDesk
from callcenter_ari.store.trunk_lines import TrunkLines
from callcenter_ari.tickets import CallFacts, Contact, Roster, Shift, ShiftLead
from callcenter_ari.tls import client_context
from callcenter_ari.trunks import capacities

# Serves the HTTP API of these applications on (host, port) until cancelled, reporting the bound port: given by the
# composition root (``callcenter_ari.wiring``), so that the runtime does not import the API that drives it.
ServeApi = Callable[..., Coroutine[Any, Any, None]]

log = structlog.get_logger(__name__)
_NO_QUEUE = QueueSettings()


class Services:
    """What a call task and the dispatcher use, in one place; built once, complete, by ``Application``."""

    def __init__(
        self,
        *,
        ari: AriClient,
        store: Store,
        clock: Clock,
        metrics: Metrics,
        timers: Timers,
        calls: dict[str, LiveCall],
        channels: Channels,
        events: Events,
        spawner: Spawner,
        tenant: str,
        http: httpx.AsyncClient,
        lines: TrunkLines,
        surge: Callable[[], SurgeAnnouncement],
        acd: AcdService,
        open_ticket: Callable[[CallFacts], None],
        monitor: MonitorService,
        features: FeatureCodes,
        recordings: RecordingService,
        standing: StandingLines,
        admission: Admission,
        outbound: OutboundLegs,
        callbacks: CallbackService,
        dialer: DialerService,
    ) -> None:
        self.ari, self.store, self.clock, self.metrics, self.timers = ari, store, clock, metrics, timers
        self.calls = calls  # live calls by call id
        self.channels = channels  # who owns each channel: a call, a line, a session, a feature code
        self.events = events
        self.spawn = spawner.spawn
        self.start = spawner.start  # a task whose failure is the application's (a call's step that waits)
        self.emit = events.emit
        self.tenant = tenant
        self.http = http  # outgoing HTTP (CRM lookups)
        self.lines = lines  # busy lines per trunk, in Redis: no call takes a line a trunk does not have
        self.surge = surge
        self.acd = acd
        self.open_ticket = open_ticket
        self.monitor = monitor
        self.features = features
        self.recordings = recordings
        self.standing = standing
        self.admission = admission
        self.outbound = outbound  # calls placed to numbers outside, through the trunks
        self.callbacks = callbacks
        self.dialer = dialer  # campaigns dialed
        self.draining = False
        self.idle = anyio.Event()  # set whenever the last live call ends
        self.ari_up = False
        self.replaced = anyio.Event()  # ARI said another process took our Stasis application: step down

    @property
    def observers(self) -> list[Emit]:
        """Called with every event appended to the stream (the demo's live view, statistics, ...)."""
        return self.events.observers

    def adopt(self, task: LiveCall, first: Input) -> None:
        self.calls[task.call_id] = task
        self.channels.own(task.caller_channel, task)
        record = task.machine.record
        # A persistent agent's line is not the call's: the lines service tells the call when it goes down.
        if record.agent_channel and not record.agent_bridge and record.phase in LEG_PHASES:
            self.channels.own(record.agent_channel, task)
        if record.consult_channel:
            self.channels.own(record.consult_channel, task)
        self.metrics.calls_live.set(len(self.calls))
        task.start(first)

    def expect_leg(self, channel_id: str, task: LiveCall) -> None:
        self.channels.own(channel_id, task)

    def forget(self, task: LiveCall) -> None:
        self.calls.pop(task.call_id, None)
        for channel in (task.caller_channel, *every_leg(task.call_id, task.machine.record.offers)):
            self.channels.disown(channel, task)
        self.metrics.calls_live.set(len(self.calls))
        if not self.calls:
            self.idle.set()
            self.idle = anyio.Event()
        outcome = task.machine.record.outcome or "unknown"
        self.metrics.calls_ended.labels(outcome).inc()


class Application:
    def __init__(
        self,
        config: Config,
        *,
        redis: Redis,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
        api: ServeApi | None = None,
        resolver: Resolver = system_resolver,
        ari_transport: TransportFactory | None = None,
    ) -> None:
        """``api``: serves the HTTP API, called with this application when ``http.enabled`` (none in a platform,
        which serves one API for all its tenants; see ``wiring``). ``resolver``: how webhook host names become
        addresses for the egress policy. ``ari_transport``: how to reach Asterisk instead of ``ari.transport`` (the
        simulator's in-process transport in tests)."""
        self.config = config
        self._api = api
        self.clock = clock or WallClock()
        self.metrics = metrics or Metrics()
        ari = config.ari
        self.ari = AriClient(
            Endpoint(ari.url, config.app.app_name, ari.username, ari.password),
            transport=ari_transport or ari.transport,
            request_timeout=ari.request_timeout_seconds,
            reconnect_initial=ari.reconnect_initial_seconds,
            reconnect_max=ari.reconnect_max_seconds,
            event_filter=EVENTS_USED,
        )
        self.node = node_of(config)
        self.instance = f"{self.node}.{uuid.uuid4().hex[:8]}"  # this process, among the node's and the tenant's
        self.store = Store(
            redis,
            tenant_keys(config.redis, config.app.tenant),
            now=self.clock.now,
            node=self.node,
            origin=self.instance,
            wait_replicas=config.redis.wait_replicas,
            wait_timeout_ms=config.redis.wait_timeout_ms,
            timeout=config.redis.socket_timeout_seconds,
        )
        self.agent_store = AgentStore(
            self.store, origin=self.instance, seat_limit=config.app.seat_limit, lease=config.app.seat_lease_seconds
        )
        self.timers = Timers(self.clock)
        # What the services share, first; then each service with what it uses; then the services of calls.
        calls: dict[str, LiveCall] = {}
        channels = Channels()
        self.events = Events(self.store, self.clock, self.metrics)
        self.spawner = Spawner()
        emit, spawn = self.events.emit, self.spawner.spawn
        board = build_board(config, self.clock.now(), node=self.node)
        self.acd = AcdService(
            board,
            self.store,
            self.agent_store,
            self.timers,
            self.clock,
            deliver=self.deliver,
            emit=emit,
            instance=self.instance,
            peer_trunks={server: peer.peer_trunk for server, peer in config.servers.items()},
        )
        self.metrics.registry.register(BoardCollector(self.acd))
        self.stats = Stats()  # thresholds and members from the directory
        self.directory = Directory(
            config,
            DirectoryStore(redis, self.store.keys),
            self.acd,
            self.stats,
            emit=emit,
            live_queues=lambda: {task.machine.record.queue for task in calls.values()},
        )
        self.stats_feed = StatsFeed(self.stats, self.clock.now)
        self.events.observers.append(self.stats_feed)
        supervisors = {s: sup.endpoint for s, sup in config.supervisors.items()}
        self.monitor_sessions = MonitorSessions(self.store)
        self.monitor = MonitorService(
            self.ari, calls, channels, spawn=spawn, emit=emit, supervisors=supervisors, recorded=self.monitor_sessions
        )
        self.events.observers.append(self.monitor)
        self.standing = StandingLines(
            self.ari,
            self.store,
            self.acd,
            channels,
            self.clock,
            endpoints=self.directory.persistent,
            spawn=spawn,
            emit=emit,
            deliver=self.deliver,
            seat_limit=config.app.seat_limit,
        )
        self.acd.use_lines(self.standing)  # each needs the other: a line logs its agent in, a log-in sets it up
        self.features = FeatureCodes(
            self.ari,
            self.acd,
            self.standing,
            channels,
            spawn=spawn,
            agents=self.directory.phones,
            codes=config.acd.feature_codes,
        )
        self.queue_log = QueueLog(config.acd.queue_log, self.clock.now) if config.acd.queue_log else None
        if self.queue_log is not None:
            self.events.observers.append(self.queue_log)
        # Webhook receivers check timestamps against their own clocks: the outbox runs on wall time.
        self.webhooks = WebhookService(
            redis,
            self.store.keys,
            now=time.time,
            settings=config.webhooks,
            resolver=resolver,
            fence=self.store.current_fence,
        )
        self.tickets = TicketDesk(
            redis,
            self.store.keys,
            now=self.clock.now,
            emit=emit,
            roster=roster_from(config.tickets),
            fence=self.store.current_fence,
            stage=self.store.stage,
            later=self.store.execute_later,
        )
        self.surge = SurgeService(SurgeStore(redis, self.store.keys))
        self.campaigns = CampaignDesk(
            redis,
            self.store.keys,
            trunks=config.trunks,
            queues=self.directory.queue_names,
            settings=config.campaigns,
            now=self.clock.now,
            fence=self.store.current_fence,
        )
        self.ticket_opener = TicketOpener(self.tickets)
        self.recordings = RecordingService(
            self.ari,
            RecordingStore(redis, self.store),
            self.clock,
            tenant=config.app.tenant,
            retention=config.recording.retention,
            emit=emit,
            spawn=spawn,
        )
        self._settings: dict[str, CallSettings] = {}
        self.presence = Presence(
            self.store,
            self.instance,
            write_back=self._write_back,
            resume_tickets=self._resume_ticket_numbering,
            pause_tickets=self.tickets.store.close_numbering,
            running=self.acd.set_running,
        )
        self.metrics.registry.register(RedisCollector(self.presence, self.store))
        self.admission = Admission(config.overload, self.ari, self.metrics, now=time.monotonic, emit=emit)
        self.http = httpx.AsyncClient(timeout=config.inbound.crm_timeout_seconds, verify=client_context())
        lines = TrunkLines(self.store, capacities(config.trunks), emit=emit)
        outbound = OutboundLegs(LegServices(self.ari, lines, channels, self.metrics, spawn), config.trunks)
        self.callbacks = CallbackService(
            CallbackServices(
                self.ari, self.acd, outbound, channels, self.timers, self.clock, self.metrics, spawn, emit
            ),
            CallbackStore(self.store),
            config.callback,
            lambda queue: self.directory.queue_settings.get(queue, _NO_QUEUE).callback,
            trunks=tuple(config.trunks),
            instance=self.instance,
        )
        self.events.observers.append(self.callbacks.figures)
        # The other processes' events, fed to the same figures as they happen (each event once, in each process).
        self.center = Center(self.store, [self.stats_feed, self.callbacks.figures])
        self.dialer = DialerService(
            DialerServices(
                self.ari,
                self.clock,
                lines,
                self.metrics,
                outbound,
                self.standing,
                spawn,
                emit,
                draining=lambda: self.services.draining,
            ),
            self.acd,
            self.campaigns,
            DialerLedger(redis, self.store.keys, fence=self.store.current_fence),
            settings=config.campaigns,
            agents=lambda: self.directory.config.agents,
            live=lambda: self.stats.live(self.clock.now()),
            capacities=capacities(config.trunks),
            node=self.node,
        )
        self.metrics.registry.register(DialerCollector(self.dialer))
        self.services = Services(
            ari=self.ari,
            store=self.store,
            clock=self.clock,
            metrics=self.metrics,
            timers=self.timers,
            calls=calls,
            channels=channels,
            events=self.events,
            spawner=self.spawner,
            tenant=config.app.tenant,
            http=self.http,
            lines=lines,
            surge=self.surge.current,
            acd=self.acd,
            open_ticket=self.ticket_opener.open,
            monitor=self.monitor,
            features=self.features,
            recordings=self.recordings,
            standing=self.standing,
            admission=self.admission,
            outbound=outbound,
            callbacks=self.callbacks,
            dialer=self.dialer,
        )
        self.dispatcher = Dispatcher(self.services, self.settings_for, self.admission)
        standby = config.standby
        self.standby = (
            Standby(
                NodeLease(self.store, self.node, self.instance),
                lease_seconds=standby.lease_seconds,
                poll_seconds=standby.poll_seconds,
            )
            if standby.enabled
            else None
        )
        self._stopping = anyio.Event()
        self._recovered = False
        self.http_port: int | None = None

    def settings_for(self, did: str) -> CallSettings:
        """The call's treatment by DID; computed once per configured DID (others share the default)."""
        key = did if did in self.config.dids else ""
        settings = self._settings.get(key)
        if settings is None:
            settings = self._settings[key] = self._build_settings(key)
        return settings

    def _build_settings(self, did: str) -> CallSettings:
        config = self.config
        route = config.dids.get(did) or config.dids.get("default")
        flow_name = (route.flow if route else "") or config.inbound.flow
        queue_id = (route.queue if route else "") or config.inbound.default_queue
        return CallSettings(
            greeting=(route.greeting if route and route.greeting else config.inbound.greeting),
            queue=queue_id if queue_id in self.directory.config.queues else "",
            goodbye=config.inbound.goodbye,
            flow_name=flow_name,
            flow=config.ivr.flows.get(flow_name),
            schedules=config.ivr.schedules,
            destinations={name: destination_endpoint(d, config.trunks) for name, d in config.ivr.destinations.items()},
            queues=self.directory.queue_settings,  # kept up to date in place: queues change at run time
            recording_salt=config.recording.sampling_salt,
            callback=config.callback,
        )

    def deliver(self, call_id: str, message: Input) -> None:
        """Hand an input to a live call (from the ACD, or a person acting on the call through the API); the ACD's
        word about a callback in line goes to the callback service."""
        task = self.services.calls.get(call_id)
        if task is not None:
            task.deliver(message)
        elif self.callbacks.owns(call_id):
            self.callbacks.deliver(call_id, message)

    @property
    def ready(self) -> bool:
        """Serving calls: connected to ARI, recovered, not draining."""
        return self.services.ari_up and self._recovered and not self.services.draining

    @property
    def role(self) -> str:
        """``active`` (acting for the node), ``standby`` (waiting for its lease) or ``stepped_down``."""
        return "active" if self.standby is None else self.standby.role

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve calls until ``stop()``; with ``[standby]``, once this process holds the node's lease. Raises
        ``SteppedDown`` when it stops acting for the node (lease lost, writes fenced, application replaced)."""
        await self.store.redis.ping()
        if self.standby is not None:
            await self.standby.acquire()  # nothing towards Asterisk before: its events go to the newest socket
            self.store.fence = self.standby.fence
            self.ari.guard = self.standby.check
        self.acd.use_board(build_board(await self.directory.load(), self.clock.now(), node=self.node))
        # The figures are the stream's: rebuilt from it, a restart changes no report.
        since = self.clock.now() - REPLAY_SECONDS
        self.center.begin(since)
        replayed = await replay(self._replayed, self.store, since)
        log.info("stats.replayed", events=replayed)
        async with self.http, anyio.create_task_group() as tg:
            self.spawner.bind(tg)
            if self.standby is not None:
                await tg.start(self.standby.keep)
            tg.start_soon(self._step_down_when_replaced)
            await tg.start(self.store.run_flusher)
            await tg.start(self.center.run)
            await tg.start(self.timers.run)
            await tg.start(self.acd.run)
            await tg.start(self.surge.run)
            await tg.start(self.webhooks.run)  # before recovery, so the events recovery writes are delivered
            await tg.start(watch_overdue, self.tickets)
            await tg.start(self.ticket_opener.run)
            await tg.start(self.recordings.run)
            if self.queue_log is not None:
                await tg.start(self.queue_log.run)
            if self.config.http.enabled and self._api is not None:
                web = self.config.http
                self.http_port = await tg.start(self._api, [self], web.host, web.port)
            await tg.start(self.ari.run, self.dispatcher)
            await tg.start(self.acd.watch, await self.agent_store.head())  # before recovery: no change is missed
            await self._recover()
            await tg.start(self.callbacks.run)  # after the calls: callbacks take their places among them
            await self.dialer.recover()
            await self.tickets.store.open_numbering(first=True)  # before this process counts among the running
            await tg.start(self.presence.run)
            self._recovered = True
            tg.start_soon(self.acd.renew_seats)
            await tg.start(self.dialer.run)
            self.dispatcher.open()
            log.info("app.started", transport=self.ari.transport_name, tenant=self.config.app.tenant)
            task_status.started()
            await self._stopping.wait()
            if self.standby is not None and await self.standby.hand_over():
                # A standby waits: it takes the calls over as they are (recovery) instead of seeing them drained.
                log.info("standby.handing_over", live_calls=len(self.services.calls))
                self.services.draining = True
            else:
                await self._drain()
            tg.cancel_scope.cancel()
        if self.standby is not None:
            await self.standby.release()  # after the last flush (the flusher's, as the task tree ended)

    def stop(self) -> None:
        self._stopping.set()

    def _replayed(self, event: StreamEvent) -> None:
        """An event of the stream read again on start: the figures rebuilt from it; the rest of the center's
        events are followed from there on."""
        fields = {**event.data, "at": event.at}
        self.stats_feed(event.kind, fields)
        self.callbacks.figures(event.kind, fields)
        self.center.replayed(event)

    async def _step_down_when_replaced(self) -> None:
        await self.services.replaced.wait()
        if self.standby is not None:
            self.standby.step_down("Asterisk gave the Stasis application to another connection (ApplicationReplaced)")
        raise SteppedDown("Asterisk gave the Stasis application to another connection (ApplicationReplaced)")

    async def _drain(self) -> None:
        """No new calls; give live ones up to the grace period to finish."""
        self.services.draining = True
        with anyio.move_on_after(self.config.app.shutdown_grace_seconds):
            if self.services.calls:
                await self.services.idle.wait()
        if self.services.calls:
            log.warning("app.stopped_with_live_calls", live_calls=len(self.services.calls))
        await self.store.flush()
        # Last, with no wait after it before the task tree ends: a call that came in meanwhile is out of Stasis.
        with anyio.move_on_after(self.config.ari.request_timeout_seconds):
            await self.dispatcher.refusals_done()

    async def _resume_ticket_numbering(self) -> None:
        await self.tickets.store.open_numbering()

    async def _write_back(self) -> None:
        """Redis lost its data (runtime/presence.py): what this process holds in memory goes back, so that its calls,
        agents and callers' places survive it, and no ticket number it gave is given again."""
        for task in self.services.calls.values():
            self.store.save_call(task.machine.record, again=True)
        self.standing.write_back()
        self.services.lines.write_back()
        await self.acd.write_back()
        steps = (self.directory.write_back, self.surge.write_back, self.tickets.store.write_back_numbers)
        for step in (*steps, self.dialer.write_back):
            try:
                await step()
            except Exception as exc:  # one part failing must not keep the others from going back
                log.error("redis.write_back_failed", part=getattr(step, "__qualname__", "?"), error=repr(exc))
        await self.store.flush()
        log.info("redis.written_back", calls=len(self.services.calls), agents=len(self.acd.board.agents))

    async def _recover(self) -> None:
        services = self.services
        records = await self.store.live_calls()
        try:
            in_asterisk = await self.ari.list_channels()
        except AriError as exc:
            log.error("recovery.list_channels_failed", error=exc.message)
            in_asterisk = []
        channels = {channel.id for channel in in_asterisk}
        # A caller the process took but died before writing: served as the StasisStart it missed.
        where = [(c.id, c.dialplan.app_name, c.dialplan.app_data) for c in in_asterisk]
        unrecorded = dict(unrecorded_callers(where, self.config.app.app_name, records))
        if unrecorded:
            log.warning("recovery.unrecorded_callers", channels=sorted(unrecorded))
            self.dispatcher.hold_first(
                [StasisStart(channel=c, args=unrecorded[c.id]) for c in in_asterisk if c.id in unrecorded]
            )
        live = {record.call_id for record in records if record.channel_id in channels}
        await services.lines.recover(channels)
        # Agents first, as Redis holds them (those of calls gone meanwhile freed): a resumed call's first step may
        # release or reserve them, and must find them as they are.
        agents = await self.acd.recover(live)
        # What no record names, settled before any call's machine acts on what its record names (the two must not
        # race over one object: a consultation's bridge that recovery ends, say).
        try:
            listed = {bridge.id: bridge.channels for bridge in await self.ari.list_bridges()}
        except AriError as exc:
            log.error("recovery.list_bridges_failed", error=exc.message)
            listed = {}
        # Supervisors' sessions: whole ones on calls that go on are adopted, the others ended (calls/monitoring.py).
        sessions = await self.monitor_sessions.all()
        call_bridges = {r.call_id: r.bridge_id for r in records if r.call_id in live and r.bridge_id}
        settled = settle_sessions(sessions, call_bridges, channels, listed)
        kept_channels = {c for s in settled.adopted for c in s.objects()[0]}
        kept_bridges = {b for s in settled.adopted for b in s.objects()[1]}
        await self._settle_leftovers(records, channels, listed, (kept_channels, kept_bridges), settled.leftovers)
        for ended_session in settled.ended:
            log.info("recovery.monitor_ended", session=ended_session.id, call_id=ended_session.call_id)
            self.monitor_sessions.drop(ended_session.id)
        self.monitor.reserve(s.id for s in sessions)
        # Before the calls resume: a call that ends at once (its first step) ends its sessions too.
        for adopted in settled.adopted:
            self.monitor.adopt(adopted)
        for record in records:
            task = LiveCall(InboundCall(record, self.settings_for(record.did)), services)
            if record.call_id in live:
                services.adopt(task, Resume(frozenset(channels)))
                continue
            log.info("recovery.call_closed", call_id=record.call_id, phase=record.phase)
            await task.close(EndedWhileAway(frozenset(channels)))
        try:
            await self.recordings.recover(records)
        except AriError as exc:
            log.error("recovery.recordings_failed", error=exc.message)
        try:
            bridges = await self.ari.list_bridges()
        except AriError as exc:
            log.error("recovery.list_bridges_failed", error=exc.message)
            bridges = []
        await self.standing.recover(agents, channels, bridges)
        known = {agent.agent_id for agent in agents}
        for agent_id, agent in self.directory.config.agents.items():
            if agent.logged_in and agent_id not in known:
                try:
                    await self.acd.log_in(agent_id)  # through the same seat count as every other way in
                except InvalidTransition as exc:
                    log.warning("agent.initial_login_refused", agent=agent_id, reason=str(exc))
        await self.store.flush()
        log.info("recovery.done", resumed=len(live), closed=len(records) - len(live), agents=len(known))

    async def _settle_leftovers(
        self,
        records: list[CallRecord],
        channels: set[str],
        bridges: dict[str, tuple[str, ...]],
        kept: tuple[set[str], set[str]],
        sessions_left: Leftovers,
    ) -> None:
        """What no record names any more (calls/leftovers.py): supervisors' sessions of the process that died that
        are not adopted (``kept``: those that are; ``sessions_left``: what is left of the others), earlier offers'
        legs, the objects of calls that ended while it was down. Hung up and destroyed."""
        found = leftovers(records, channels, bridges, kept)
        known = {record.call_id for record in records}
        others = sorted({owner(i) for i in (*channels, *bridges)} - known - {""})
        ended: list[str] = []
        for call_id in others:  # a call of this tenant that ended: its record says so (another node's is live)
            try:
                record = await self.store.call(call_id)
            except (StoreUnavailable, InvalidId):
                continue
            if record is not None and record.phase == "ended":
                ended.append(call_id)
        also = ended_calls_objects(ended, channels, bridges)
        channels_left = dict.fromkeys((*found.channels, *also.channels, *sessions_left.channels))
        bridges_left = dict.fromkeys((*found.bridges, *also.bridges, *sessions_left.bridges))
        for channel in channels_left:
            log.info("recovery.leftover_channel", channel=channel, call_id=owner(channel))
            try:
                await self.ari.hangup(channel)
            except AriError:
                pass  # gone meanwhile
        for bridge in bridges_left:
            log.info("recovery.leftover_bridge", bridge=bridge, call_id=owner(bridge))
            try:
                await self.ari.destroy_bridge(bridge)
            except AriError:
                pass


def roster_from(tickets: TicketsSection) -> Roster:
    """The escalation roster from the configuration (the API can replace it when the shift plan changes)."""

    def contact(contact_id: str, c: ContactConfig) -> Contact:
        return Contact(id=contact_id, name=c.name, phone=c.phone, email=c.email)

    return Roster(
        fallback=contact("fallback", tickets.fallback),
        leads=tuple(
            ShiftLead(
                contact=contact(lead_id, lead.contact),
                shifts=tuple(Shift(s.start.timestamp(), s.end.timestamp()) for s in lead.shifts),
            )
            for lead_id, lead in tickets.shift_leads.items()
        ),
    )


def build_board(config: Config, now: float, *, node: str = "") -> Board:
    """The ACD board from the configuration: agents with their skills, queues with strategy and steps, teams."""
    agents = [agent_spec(agent_id, agent) for agent_id, agent in config.agents.items()]
    queues = [queue_spec(queue_id, queue) for queue_id, queue in config.queues.items()]
    teams = [
        TeamSpec(
            name=name,
            max_on_break=team.max_on_break,
            break_minutes=team.break_minutes,
            over_limit=team.over_limit,
            break_reasons=team.break_reasons,
        )
        for name, team in config.teams.items()
    ]
    return Board(agents, now=now, queues=queues, teams=teams, rng=random.Random(), audit=config.acd.audit, node=node)
