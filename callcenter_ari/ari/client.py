"""The ARI client the application uses: typed operations over a transport, reconnecting when it drops.

``AriClient.run`` keeps a connection up for the life of the process: it picks the transport (probing ARI's REST
over WebSocket when asked to choose, or using the one it is given: the simulator's in-process transport in tests),
delivers events and connection changes to one sink, and reconnects with exponential backoff. After a reconnect the
runtime reconciles with ``list_channels`` and ``list_bridges``. Every error answer becomes an exception in one
place, ``_call`` (see errors.py).

An operation whose answer decides nothing for its caller (answer, play, hang up, bridge...) takes ``on_error``:
over a transport that keeps requests in order without waiting (REST over WebSocket, the simulator's in-process
one), it is then sent without waiting, and returns at once without giving up its turn of the event loop; an error
answer, or none within the time-out, comes later to ``on_error``, as the exception the awaited call would have
raised. Over the HTTP transport, whose requests may overtake one another, it is awaited as ever.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import anyio
import msgspec
import structlog
from anyio.abc import TaskStatus

from callcenter_ari.ari.errors import AriError, AriUnavailable, LoginRefused, NotFound, VariableUnset, error_for
from callcenter_ari.ari.events import Event, UnknownEvent
from callcenter_ari.ari.files import StoredFile, open_stored_file
from callcenter_ari.ari.http import HttpTransport
from callcenter_ari.ari.models import (
    Application,
    AsteriskInfo,
    Bridge,
    Channel,
    LiveRecording,
    Playback,
    StoredRecording,
    Variable,
)
from callcenter_ari.ari.transport import Endpoint, Response, SendsWithoutWaiting, Transport, TransportFactory
from callcenter_ari.ari.websocket import WebSocketTransport

log = structlog.get_logger(__name__)

T = TypeVar("T")
TransportChoice = Literal["auto", "websocket", "http"]


class Connected(msgspec.Struct, frozen=True):
    """The event stream is (again) up; ``reconnect`` is true after a drop, when state must be reconciled."""

    transport: str
    reconnect: bool


class Disconnected(msgspec.Struct, frozen=True):
    reason: str


Incoming = Event | UnknownEvent | Connected | Disconnected
Sink = Callable[[Incoming], Awaitable[None]]
OnError = Callable[[AriError], None]  # told of a request sent without waiting that failed

_decoders: dict[type, msgspec.json.Decoder[Any]] = {}


def _decode(body: bytes, cls: type[T]) -> T:
    decoder = _decoders.get(cls)
    if decoder is None:
        decoder = _decoders[cls] = msgspec.json.Decoder(cls)
    return decoder.decode(body)  # type: ignore[no-any-return]


class _ErrorBody(msgspec.Struct):
    message: str = ""
    error: str = ""


def _error_message(body: bytes) -> str:
    try:
        parsed = msgspec.json.decode(body, type=_ErrorBody)
    except msgspec.DecodeError:
        return body.decode(errors="replace")[:200]
    return parsed.message or parsed.error


def _q(value: str) -> str:
    return quote(value, safe="")


class AriClient:
    def __init__(
        self,
        endpoint: Endpoint,
        *,
        transport: TransportChoice | TransportFactory = "auto",
        request_timeout: float = 10.0,
        reconnect_initial: float = 0.5,
        reconnect_max: float = 30.0,
        event_filter: Sequence[str] = (),
    ) -> None:
        """``event_filter``: the event types the application uses; set as Asterisk's per-application filter on
        every connect, so that Asterisk sends no others (nothing is filtered where Asterisk lacks the filter)."""
        self.endpoint = endpoint
        self._event_filter = tuple(event_filter)
        self.filtered = False  # whether Asterisk took the filter on the last connect
        self._choice = transport
        self._timeout = request_timeout
        self._backoff = (reconnect_initial, reconnect_max)
        self._transport: Transport | None = None
        self._sends: SendsWithoutWaiting | None = None  # the transport, when it sends without waiting
        self._up = anyio.Event()
        # When each request still unanswered was sent, by its number (consecutive, in sending order): ``lag``.
        self._sent_at: dict[int, float] = {}
        self._numbers = itertools.count()
        self._oldest = 0  # no unanswered request has a lower number
        # Called before every request; raises to refuse it (a hot standby's fence: fencing.py).
        self.guard: Callable[[], None] | None = None

    @property
    def pending(self) -> int:
        """Requests sent and not answered yet."""
        return len(self._sent_at)

    @property
    def lag(self) -> float:
        """How long the oldest request still unanswered has waited, in seconds (0 when none): how far behind
        Asterisk (or this process, reading its answers) is, whatever the call rate."""
        sent = self._sent_at
        if not sent:
            return 0.0
        while self._oldest not in sent:
            self._oldest += 1
        return time.monotonic() - sent[self._oldest]

    @property
    def sends_without_waiting(self) -> bool:
        """Whether an operation given ``on_error`` is sent without waiting now (connected, not over HTTP)."""
        return self._sends is not None

    @property
    def transport_name(self) -> str:
        return self._transport.name if self._transport else "none"

    # ---- connection ------------------------------------------------------------------------------------

    async def run(self, sink: Sink, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Stay connected until cancelled. ``task_status.started()`` fires on the first successful connect."""
        initial, max_delay = self._backoff
        delay = initial
        choice = self._choice
        reconnect = False
        while True:
            transport = self._open(choice)
            reason, went_up = await self._session(transport, sink, choice, reconnect, task_status)
            self._up = anyio.Event()
            self._transport = self._sends = None
            if isinstance(reason, LoginRefused):
                # Not a network blip: say what is wrong and where to fix it, at error level, on every retry.
                log.error(
                    "ari.login_refused",
                    user=self.endpoint.username,
                    url=self.endpoint.url,
                    error=reason.message,
                    fix="set [ari] username and password in the configuration (the example reads the password "
                    "from ARI_PASSWORD) to a user of Asterisk's ari.conf, or of `callcenter-ari sim`",
                    retry_in=round(delay, 2),
                )
                await anyio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, max_delay)
                continue
            if reason == _NO_REST_OVER_WS:
                log.info("ari.transport.fallback", reason="Asterisk does not answer REST over WebSocket")
                choice = "http"
                continue
            if went_up:
                if choice == "auto":
                    choice = "websocket"  # the probe succeeded: this Asterisk speaks REST over WebSocket
                delay, reconnect = initial, True
                await sink(Disconnected(reason))
            log.warning("ari.disconnected", reason=reason, retry_in=round(delay, 2))
            await anyio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, max_delay)

    def _open(self, choice: TransportChoice | TransportFactory) -> Transport:
        if callable(choice):
            return choice(self.endpoint)
        if choice == "http":
            return HttpTransport(self.endpoint, self._timeout)
        return WebSocketTransport(self.endpoint, self._timeout)

    async def _session(
        self,
        transport: Transport,
        sink: Sink,
        choice: TransportChoice | TransportFactory,
        reconnect: bool,
        task_status: TaskStatus[None],
    ) -> tuple[str | LoginRefused, bool]:
        """One connection, from connect to drop. Returns why it ended (a refused login as such) and whether it was
        ever up."""
        ended: list[str | LoginRefused] = []
        async with anyio.create_task_group() as tg:
            up = anyio.Event()

            async def reader() -> None:
                try:
                    await transport.run(sink, up.set)
                except LoginRefused as exc:
                    ended.append(exc)
                except AriUnavailable as exc:
                    ended.append(exc.message)
                else:
                    ended.append("connection closed")
                finally:
                    up.set()
                    tg.cancel_scope.cancel()

            tg.start_soon(reader)
            await up.wait()
            if ended:
                return ended[0], False
            if choice == "auto" and not await self._speaks_rest_over_websocket(transport):
                tg.cancel_scope.cancel()
                return _NO_REST_OVER_WS, False
            self._transport = transport
            self._sends = transport if isinstance(transport, SendsWithoutWaiting) else None
            if self._event_filter:
                self.filtered = await self._set_event_filter(transport)
            self._up.set()
            await sink(Connected(transport.name, reconnect))
            if not self._started:
                self._started = True
                task_status.started()
            await anyio.sleep_forever()
        return (ended[0] if ended else "connection closed"), True

    _started = False

    async def _set_event_filter(self, transport: Transport) -> bool:
        """Allow only the application's event types (Asterisk 13.26+ and 16.3+); on an older Asterisk, or any
        failure, go on unfiltered: the dispatcher ignores the types it does not use, at some cost per event. Not
        over the HTTP transport: asyncari sends a body parameter wrapped in an object named after it, and Asterisk
        takes the whole body as the filter, so it would see neither list and change nothing."""
        if transport.name == "http":
            log.info("ari.event_filter_unset", reason="not over the HTTP transport")
            return False
        path = f"applications/{_q(self.endpoint.app)}/eventFilter"
        # The replies to requests over the WebSocket are messages of the application too, and Asterisk passes
        # them through the same filter: without RESTResponse on the list, no reply would come back, this one's
        # included.
        allowed = (*self._event_filter, "RESTResponse")
        body = msgspec.json.encode({"allowed": [{"type": kind} for kind in allowed]})
        try:
            with anyio.fail_after(min(self._timeout, 3.0)):
                reply = await transport.request("PUT", path, None, body)
        except (AriUnavailable, TimeoutError) as exc:
            log.warning("ari.event_filter_unset", reason=str(exc) or type(exc).__name__)
            return False
        if reply.status >= 300:
            log.info("ari.event_filter_unset", status=reply.status, reason=_error_message(reply.body))
            return False
        return True

    async def _speaks_rest_over_websocket(self, transport: Transport) -> bool:
        """An Asterisk without REST over WebSocket ignores the RESTRequest; a reply says it has it."""
        try:
            with anyio.fail_after(min(self._timeout, 3.0)):
                reply = await transport.request("GET", "asterisk/ping")
        except (AriUnavailable, TimeoutError):
            return False
        return reply.status < 400

    async def request(
        self, method: str, path: str, query: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        if self.guard is not None:
            self.guard()
        if not self._up.is_set():
            with anyio.move_on_after(self._timeout):
                await self._up.wait()
        transport = self._transport
        if transport is None:
            raise AriUnavailable("not connected to Asterisk")
        number = next(self._numbers)
        self._sent_at[number] = time.monotonic()
        try:
            return await transport.request(method, path, query, body)
        finally:
            del self._sent_at[number]

    async def _call(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        body: bytes | None = None,
        *,
        channel: str | None = None,
        listed: Sequence[str] = (),
        on_error: OnError | None = None,
    ) -> bytes:
        """The body of a successful answer, else its error (``channel``: the channel named in ``path``; ``listed``:
        the channels named in ``query``, see ``error_for``). With ``on_error``, sent without waiting where the
        transport can: an empty body then, and the error to ``on_error`` when it comes."""
        if on_error is not None and self._send(method, path, query, body, on_error, channel, listed):
            return b""
        reply = await self.request(method, path, query, body)
        if reply.status < 300:
            return reply.body
        raise error_for(reply.status, _error_message(reply.body), channel=channel, listed=listed)

    def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: bytes | None,
        on_error: OnError,
        channel: str | None,
        listed: Sequence[str],
    ) -> bool:
        """Send without waiting; False when the transport cannot (HTTP), or there is none now (the caller then
        waits, for the reconnect too)."""
        transport = self._sends
        if transport is None:
            return False
        if self.guard is not None:
            self.guard()
        number = next(self._numbers)

        def done(answer: Response | AriUnavailable) -> None:
            del self._sent_at[number]
            if isinstance(answer, AriUnavailable):
                error: AriError = answer
            elif answer.status < 300:
                return
            else:
                error = error_for(answer.status, _error_message(answer.body), channel=channel, listed=listed)
            try:
                on_error(error)
            except Exception:  # the reader that calls this must go on reading
                log.exception("ari.error_handler_failed", request=f"{method} {path}")

        self._sent_at[number] = time.monotonic()
        try:
            transport.send(method, path, query, body, done)
        except BaseException:
            del self._sent_at[number]
            raise
        return True

    # ---- channels --------------------------------------------------------------------------------------

    async def answer(self, channel: str, *, on_error: OnError | None = None) -> None:
        await self._call("POST", f"channels/{_q(channel)}/answer", channel=channel, on_error=on_error)

    async def hangup(
        self, channel: str, *, reason: str = "normal", cause: int | None = None, on_error: OnError | None = None
    ) -> None:
        query = {"reason_code": str(cause)} if cause is not None else {"reason": reason}
        await self._call("DELETE", f"channels/{_q(channel)}", query, channel=channel, on_error=on_error)

    async def ring(self, channel: str) -> None:
        await self._call("POST", f"channels/{_q(channel)}/ring", channel=channel)

    async def ring_stop(self, channel: str) -> None:
        await self._call("DELETE", f"channels/{_q(channel)}/ring", channel=channel)

    async def play(
        self,
        target: str,
        media: str | Sequence[str],
        *,
        playback_id: str | None = None,
        lang: str = "",
        on_error: OnError | None = None,
    ) -> Playback:
        """Play to ``channel:<id>`` or ``bridge:<id>`` (sent without waiting: the playback as asked for, its id)."""
        kind, _, object_id = target.partition(":")
        query = {"media": media if isinstance(media, str) else ",".join(media)}
        if lang:
            query["lang"] = lang
        path = f"{kind}s/{_q(object_id)}/play" + (f"/{_q(playback_id)}" if playback_id else "")
        body = await self._call(
            "POST", path, query, channel=object_id if kind == "channel" else None, on_error=on_error
        )
        return _decode(body, Playback) if body else Playback(id=playback_id or "")

    async def get_playback(self, playback_id: str) -> Playback:
        return _decode(await self._call("GET", f"playbacks/{_q(playback_id)}"), Playback)

    async def stop_playback(self, playback_id: str, *, on_error: OnError | None = None) -> None:
        try:
            await self._call("DELETE", f"playbacks/{_q(playback_id)}", on_error=_but_not_found(on_error))
        except NotFound:
            pass  # it finished on its own a moment ago: the outcome we wanted

    async def moh_start(self, channel: str, moh_class: str = "", *, on_error: OnError | None = None) -> None:
        query = {"mohClass": moh_class} if moh_class else None
        await self._call("POST", f"channels/{_q(channel)}/moh", query, channel=channel, on_error=on_error)

    async def moh_stop(self, channel: str, *, on_error: OnError | None = None) -> None:
        await self._call("DELETE", f"channels/{_q(channel)}/moh", channel=channel, on_error=on_error)

    async def silence_start(self, channel: str) -> None:
        await self._call("POST", f"channels/{_q(channel)}/silence", channel=channel)

    async def silence_stop(self, channel: str) -> None:
        await self._call("DELETE", f"channels/{_q(channel)}/silence", channel=channel)

    async def hold(self, channel: str) -> None:
        await self._call("POST", f"channels/{_q(channel)}/hold", channel=channel)

    async def unhold(self, channel: str) -> None:
        await self._call("DELETE", f"channels/{_q(channel)}/hold", channel=channel)

    async def mute(
        self, channel: str, direction: Literal["in", "out", "both"] = "both", *, on_error: OnError | None = None
    ) -> None:
        query = {"direction": direction}
        await self._call("POST", f"channels/{_q(channel)}/mute", query, channel=channel, on_error=on_error)

    async def unmute(
        self, channel: str, direction: Literal["in", "out", "both"] = "both", *, on_error: OnError | None = None
    ) -> None:
        query = {"direction": direction}
        await self._call("DELETE", f"channels/{_q(channel)}/mute", query, channel=channel, on_error=on_error)

    async def send_dtmf(self, channel: str, digits: str) -> None:
        await self._call("POST", f"channels/{_q(channel)}/dtmf", {"dtmf": digits}, channel=channel)

    async def originate(
        self,
        endpoint: str,
        *,
        app_args: Sequence[str] = (),
        caller_id: str = "",
        ring_timeout: int = 30,
        variables: Mapping[str, str] | None = None,
        channel_id: str | None = None,
        originator: str | None = None,
        on_error: OnError | None = None,
    ) -> Channel:
        """``originator``: the channel this call is made for (an agent's leg for a caller): Asterisk gives the new
        channel that channel's formats, so that bridging the two needs no transcoding or resampling, and links the
        two (linkedid). Its being gone meanwhile is ``ChannelGone`` for it. Sent without waiting: the channel as
        asked for, its id."""
        query = {"endpoint": endpoint, "app": self.endpoint.app, "timeout": str(ring_timeout)}
        if app_args:
            query["appArgs"] = ",".join(app_args)
        if caller_id:
            query["callerId"] = caller_id
        if originator:
            query["originator"] = originator
        body = msgspec.json.encode({"variables": dict(variables)}) if variables else None
        path = f"channels/{_q(channel_id)}" if channel_id else "channels"
        listed = (originator,) if originator else ()
        reply = await self._call("POST", path, query, body, listed=listed, on_error=on_error)
        return _decode(reply, Channel) if reply else Channel(id=channel_id or "")

    async def continue_in_dialplan(
        self,
        channel: str,
        *,
        context: str = "",
        extension: str = "",
        priority: int | None = None,
        on_error: OnError | None = None,
    ) -> None:
        query = {k: v for k, v in (("context", context), ("extension", extension)) if v}
        if priority is not None:
            query["priority"] = str(priority)
        await self._call("POST", f"channels/{_q(channel)}/continue", query, channel=channel, on_error=on_error)

    async def get_variable(self, channel: str, name: str) -> str | None:
        try:
            body = await self._call("GET", f"channels/{_q(channel)}/variable", {"variable": name}, channel=channel)
        except VariableUnset:
            return None
        return _decode(body, Variable).value

    async def set_variable(self, channel: str, name: str, value: str) -> None:
        query = {"variable": name, "value": value}
        await self._call("POST", f"channels/{_q(channel)}/variable", query, channel=channel)

    async def snoop(
        self,
        channel: str,
        *,
        spy: Literal["none", "in", "out", "both"] = "both",
        whisper: Literal["none", "in", "out", "both"] = "none",
        app_args: Sequence[str] = (),
        snoop_id: str | None = None,
    ) -> Channel:
        query = {"spy": spy, "whisper": whisper, "app": self.endpoint.app}
        if app_args:
            query["appArgs"] = ",".join(app_args)
        path = f"channels/{_q(channel)}/snoop" + (f"/{_q(snoop_id)}" if snoop_id else "")
        return _decode(await self._call("POST", path, query, channel=channel), Channel)

    async def get_channel(self, channel: str) -> Channel:
        return _decode(await self._call("GET", f"channels/{_q(channel)}", channel=channel), Channel)

    async def list_channels(self) -> list[Channel]:
        return _decode(await self._call("GET", "channels"), list[Channel])

    # ---- bridges ---------------------------------------------------------------------------------------

    async def create_bridge(
        self,
        kind: Literal["mixing", "holding"] = "mixing",
        *,
        bridge_id: str | None = None,
        name: str = "",
        on_error: OnError | None = None,
    ) -> Bridge:
        """Sent without waiting: the bridge as asked for, its id."""
        query: dict[str, str] = {"type": kind}
        if name:
            query["name"] = name
        path = f"bridges/{_q(bridge_id)}" if bridge_id else "bridges"
        reply = await self._call("POST", path, query, on_error=on_error)
        return _decode(reply, Bridge) if reply else Bridge(id=bridge_id or "")

    async def destroy_bridge(self, bridge: str, *, on_error: OnError | None = None) -> None:
        try:
            await self._call("DELETE", f"bridges/{_q(bridge)}", on_error=_but_not_found(on_error))
        except NotFound:
            pass  # already gone: what we wanted

    async def add_to_bridge(
        self, bridge: str, channels: Sequence[str], *, role: str = "", on_error: OnError | None = None
    ) -> None:
        """Raises ChannelGone when one of them hung up (with no channel id when there were several: Asterisk does not
        say which), NotFound when the bridge is gone."""
        query = {"channel": ",".join(channels)}
        if role:
            query["role"] = role
        await self._call("POST", f"bridges/{_q(bridge)}/addChannel", query, listed=channels, on_error=on_error)

    async def remove_from_bridge(
        self, bridge: str, channels: Sequence[str], *, on_error: OnError | None = None
    ) -> None:
        query = {"channel": ",".join(channels)}
        await self._call("POST", f"bridges/{_q(bridge)}/removeChannel", query, on_error=on_error)

    async def bridge_moh_start(self, bridge: str, moh_class: str = "") -> None:
        query = {"mohClass": moh_class} if moh_class else None
        await self._call("POST", f"bridges/{_q(bridge)}/moh", query)

    async def bridge_moh_stop(self, bridge: str) -> None:
        await self._call("DELETE", f"bridges/{_q(bridge)}/moh")

    async def list_bridges(self) -> list[Bridge]:
        return _decode(await self._call("GET", "bridges"), list[Bridge])

    # ---- recordings ------------------------------------------------------------------------------------

    async def record(
        self,
        target: str,
        name: str,
        *,
        format: str = "wav",
        max_duration: int = 0,
        beep: bool = False,
        if_exists: Literal["fail", "overwrite", "append"] = "fail",
        terminate_on: str = "none",
    ) -> LiveRecording:
        """Record ``channel:<id>`` or ``bridge:<id>`` under ``name``."""
        kind, _, object_id = target.partition(":")
        query = {
            "name": name,
            "format": format,
            "maxDurationSeconds": str(max_duration),
            "beep": "true" if beep else "false",
            "ifExists": if_exists,
            "terminateOn": terminate_on,
        }
        body = await self._call(
            "POST", f"{kind}s/{_q(object_id)}/record", query, channel=object_id if kind == "channel" else None
        )
        return _decode(body, LiveRecording)

    async def recording_control(
        self, name: str, action: Literal["stop", "pause", "unpause", "mute", "unmute", "cancel"]
    ) -> None:
        method, suffix = {
            "stop": ("POST", "stop"),
            "pause": ("POST", "pause"),
            "unpause": ("DELETE", "pause"),
            "mute": ("POST", "mute"),
            "unmute": ("DELETE", "mute"),
            "cancel": ("DELETE", ""),
        }[action]
        path = f"recordings/live/{_q(name)}" + (f"/{suffix}" if suffix else "")
        await self._call(method, path)

    async def stored_recordings(self) -> list[StoredRecording]:
        return _decode(await self._call("GET", "recordings/stored"), list[StoredRecording])

    async def stored_recording(self, name: str) -> StoredRecording:
        return _decode(await self._call("GET", f"recordings/stored/{_q(name)}"), StoredRecording)

    async def delete_stored(self, name: str) -> None:
        await self._call("DELETE", f"recordings/stored/{_q(name)}")

    async def open_stored_file(self, name: str) -> StoredFile:
        """A stored recording's audio, to stream (see ari/files.py)."""
        return await open_stored_file(self.endpoint, name, self._timeout)

    # ---- system ----------------------------------------------------------------------------------------

    async def application(self) -> Application:
        return _decode(await self._call("GET", f"applications/{_q(self.endpoint.app)}"), Application)

    async def subscribe(self, event_source: str) -> Application:
        path = f"applications/{_q(self.endpoint.app)}/subscription"
        return _decode(await self._call("POST", path, {"eventSource": event_source}), Application)

    async def asterisk_info(self) -> AsteriskInfo:
        return _decode(await self._call("GET", "asterisk/info"), AsteriskInfo)


_NO_REST_OVER_WS = "no REST over WebSocket"


def _but_not_found(on_error: OnError | None) -> OnError | None:
    """``on_error`` for an operation whose target being gone already is the outcome wanted (a playback that
    finished, a bridge destroyed)."""
    if on_error is None:
        return None

    def told(error: AriError) -> None:
        if not isinstance(error, NotFound):
            on_error(error)

    return told


__all__ = ["AriClient", "AriError", "Connected", "Disconnected", "Incoming"]
