"""The process's HTTP server: liveness, readiness and Prometheus metrics.

Health and readiness are the only routes without authentication (orchestrators probe them); the API that needs
tokens arrives with its own module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator

import anyio
import uvicorn
from anyio.abc import TaskStatus
from litestar import Litestar, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


def build_app(registry: CollectorRegistry, is_ready: Callable[[], bool]) -> Litestar:
    @get("/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", sync_to_thread=False)
    def ready() -> Response[dict[str, str]]:
        if is_ready():
            return Response({"status": "ready"}, status_code=HTTP_200_OK)
        return Response({"status": "not ready"}, status_code=HTTP_503_SERVICE_UNAVAILABLE)

    @get("/metrics", sync_to_thread=False)
    def metrics() -> Response[bytes]:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Litestar(route_handlers=[health, ready, metrics], openapi_config=None)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The application owns SIGTERM (graceful drain of live calls); uvicorn must not take it.
        yield


async def serve(
    app: Litestar, host: str, port: int, *, task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED
) -> None:
    """Serve until cancelled; ``task_status.started`` reports the bound port (useful with port 0)."""
    server = _Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event, for "listening"
            await anyio.sleep(0.01)
        task_status.started(server.servers[0].sockets[0].getsockname()[1])
        try:
            await anyio.sleep_forever()
        finally:
            server.should_exit = True
