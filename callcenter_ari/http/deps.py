"""What the HTTP layer needs from the running application, in one frozen value.

``build_app`` takes an ``ApiDeps`` rather than the ``Application``, so the routes see services and records, never
the task tree, and tests can hand them a started application's parts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from callcenter_ari.acd.stats import Stats
from callcenter_ari.ari.files import StoredFile
from callcenter_ari.calls.messages import Input
from callcenter_ari.calls.records import CallRecord
from callcenter_ari.clock import Clock
from callcenter_ari.config import ApiToken
from callcenter_ari.recording.model import DeletionAudit, Recording
from callcenter_ari.recording.settings import RecordingSection
from callcenter_ari.runtime.acd import AcdService
from callcenter_ari.runtime.directory import Directory
from callcenter_ari.runtime.monitor import MonitorService
from callcenter_ari.runtime.surge import SurgeService
from callcenter_ari.store.recordings import RecordingStore
from callcenter_ari.store.redis import Store
from callcenter_ari.store.tickets import TicketDesk
from callcenter_ari.webhooks import WebhookService

if TYPE_CHECKING:
    from callcenter_ari.runtime.app import Application


@dataclass(frozen=True, kw_only=True)
class ApiDeps:
    tenant: str
    tokens: Mapping[str, ApiToken]
    seat_limit: int | None  # agents logged in at once; None: no limit
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
    live_calls: Callable[[], list[CallRecord]]  # the records of the calls up now
    live_call: Callable[[str], CallRecord | None]  # one of them by call id
    deliver: Callable[[str, Input], None]  # an input to a live call, as if its own events brought it
    hangup: Callable[[str], Awaitable[None]]  # ARI hang-up of a channel; the call's own events end the call
    directory: Directory  # agents and queues changed through the API
    agent_names: Mapping[str, str]  # every agent in force (a view the directory keeps up to date)
    queue_names: Mapping[str, str]  # every queue in force, id -> display name (likewise)
    destinations: frozenset[str]  # the configured transfer destinations (ivr.destinations)
    recordings: RecordingStore
    recording_settings: RecordingSection
    open_recording: Callable[[str], Awaitable[StoredFile]]  # a stored recording's audio, to stream
    delete_recording: Callable[[Recording, str], Awaitable[DeletionAudit]]  # retention-checked, audited

    @classmethod
    def from_application(cls, app: Application) -> ApiDeps:
        config = app.config
        calls = app.services.calls

        def live_calls() -> list[CallRecord]:
            return [task.machine.record for task in calls.values()]

        def live_call(call_id: str) -> CallRecord | None:
            task = calls.get(call_id)
            return task.machine.record if task is not None else None

        async def hangup(channel_id: str) -> None:
            await app.ari.hangup(channel_id)

        return cls(
            tenant=config.app.tenant,
            tokens=config.api.tokens,
            seat_limit=config.app.seat_limit,
            registry=app.metrics.registry,
            is_ready=lambda: app.ready,
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
        )
