"""What the HTTP layer needs from the running application, in one frozen value.

``build_app`` takes an ``ApiDeps`` rather than the ``Application``, so the routes see services and records, never
the task tree, and tests can hand them a started application's parts. Of a live call they see a frozen snapshot,
never the machine's own record, and they ask the machine whether it would take a request before handing it over.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from callcenter_ari.acd.stats import Stats
from callcenter_ari.ari.files import StoredFile
from callcenter_ari.calls.messages import Request
from callcenter_ari.calls.view import CallSnapshot
from callcenter_ari.clock import Clock
from callcenter_ari.config import ApiToken
from callcenter_ari.recording.model import DeletionAudit, Recording
from callcenter_ari.recording.settings import RecordingSection
from callcenter_ari.runtime.acd import AcdService
from callcenter_ari.runtime.callbacks import CallbackService
from callcenter_ari.runtime.center import Center
from callcenter_ari.runtime.dialer import DialerService
from callcenter_ari.runtime.directory import Directory
from callcenter_ari.runtime.monitor import MonitorService
from callcenter_ari.runtime.surge import SurgeService
from callcenter_ari.runtime.webhooks import WebhookService
from callcenter_ari.store.campaign_desk import CampaignDesk
from callcenter_ari.store.recordings import RecordingStore
from callcenter_ari.store.redis import Store
from callcenter_ari.store.tickets import TicketDesk

if TYPE_CHECKING:
    from callcenter_ari.runtime.app import Application


@dataclass(frozen=True, kw_only=True)
class ApiDeps:
    tenant: str
    tokens: Mapping[str, ApiToken]
    registry: CollectorRegistry
    is_ready: Callable[[], bool]
    clock: Clock
    store: Store
    acd: AcdService
    tickets: TicketDesk
    webhooks: WebhookService
    surge: SurgeService
    stats: Stats
    monitor: MonitorService
    live_calls: Callable[[], list[CallSnapshot]]  # the calls up now, as they stand
    live_call: Callable[[str], CallSnapshot | None]  # one of them by call id
    center: Center  # the rest of the center: other processes' calls, and how far their events are fed
    node: str  # the Asterisk this process serves
    refusal: Callable[[str, Request], str | None]  # why the call would not take this request now; None: it would
    deliver: Callable[[str, Request], None]  # a request to a live call, as if its own events brought it
    hangup: Callable[[str], Awaitable[None]]  # ARI hang-up of a channel; the call's own events end the call
    directory: Directory  # agents and queues changed through the API
    agent_names: Mapping[str, str]  # every agent in force (a view the directory keeps up to date)
    queue_names: Mapping[str, str]  # every queue in force, id -> display name (likewise)
    destinations: frozenset[str]  # the configured transfer destinations (ivr.destinations)
    recordings: RecordingStore
    recording_settings: RecordingSection
    open_recording: Callable[[str], Awaitable[StoredFile]]  # a stored recording's audio, to stream
    delete_recording: Callable[[Recording, str], Awaitable[DeletionAudit]]  # retention-checked, audited
    campaigns: CampaignDesk  # outbound campaigns, their leads and the do-not-call list
    callbacks: CallbackService  # callbacks: listed, scheduled, cancelled, rescheduled; their figures per queue
    dialer: DialerService  # the campaigns' dialer: live figures, preview mode
    role: Callable[[], str] = lambda: "active"  # hot standby: active, standby or stepped_down

    @classmethod
    def from_application(cls, app: Application) -> ApiDeps:
        config = app.config
        calls = app.services.calls

        def live_calls() -> list[CallSnapshot]:
            return [task.machine.snapshot() for task in calls.values()]

        def live_call(call_id: str) -> CallSnapshot | None:
            task = calls.get(call_id)
            return task.machine.snapshot() if task is not None else None

        def refusal(call_id: str, request: Request) -> str | None:
            task = calls.get(call_id)
            return task.machine.refusal(request) if task is not None else "the call has ended"

        async def hangup(channel_id: str) -> None:
            await app.ari.hangup(channel_id)

        return cls(
            tenant=config.app.tenant,
            tokens=config.api.tokens,
            registry=app.metrics.registry,
            is_ready=lambda: app.ready,
            role=lambda: app.role,
            clock=app.clock,
            store=app.store,
            acd=app.acd,
            tickets=app.tickets,
            webhooks=app.webhooks,
            surge=app.surge,
            stats=app.stats,
            monitor=app.monitor,
            live_calls=live_calls,
            live_call=live_call,
            center=app.center,
            node=app.node,
            refusal=refusal,
            deliver=app.deliver,
            hangup=hangup,
            directory=app.directory,
            agent_names=app.directory.agent_names,
            queue_names=app.directory.queue_names,
            destinations=frozenset(config.ivr.destinations),
            recordings=app.recordings.recordings,
            recording_settings=config.recording,
            open_recording=app.ari.open_stored_file,
            delete_recording=lambda rec, by: app.recordings.delete(rec, by, "requested"),
            campaigns=app.campaigns,
            callbacks=app.callbacks,
            dialer=app.dialer,
        )
