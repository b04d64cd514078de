"""A platform: several tenants' call centers in one process, one task tree, one Redis pool and one HTTP API.

Each tenant is an ``Application`` of its own (its ARI connection to its own Stasis application, board, stores,
webhook outbox, ticket desk, recordings); the platform starts them, serves one HTTP API for all of them (the bearer
token picks the tenant, ``http/tenants.py``) and stops them together. One configuration file is a platform of one.
Every log line of a tenant's tasks carries ``tenant``.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence

import anyio
import structlog
from anyio.abc import TaskStatus
from redis.asyncio import Redis

from callcenter_ari.ari.transport import TransportFactory
from callcenter_ari.clock import Clock
from callcenter_ari.config import Config
from callcenter_ari.runtime.app import Application, ServeApi
from callcenter_ari.runtime.egress import Resolver, system_resolver

log = structlog.get_logger(__name__)


class Platform:
    def __init__(
        self,
        configs: Sequence[Config],
        *,
        redis: Redis,
        clock: Clock | None = None,
        resolver: Resolver = system_resolver,
        ari_transport: TransportFactory | None = None,
        api: ServeApi | None = None,
    ) -> None:
        """``configs``: checked together beforehand (``platform_config.check_platform``); the first one's
        ``[http]`` is everyone's. ``clock`` and ``ari_transport`` go to every tenant (see ``Application``);
        ``resolver``: for the webhooks' egress policy. ``api``: serves the one HTTP API of all tenants."""
        if not configs:
            raise ValueError("a platform needs at least one tenant")
        self.http = configs[0].http
        self.tenants = {
            config.app.tenant: Application(
                config, redis=redis, clock=clock, resolver=resolver, ari_transport=ari_transport
            )
            for config in configs
        }
        self.http_port: int | None = None
        self._api = api
        self._stopping = anyio.Event()
        self.started = anyio.Event()  # every tenant serves

    @property
    def ready(self) -> bool:
        return all(app.ready for app in self.tenants.values())

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve every tenant until ``stop()`` (or SIGTERM/SIGINT when ``handle_signals`` runs); then each drains."""
        async with anyio.create_task_group() as tg:
            if self.http.enabled and self._api is not None:
                # First, so that /health answers and /ready says "not ready" while the tenants connect.
                apps = list(self.tenants.values())
                self.http_port = await tg.start(self._api, apps, self.http.host, self.http.port)
            # A stop while a tenant still connects (Asterisk unreachable: its first connect never succeeds) ends the
            # start: nothing is live yet, so there is nothing to drain.
            starting = anyio.CancelScope()
            tg.start_soon(_cancel_when_set, self._stopping, starting)
            async with anyio.create_task_group() as tenants:
                with starting:
                    for app in self.tenants.values():
                        await tenants.start(_run_tenant, app)
                    log.info("platform.started", tenants=sorted(self.tenants))
                    self.started.set()
                    task_status.started()
                if starting.cancelled_caught:
                    log.info("platform.stopped_while_starting")
                await self._stopping.wait()
                for app in self.tenants.values():
                    app.stop()
            tg.cancel_scope.cancel()

    def stop(self) -> None:
        self._stopping.set()

    async def handle_signals(self) -> None:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for signum in signals:
                live = sum(len(app.services.calls) for app in self.tenants.values())
                log.info("app.stopping", signal=signal.Signals(signum).name, live_calls=live)
                self.stop()
                return


async def _run_tenant(app: Application, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
    with structlog.contextvars.bound_contextvars(tenant=app.config.app.tenant):
        await app.run(task_status=task_status)


async def _cancel_when_set(event: anyio.Event, scope: anyio.CancelScope) -> None:
    await event.wait()
    scope.cancel()
