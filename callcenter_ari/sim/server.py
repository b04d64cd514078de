"""The aiohttp application: ARI REST under /ari, the event WebSocket (with REST over WebSocket), the generated
Swagger description, and the simulator's control API under /sim. All of it behind Asterisk's authentication.
"""

from __future__ import annotations

import asyncio
import base64
import io
import wave
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import msgspec
from aiohttp import WSMsgType, web

from callcenter_ari.sim import swagger
from callcenter_ari.sim.hub import Connection
from callcenter_ari.sim.model import StoredRecording
from callcenter_ari.sim.wire import ASTERISK_ID, format_timestamp

if TYPE_CHECKING:
    from callcenter_ari.sim.simulator import Simulator

SIMULATOR_KEY = web.AppKey("simulator", object)
_json = msgspec.json.Encoder()
_AUTH_FAILED = b'{"message":"Authentication required"}'


def _authorized(request: web.Request, username: str, password: str) -> bool:
    api_key = request.query.get("api_key")
    if api_key is not None:
        return api_key == f"{username}:{password}"
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, pw) == (username, password)
    return False


def json_response(status: int, body: Any) -> web.Response:
    if status == 204 or body is None:
        return web.Response(status=status)
    return web.Response(status=status, body=_json.encode(body), content_type="application/json")


def wav_bytes(rec: StoredRecording) -> bytes:
    """A small valid WAV (8 kHz mono, silence) standing in for the recorded audio; at most one second long."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * int(8000 * min(max(rec.duration, 0.1), 1.0)))
    return buf.getvalue()


def message_body(raw: str | bytes) -> Any:
    """A RESTRequest's ``message_body``: its JSON, or None when there is none (or it is not JSON: ignored)."""
    if not raw:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None


async def rest_answer(sim: Simulator, method: str, uri: str, params: dict[str, str], body: Any) -> tuple[int, bytes]:
    """One ARI request answered as REST over WebSocket answers it: the status and the JSON body (empty when there
    is none). The WebSocket endpoint and the in-process transport both answer through here."""
    status, result = await sim.api.dispatch(method.upper(), uri, params, body)
    if isinstance(result, StoredRecording):
        result = result.to_json()
    if result is None or status == 204:
        return status, b""
    return status, _json.encode(result)


def build_app(sim: Simulator) -> web.Application:
    from callcenter_ari.sim.control import add_control_routes

    config = sim.config

    @web.middleware
    async def auth(request: web.Request, handler: Any) -> web.StreamResponse:
        if not _authorized(request, config.username, config.password):
            return web.Response(
                status=401,
                body=_AUTH_FAILED,
                content_type="application/json",
                headers={"WWW-Authenticate": 'Basic realm="Asterisk REST Interface"'},
            )
        response: web.StreamResponse = await handler(request)
        return response

    app = web.Application(middlewares=[auth], client_max_size=16 * 1024 * 1024)
    app[SIMULATOR_KEY] = sim

    def base_path(request: web.Request) -> str:
        return f"http://{request.host}/ari"

    async def resources(request: web.Request) -> web.Response:
        return json_response(200, swagger.resource_listing(base_path(request)))

    async def declaration(request: web.Request) -> web.Response:
        decl = swagger.api_declaration(request.match_info["name"], base_path(request))
        if decl is None:
            return json_response(404, {"message": "Resource not found"})
        return json_response(200, decl)

    async def events(request: web.Request) -> web.StreamResponse:
        apps = [a for a in request.query.get("app", "").split(",") if a]
        if not apps:
            return json_response(400, {"message": "Missing parameter app"})
        ws = web.WebSocketResponse(protocols=("ari",), heartbeat=None, autoping=True)
        await ws.prepare(request)
        conn = Connection(ws, apps)
        sim.core.apps.update(apps)
        sim.hub.attach(conn)
        writer = asyncio.create_task(conn.run_writer())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    sim.hub.frames_in += 1
                    await rest_over_ws(conn, msg.data)
        finally:
            sim.hub.detach(conn)
            writer.cancel()
        return ws

    async def rest_over_ws(conn: Connection, data: str) -> None:
        try:
            message = msgspec.json.decode(data)
        except msgspec.DecodeError:
            return
        if not isinstance(message, dict) or message.get("type") != "RESTRequest":
            return
        uri_full = str(message.get("uri", ""))
        uri, _, query = uri_full.partition("?")
        params = dict(parse_qsl(query, keep_blank_values=True))
        for item in message.get("query_strings") or []:
            params[str(item.get("name"))] = str(item.get("value"))
        body = message_body(message.get("message_body") or "")
        status, answer = await rest_answer(sim, str(message.get("method", "GET")), uri, params, body)
        reply: dict[str, Any] = {
            "type": "RESTResponse",
            "transaction_id": message.get("transaction_id") or "",
            "request_id": message.get("request_id", ""),
            "status_code": status,
            "reason_phrase": HTTPStatus(status).phrase,
            "uri": uri,
        }
        if answer:
            reply["content_type"] = "application/json"
            reply["message_body"] = answer.decode()
        app = conn.apps[0]
        reply["application"] = app
        reply["timestamp"] = format_timestamp(sim.clock.now())
        reply["asterisk_id"] = ASTERISK_ID
        # Asterisk 22 sends the reply as one of the application's messages, through its event filter: an allowed
        # list without RESTResponse swallows every reply from then on, the reply to that PUT included (seen on
        # a real Asterisk 22: the socket's requests all time out).
        event_filter = sim.core.event_filters.get(app)
        if event_filter is not None and sim.config.filter_replies and not event_filter.allows("RESTResponse"):
            return
        sim.hub.replies_sent += 1
        conn.send(_json.encode(reply))

    async def rest(request: web.Request) -> web.StreamResponse:
        sim.hub.http_requests += 1
        params = {k: v for k, v in request.query.items() if k != "api_key"}
        body = None
        if request.can_read_body:
            raw = await request.read()
            if raw:
                try:
                    body = msgspec.json.decode(raw)
                except msgspec.DecodeError:
                    return json_response(400, {"message": "Invalid JSON body"})
        status, result = await sim.api.dispatch(request.method, request.match_info["tail"], params, body)
        if isinstance(result, StoredRecording):
            return web.Response(status=200, body=wav_bytes(result), content_type="audio/wav")
        return json_response(status, result)

    app.router.add_get("/ari/api-docs/resources.json", resources)
    app.router.add_get("/ari/api-docs/{name}.json", declaration)
    app.router.add_get("/ari/events", events)
    add_control_routes(app, sim)
    app.router.add_route("*", "/ari/{tail:.*}", rest)
    return app
