"""The composition root: a tenant's ``Application`` or a ``Platform`` of tenants, each with its HTTP API.

The runtime serves calls and knows nothing of HTTP; the API reads and drives the runtime. Only here do the two meet:
the runtime is given a function that serves the API for a list of applications (``ServeApi``), and calls it once
its services are built. Everything that starts the call center (the CLI, the demo, the tests, the benchmarks)
builds it through these two functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
from anyio.abc import TaskStatus
from redis.asyncio import Redis

from callcenter_ari.config import Config
from callcenter_ari.http.app import build_app, serve
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.runtime.app import Application
from callcenter_ari.runtime.platform import Platform


async def serve_api(
    apps: Sequence[Application], host: str, port: int, *, task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED
) -> None:
    """Serve one HTTP API for ``apps`` (a request sees its token's tenant) until cancelled; reports the port."""
    await serve(build_app([ApiDeps.from_application(app) for app in apps]), host, port, task_status=task_status)


def application(config: Config, *, redis: Redis, **options: Any) -> Application:
    """One tenant, serving its own API when ``http.enabled``; ``options`` as for ``Application``."""
    return Application(config, redis=redis, api=serve_api, **options)


def platform(configs: Sequence[Config], *, redis: Redis, **options: Any) -> Platform:
    """Tenants in one process behind one API; ``options`` as for ``Platform``."""
    return Platform(configs, redis=redis, api=serve_api, **options)
