"""ARI through asyncari: REST over HTTP and the event WebSocket, for any Asterisk that has ARI.

asyncari loads the Swagger description Asterisk serves and builds one operation per (method, path). Requests go
through those operations unchanged; events come out of asyncari's dispatch as parsed JSON and are converted to
our typed events here. Nothing else in the project imports asyncari.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import asyncari
import httpx
import msgspec
import structlog
from asyncari.model import CLASS_MAP
from asyncswagger11.http_client import ApiKeyAuthenticator, AsynchronousHttpClient

from callcenter_ari.ari.errors import AriUnavailable, ExceptionMapping, LoginRefused, map_exceptions
from callcenter_ari.ari.events import event_from_builtins
from callcenter_ari.ari.transport import Endpoint, EventSink, Response

log = structlog.get_logger(__name__)

_PATH_PARAM = re.compile(r"^\{(\w+)\}$")
_API_KEY = re.compile(r"api_key=[^&\s'\"]*")
_NO_SUCH_OPERATION = Response(404, b'{"message":"Resource not found"}')  # what Asterisk answers for such a path
_REQUEST_FAILED: ExceptionMapping = {
    httpx.TransportError: lambda exc: AriUnavailable(f"ARI HTTP request failed: {_describe(exc)}"),
    TimeoutError: lambda exc: AriUnavailable(f"ARI HTTP request failed: {_describe(exc)}"),
}


class _Route:
    """One Swagger operation, matched against a concrete path such as ``channels/123.4/answer``."""

    def __init__(self, template: str, operation: Any) -> None:
        self.segments = template.strip("/").split("/")
        self.operation = operation

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for segment, part in zip(self.segments, parts, strict=True):
            name = _PATH_PARAM.match(segment)
            if name:
                params[name.group(1)] = urllib.parse.unquote(part)
            elif segment != part:
                return None
        return params


class HttpTransport:
    name = "http"

    def __init__(self, endpoint: Endpoint, request_timeout: float = 10.0) -> None:
        self._endpoint = endpoint
        self._timeout = request_timeout
        self._routes: dict[str, list[_Route]] = {}
        self._client: asyncari.Client | None = None

    async def request(
        self, method: str, path: str, query: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        if self._client is None:
            raise AriUnavailable("asyncari is not connected")
        parts = path.split("?", 1)[0].strip("/").split("/")
        for route in self._routes.get(method, ()):
            params = route.match(parts)
            if params is not None:
                break
        else:
            return _NO_SUCH_OPERATION
        kwargs: dict[str, Any] = {**params, **(query or {})}
        if body:
            kwargs.update(msgspec.json.decode(body))
        try:
            with map_exceptions(_REQUEST_FAILED), anyio.fail_after(self._timeout):
                reply = await route.operation(**kwargs)
        except httpx.HTTPStatusError as exc:
            return Response(exc.response.status_code, exc.response.content)
        except TypeError as exc:  # asyncswagger11's word for a parameter the operation does not declare
            return Response(400, msgspec.json.encode({"message": str(exc)}))
        return Response(reply.status_code, reply.content)

    async def run(self, sink: EventSink, connected: Callable[[], None]) -> None:
        endpoint = self._endpoint
        host = urllib.parse.urlsplit(endpoint.url).hostname or ""
        http_client = AsynchronousHttpClient(auth=ApiKeyAuthenticator(host, f"{endpoint.username}:{endpoint.password}"))
        try:
            _forget_asyncari_objects()
            async with anyio.create_task_group() as tg:
                client = asyncari.Client(tg, endpoint.url.rstrip("/") + "/", endpoint.app, http_client)
                # Client.__aenter__ would start the reader in its own task and give us no way to learn that the
                # WebSocket closed; _init and _run are its two halves, run here so that the end is seen.
                await client._init()
                self._routes = _routes_of(client)
                self._client = client
                tg.start_soon(self._pump, client, sink)
                started = anyio.Event()
                tg.start_soon(_watch_start, started, connected)
                await client._run(started)
                tg.cancel_scope.cancel()
        except Exception as exc:
            cause = connection_failure(exc)
            if isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code == 401:
                refused = f"Asterisk refused the ARI login of user {endpoint.username!r} at {endpoint.url}"
                raise LoginRefused(refused) from None
            if cause is not None:
                raise AriUnavailable(f"ARI over HTTP: {_describe(cause)}") from None
            # asyncari's reader failing inside its own dispatch must not take the process down: reconnect.
            log.exception("ari.asyncari_reader_failed")
            raise AriUnavailable(f"asyncari event reader failed: {exc!r}") from None
        finally:
            self._client = None
            with anyio.CancelScope(shield=True):
                await http_client.close()
        raise AriUnavailable("the ARI event WebSocket closed")

    @staticmethod
    async def _pump(client: asyncari.Client, sink: EventSink) -> None:
        async for message in client:
            await sink(event_from_builtins(message._orig_msg))


def connection_failure(exc: BaseException) -> BaseException | None:
    """The network error behind ``exc`` when Asterisk could not be reached or answered with an error, else None.

    It is rarely ``exc`` itself: the task group that runs asyncari wraps whatever fails in an exception group, and
    asyncswagger11 answers a failed request by closing its httpx client and retrying on it, so what surfaces is
    "the client has been closed" with the refused connection as its context.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, httpx.HTTPError | OSError):
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


def _describe(exc: BaseException) -> str:
    """What went wrong, for a log line: never the URL, which carries the password as ``api_key``."""
    if isinstance(exc, httpx.HTTPStatusError):
        return f"Asterisk answered HTTP {exc.response.status_code}"
    text = _API_KEY.sub("api_key=***", str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _forget_asyncari_objects() -> None:
    """asyncari caches channel/bridge/playback objects process-wide by id and asserts that a cached object belongs
    to the client that sees it again; a new client after a reconnect would fail on the first channel it already
    knew. Ids are unique per Asterisk, so starting each connection with empty caches is safe."""
    for cls in set(CLASS_MAP.values()):
        if getattr(cls, "cache", None) is not None:
            cls.cache = None


async def _watch_start(started: anyio.Event, connected: Callable[[], None]) -> None:
    await started.wait()
    connected()


def _routes_of(client: asyncari.Client) -> dict[str, list[_Route]]:
    routes: dict[str, list[_Route]] = {}
    for resource in client.swagger.resources.values():
        declaration = resource.json["api_declaration"]
        for api in declaration["apis"]:
            for operation in api["operations"]:
                if operation.get("is_websocket"):
                    continue
                method = operation["httpMethod"]
                routes.setdefault(method, []).append(_Route(api["path"], resource.operations[operation["nickname"]]))
    for candidates in routes.values():
        # A literal segment beats a parameter: POST channels/externalMedia is not an originate with that id.
        candidates.sort(key=lambda route: sum(1 for s in route.segments if s.startswith("{")))
    return routes
