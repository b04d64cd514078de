"""Routes each ARI event to the call that owns its channel, translated into that call's inputs.

The dispatcher is the hot loop: it runs once per event, so it does a dict lookup and a non-blocking send, and
leaves everything else to the call's own task. Our own ids carry their call id as a prefix (``<call>-greeting``
for a playback, ``<call>-a1`` for an agent leg), so playbacks route without a table.

``EVENTS_USED`` lists the event types handled here; the ARI client sets it as Asterisk's per-application event
filter on connect, so Asterisk does not send (and the reader does not decode) the others: about two thirds of a
call's events (variable sets, state changes, bridge entries). A new ``case`` on an event type needs its type
added there.
"""

from __future__ import annotations

import re
import uuid
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import structlog

from callcenter_ari.ari.client import Connected, Disconnected, Incoming
from callcenter_ari.ari.errors import AriError, NotFound
from callcenter_ari.ari.events import (
    ApplicationReplaced,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    Dial,
    Event,
    PlaybackFinished,
    RecordingFailed,
    RecordingFinished,
    StasisEnd,
    StasisStart,
    UnknownEvent,
)
from callcenter_ari.calls.legs import call_of
from callcenter_ari.calls.machine import CallSettings, InboundCall
from callcenter_ari.calls.messages import (
    AgentGone,
    AgentUp,
    CallerGone,
    Digit,
    Input,
    PlaybackDone,
    RecordingDone,
    Start,
)
from callcenter_ari.calls.records import LEG_PHASES, CallRecord
from callcenter_ari.runtime.call import LiveCall
from callcenter_ari.runtime.overload import Admission

if TYPE_CHECKING:
    from callcenter_ari.runtime.app import Services

log = structlog.get_logger(__name__)

_TOKEN = re.compile(r"^[A-Za-z0-9_.+*#-]{1,64}$")
_NUMBER_CHARS = re.compile(r"[^0-9+*#]")
_NAME_CHARS = re.compile(r"[\"<>\\\x00-\x1f]")
# Dial outcomes that say why a leg never came up; a Local leg's own hang-up cause is 0 whatever happened.
_FAILED_DIAL = frozenset({"BUSY", "CONGESTION", "NOANSWER", "CHANUNAVAIL"})
_LOG_EVERY_DROP = 100
EVENTS_USED = (
    "StasisStart",
    "StasisEnd",
    "ChannelHangupRequest",
    "ChannelDestroyed",
    "ChannelDtmfReceived",
    "PlaybackFinished",
    "RecordingFinished",
    "RecordingFailed",
    "Dial",
    "ApplicationReplaced",
    "ApplicationMoveFailed",
)


def new_call_id() -> str:
    return "c" + uuid.uuid4().hex[:20]


class Dispatcher:
    def __init__(self, services: Services, settings_for: Callable[[str], CallSettings], admission: Admission) -> None:
        self.services = services
        self._settings_for = settings_for
        self._admission = admission
        # Events that arrive before recovery is done, replayed in order by ``open``. The reader must not wait for
        # recovery: with REST over WebSocket, the replies to recovery's own requests come on the same socket.
        self._held: deque[Event] | None = deque()
        self._event_counters: dict[str, object] = {}
        # New calls sent back to the dialplan while draining, not yet out of Stasis: the drain waits for them.
        self._refusing: set[str] = set()
        self._refused = anyio.Event()
        # What Asterisk's Dial events said about our legs that failed, until the leg's hang-up carries it to the call.
        self._dial_status: dict[str, str] = {}
        self._dropped = 0  # digits dropped from full inboxes since the start

    def hold_first(self, events: list[Event]) -> None:
        """Events recovery made up (callers in Stasis that no record names): handled first when it opens."""
        if self._held is not None:
            self._held.extendleft(reversed(events))
        else:
            for event in events:
                self._handle(event)

    def open(self) -> None:
        """Recovery is done: handle the events held meanwhile, in order, then each as it comes."""
        held, self._held = self._held, None
        for message in held or ():
            self._handle(message)

    async def __call__(self, message: Incoming) -> None:
        services = self.services
        match message:
            case Connected(transport, reconnect):
                services.ari_up = True
                services.metrics.ari_connected.set(1)
                log.info("ari.connected", transport=transport, reconnect=reconnect)
                if reconnect:
                    services.metrics.ari_reconnects.inc()
                    services.spawn(self.reconcile)
                return
            case Disconnected(reason):
                services.ari_up = False
                services.metrics.ari_connected.set(0)
                log.warning("ari.connection_lost", reason=reason)
                return
            case ApplicationReplaced():
                # Another process subscribed to our Stasis application: Asterisk sends it the events from now on.
                log.error("ari.application_replaced", action="stepping down")
                services.replaced.set()
                return
            case UnknownEvent(kind, reason):
                services.metrics.ari_unknown_events.inc()
                log.warning("ari.event_skipped", event_type=kind, reason=reason[:200])
                return
        if self._held is not None:
            self._held.append(message)
            return
        self._handle(message)

    def _handle(self, message: Event) -> None:
        services = self.services
        counter = self._event_counters.get(str(message.__struct_config__.tag))
        if counter is None:
            tag = str(message.__struct_config__.tag)
            counter = self._event_counters[tag] = services.metrics.ari_events.labels(tag)
        counter.inc()  # type: ignore[attr-defined]
        match message:
            case PlaybackFinished(playback=playback):
                task = self.services.calls.get(call_of(playback.id))
                if task is not None:
                    self._deliver(task, PlaybackDone(playback.id, playback.state == "failed"))
                elif not self._admission.playback_done(playback.id) and not services.dialer.playback_done(playback.id):
                    self.services.features.playback_done(playback.id)
            case ChannelHangupRequest(channel=channel, cause=cause) | ChannelDestroyed(channel=channel, cause=cause):
                self._channel_gone(channel.id, cause)
            case StasisEnd(channel=channel) if not services.dialer.detecting(channel.id):
                self._channel_gone(channel.id, None)  # a campaign call gone to answering-machine detection comes back
            case Dial(peer=peer, dialstatus=status) if status in _FAILED_DIAL and peer.id in services.channels:
                self._dial_status[peer.id] = status
            case StasisStart():
                self._stasis_start(message)
            case ChannelDtmfReceived(channel=channel, digit=digit):
                task = self.services.channels.call(channel.id)
                if task is not None and channel.id == task.caller_channel:
                    self._deliver(task, Digit(digit))
            case RecordingFinished(recording=recording) | RecordingFailed(recording=recording):
                services.recordings.finished(recording, failed=isinstance(message, RecordingFailed))
                self._to_call(call_of(recording.name), RecordingDone(recording.name))
            case _:
                pass

    # ---- routing -----------------------------------------------------------------------------------------

    def _to_call(self, call_id: str, message: Input) -> None:
        task = self.services.calls.get(call_id)
        if task is not None:
            self._deliver(task, message)

    def _deliver(self, task: LiveCall, message: Input) -> None:
        if not task.deliver(message):
            self.services.metrics.dtmf_dropped.inc()
            # A caller can press keys faster than anyone reads them: one line per hundred, not one per key.
            self._dropped += 1
            if self._dropped % _LOG_EVERY_DROP == 1:
                log.warning(
                    "call.inbox_full", call_id=task.call_id, dropped=type(message).__name__, total=self._dropped
                )

    def _channel_gone(self, channel_id: str, cause: int | None) -> None:
        dialstatus = self._dial_status.pop(channel_id, "")
        self.services.channels.gone(channel_id, cause, dialstatus)  # nobody's: another application's, or moot

    def _stasis_start(self, event: StasisStart) -> None:
        args = event.args
        kind = args[0] if args else ""
        if kind == "inbound":
            self._new_call(event)
        elif kind in ("agent", "transfer"):
            task = self.services.channels.call(event.channel.id)
            if task is None:
                # The call this leg was for is gone: do not leave an agent listening to silence.
                log.info("agent.orphan_leg", channel=event.channel.id)
                self.services.spawn(self._hang_up, event.channel.id)
            else:
                self._deliver(task, AgentUp(event.channel.id))
        elif kind == "callback":
            if not self.services.callbacks.agent_up(event.channel.id):
                log.info("callback.orphan_leg", channel=event.channel.id)
                self.services.spawn(self._hang_up, event.channel.id)
        elif kind == "outbound":
            if not self.services.outbound.entered(event.channel.id):
                log.info("outbound.orphan_leg", channel=event.channel.id)  # hung up, its line given back
        elif kind == "amd":
            if not self.services.dialer.detected(event.channel.id):
                log.info("dialer.orphan_call", channel=event.channel.id)
                self.services.spawn(self._hang_up, event.channel.id)
        elif kind == "persistent" and len(args) > 1:
            self.services.standing.entered(event.channel.id, args[1])
        elif kind == "agentphone" and len(args) > 2:
            self.services.features.start(event.channel.id, args[1], _token(args[2]))
        elif kind == "monitor" and len(args) > 1 and self.services.monitor.leg_up(args[1]):
            pass  # the supervisor answered: the session bridges them
        elif kind == "snoop" and len(args) > 1 and args[1] in self.services.monitor.sessions:
            pass  # a session's snoop channel: it is bridged once the supervisor answers
        elif kind in ("monitor", "snoop"):
            self.services.spawn(self._hang_up, event.channel.id)  # its session is over
        else:
            log.warning("stasis.unsupported_entry", channel=event.channel.id, args=list(args[:4]))
            self.services.spawn(self._back_to_dialplan, event.channel.id)

    def _new_call(self, event: StasisStart) -> None:
        services, channel = self.services, event.channel
        if services.draining:
            self._refusing.add(channel.id)
            services.spawn(self._refuse, channel.id)
            return
        shed = self._admission.refusal(channel.id, len(services.calls))
        if shed is not None:
            self._admission.note(channel.id, shed)
            services.spawn(self._admission.treat, channel.id, shed)
            return
        source = _token(event.args[1]) if len(event.args) > 1 else ""
        did = _token(event.args[2]) if len(event.args) > 2 else channel.dialplan.exten
        record = CallRecord(
            call_id=new_call_id(),
            channel_id=channel.id,
            source=source,
            did=_token(did),
            caller=_NUMBER_CHARS.sub("", channel.caller.number)[:32],
            caller_name=_NAME_CHARS.sub("", channel.caller.name)[:64],
            started_at=services.clock.now(),
        )
        task = LiveCall(InboundCall(record, self._settings_for(record.did)), services)
        services.adopt(task, Start(services.surge()))
        services.metrics.calls_started.inc()

    # ---- reconciliation ----------------------------------------------------------------------------------

    async def reconcile(self) -> None:
        """After a reconnect: calls whose channels ended while we were away are told so."""
        services = self.services
        try:
            channels = {channel.id for channel in await services.ari.list_channels()}
        except AriError as exc:
            log.error("ari.reconcile_failed", error=exc.message)
            return
        services.standing.reconcile(channels)
        self._dial_status = {leg: status for leg, status in self._dial_status.items() if leg in channels}
        ended = 0
        for task in list(services.calls.values()):
            record = task.machine.record
            if record.channel_id not in channels:
                self._deliver(task, CallerGone(None))
                ended += 1
            elif record.phase in LEG_PHASES and record.agent_channel not in channels:
                self._deliver(task, AgentGone(None, record.agent_channel))
            elif record.consult_channel and record.consult_channel not in channels:
                self._deliver(task, AgentGone(None, record.consult_channel))
            elif task.machine.awaited_playback:
                await self._playback_finished_while_away(task, task.machine.awaited_playback)
        log.info("ari.reconciled", live_calls=len(services.calls), ended_while_away=ended)

    async def _playback_finished_while_away(self, task: LiveCall, playback_id: str) -> None:
        """A PlaybackFinished sent while we were disconnected is lost; a playback that is gone has finished."""
        try:
            await self.services.ari.get_playback(playback_id)
        except NotFound:
            self._deliver(task, PlaybackDone(playback_id))
        except AriError as exc:
            log.warning("ari.reconcile_playback_failed", error=exc.message)

    async def _refuse(self, channel_id: str) -> None:
        try:
            await self._back_to_dialplan(channel_id)
        finally:
            self._refusing.discard(channel_id)
            if not self._refusing:
                self._refused.set()
                self._refused = anyio.Event()

    async def refusals_done(self) -> None:
        """Until every call that arrived during the drain has left Stasis: none may be left in it after exit."""
        while self._refusing:
            await self._refused.wait()

    async def _back_to_dialplan(self, channel_id: str) -> None:
        try:
            await self.services.ari.continue_in_dialplan(channel_id)
        except AriError as exc:
            log.warning("stasis.continue_failed", channel=channel_id, error=exc.message)
            await self._hang_up(channel_id)

    async def _hang_up(self, channel_id: str) -> None:
        try:
            await self.services.ari.hangup(channel_id)
        except AriError:
            pass  # gone already


def _token(value: str) -> str:
    """A value from the dialplan (trunk name, DID) reduced to something safe to store and route on."""
    return value if _TOKEN.fullmatch(value) else ""
