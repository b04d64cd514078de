"""The process's HTTP server: health and readiness (no token), Prometheus metrics and the REST API (tokens).

``build_app`` assembles the Litestar application from the ``ApiDeps`` of each tenant it serves: the resource
controllers under ``/api/v1``, bearer authentication for everything but ``/health`` and ``/ready`` (the token picks
the tenant whose ``ApiDeps`` the routes get), one exception mapping (``errors.py``) and the OpenAPI document at
``/api/openapi.json``. ``serve`` runs it with uvicorn inside the application's (or the platform's) task group.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Sequence
from typing import Any

import anyio
import uvicorn
from anyio.abc import TaskStatus
from litestar import Litestar, Request, Response, Router, get
from litestar.di import NamedDependency, Provide
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from callcenter_ari.http.auth import BearerAuth, Principal, requires
from callcenter_ari.http.bodies import MAX_BYTES, BodyCheck
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.http.errors import NotFound, documented, exception_handlers
from callcenter_ari.http.openapi import StrictJsonRenderPlugin
from callcenter_ari.http.params import Caller, Deps
from callcenter_ari.http.routes.agents import AgentController
from callcenter_ari.http.routes.callbacks import CallbackController
from callcenter_ari.http.routes.calls import CallController
from callcenter_ari.http.routes.campaign_leads import CampaignLeadController
from callcenter_ari.http.routes.campaigns import CampaignController
from callcenter_ari.http.routes.dialer import DialerController
from callcenter_ari.http.routes.directory import AgentConfigController, QueueConfigController
from callcenter_ari.http.routes.dnc import DncController
from callcenter_ari.http.routes.events import EventController
from callcenter_ari.http.routes.qa import QaController, ScoreController
from callcenter_ari.http.routes.queues import QueueController
from callcenter_ari.http.routes.recordings import CallRecordingController, RecordingController
from callcenter_ari.http.routes.reports import PeriodController, ReportController
from callcenter_ari.http.routes.session import SessionController
from callcenter_ari.http.routes.surge import SurgeController
from callcenter_ari.http.routes.tickets import TicketController
from callcenter_ari.http.routes.wallboard import WallboardController
from callcenter_ari.http.routes.webhooks import WebhookController
from callcenter_ari.http.tenants import Tenants
from callcenter_ari.pages import pages_router, secured

API_PREFIX = "/api/v1"
OPENAPI_PATH = "/api"  # the document is served at /api/openapi.json

__all__ = ["API_PREFIX", "ApiDeps", "build_app", "serve"]


@get("/health", opt={"exclude_from_auth": True}, include_in_schema=False, sync_to_thread=False)
def health(tenants: NamedDependency[Tenants]) -> dict[str, str]:
    """Alive, and its part in a hot standby pair (``active``, ``standby``, ``stepped_down``; ``mixed`` across
    tenants): a standby is healthy, only not ready."""
    return {"status": "ok", "role": tenants.role()}


@get("/ready", opt={"exclude_from_auth": True}, include_in_schema=False, sync_to_thread=False)
def ready(tenants: NamedDependency[Tenants]) -> Response[dict[str, str]]:
    """Ready when every tenant served here is; a standby is not (it serves no call until it takes over)."""
    role = tenants.role()
    if tenants.ready():
        return Response({"status": "ready", "role": role}, status_code=HTTP_200_OK)
    status = "standby" if role == "standby" else "not ready"
    return Response({"status": status, "role": role}, status_code=HTTP_503_SERVICE_UNAVAILABLE)


@get(
    "/metrics",
    guards=[requires("metrics.read")],
    responses=documented(),
    media_type=CONTENT_TYPE_LATEST,
    sync_to_thread=False,
)
def metrics(deps: Deps, principal: Caller) -> bytes:
    """Prometheus metrics (text exposition format) of the token's tenant."""
    if not principal.home:
        raise NotFound("no metrics for this token")
    return generate_latest(deps.registry)


def _principal(request: Request[Principal, Any, Any]) -> Principal:
    return request.user


def _fresh_options(router: Router) -> None:
    """Rebuild each route of ``router`` around a new OPTIONS handler. Litestar makes one per route as it is created
    and keeps it when a second controller adds methods to the same path (``/agents``: listed by one, created by
    another), so its ``Allow`` would name only the first controller's methods."""
    for index, route in enumerate(router.routes):
        if isinstance(route, HTTPRoute):
            handlers = [h for h in route.route_handlers if h.http_methods != {"OPTIONS"}]
            router.routes[index] = HTTPRoute(path=route.path, route_handlers=handlers)


def build_app(served: ApiDeps | Sequence[ApiDeps]) -> Litestar:
    """The HTTP application of one tenant, or of several (a platform), each request seeing its token's tenant."""
    tenants = Tenants([served] if isinstance(served, ApiDeps) else served)

    def deps_for(request: Request[Principal, Any, Any]) -> ApiDeps:
        return tenants.deps_for(request.user)

    api = Router(
        path=API_PREFIX,
        route_handlers=[
            AgentController,
            AgentConfigController,
            QueueController,
            QueueConfigController,
            CallController,
            CallbackController,
            TicketController,
            WebhookController,
            SurgeController,
            EventController,
            ReportController,
            PeriodController,
            WallboardController,
            SessionController,
            RecordingController,
            CallRecordingController,
            ScoreController,
            QaController,
            CampaignController,
            CampaignLeadController,
            DialerController,
            DncController,
        ],
        security=[{"bearer": []}],
        before_request=BodyCheck(),
    )
    _fresh_options(api)
    openapi = OpenAPIConfig(
        title="callcenter-ari",
        version="1",
        description="The call center's REST API. Every operation needs `Authorization: Bearer <token>`.",
        path=OPENAPI_PATH,
        render_plugins=[StrictJsonRenderPlugin()],
        openapi_router=Router(
            path=OPENAPI_PATH, route_handlers=[], guards=[requires("api.describe")], include_in_schema=False
        ),
        components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
        use_handler_docstrings=True,
        operation_id_creator=lambda handler, _method, _path: handler.handler_name,
    )
    return Litestar(
        route_handlers=[health, ready, metrics, api, pages_router()],
        dependencies={
            "deps": Provide(deps_for, sync_to_thread=False),
            "principal": Provide(_principal, sync_to_thread=False),
            "tenants": Provide(lambda: tenants, use_cache=True, sync_to_thread=False),
        },
        middleware=[DefineMiddleware(BearerAuth, tokens=tenants.tokens)],
        exception_handlers=exception_handlers(),
        after_request=secured,
        openapi_config=openapi,
        request_max_body_size=MAX_BYTES,
        # The process's logging is structlog's (logs.py). Litestar's default would put an INFO handler on the root
        # logger, printing every library's records as plain text, httpx's request URLs among them: with the HTTP
        # transport those carry the ARI password as ``api_key``.
        logging_config=None,
        debug=False,
    )


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
