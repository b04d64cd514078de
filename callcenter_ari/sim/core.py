"""The simulated Asterisk core: channel lifecycle, Stasis, bridges, playbacks, recordings and the events they raise.

Theory of operation: every operation is synchronous. It validates (raising `AriError` with Asterisk's exact status
and body), mutates the objects in `model`, and emits events in the order Asterisk emits them; the event sink
encodes and queues them for the app's WebSocket. Anything that takes time (a playback, ringing, a scripted caller)
is a clock timer whose callback is another synchronous step. Far ends (Local pairs, trunk callers, phones) plug in
as `Driver`s that the core notifies when their channel is answered, bridged, hung up or sent DTMF.

Which app hears what: a channel's events go to its Stasis app plus the apps subscribed to it (`Channel.watchers`).
An originated channel stays subscribed until ChannelDestroyed; a channel that entered Stasis from the dialplan is
heard only until StasisEnd, unless the app subscribed to it explicitly.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from callcenter_ari.clock import Clock
from callcenter_ari.sim.model import (
    Bridge,
    Channel,
    Command,
    DtmfSend,
    LiveRecording,
    Origin,
    Playback,
    StoredRecording,
)
from callcenter_ari.sim.wire import ASTERISK_ID, CAUSE_TEXT, AriError, Json, format_timestamp

# Durations in seconds of the sound files the simulator knows; extended from SimConfig.sounds.
DEFAULT_SOUNDS: dict[str, float] = {
    "hello-world": 1.4,
    "beep": 0.424,
    "demo-congrats": 12.8,
    "tt-monkeys": 9.6,
    "pls-hold-while-try": 1.9,
    "queue-thankyou": 1.6,
    "queue-callswaiting": 1.5,
    "queue-holdtime": 1.4,
    "queue-thereare": 1.0,
    "queue-youarenext": 1.8,
    "queue-minutes": 0.8,
    "agent-loggedoff": 1.0,
    "invalid": 1.3,
    "option-is-invalid": 1.6,  # the IVR's default invalid-key prompt; its length is a guess (no recording has it)
    "vm-goodbye": 0.9,
    "vm-intro": 3.2,
    "agent-loginok": 1.1,
    "conf-onlyperson": 2.6,
    "please-try-again": 1.1,
    "silence/1": 1.0,
    "silence/2": 2.0,
    "silence/3": 3.0,
    "silence/10": 10.0,
}
DIGIT_SECONDS = 0.773  # one digits/N file
RECORDING_FORMATS = frozenset({"wav", "gsm", "ulaw", "alaw", "sln", "slin", "g722", "wav49", "g729", "ogg"})
CALLERID_PRESENTATION = {"caller_presentation": 0, "caller_presentation_txt": "Presentation Allowed, Not Screened"}


@dataclass(frozen=True)
class EventFilter:
    """An application's event filter (``PUT /applications/{name}/eventFilter``), with Asterisk's rule: a type on the
    disallowed list is never sent; with an allowed list, only the types on it are; an empty list filters nothing."""

    allowed: tuple[str, ...] = ()
    disallowed: tuple[str, ...] = ()

    def allows(self, event_type: str) -> bool:
        if event_type in self.disallowed:
            return False
        return not self.allowed or event_type in self.allowed

    def as_json(self) -> Json:
        return {
            "events_allowed": [{"type": t} for t in self.allowed],
            "events_disallowed": [{"type": t} for t in self.disallowed],
        }


class EventSink(Protocol):
    def deliver(self, app: str, event: Json) -> None: ...

    def is_connected(self, app: str) -> bool: ...


class Driver:
    """A channel's far end. The default does nothing: the channel just sits there until someone hangs it up."""

    def answered(self, ch: Channel) -> None:
        """The channel went Up (the app answered it or its far end answered)."""

    def bridge_changed(self, ch: Channel) -> None:
        """Someone entered or left the channel's bridge, or the channel itself moved."""

    def hanging_up(self, ch: Channel) -> None:
        """Called after StasisEnd and before ChannelDestroyed: the place where a Local peer hangs up."""

    def connected_changed(self, ch: Channel) -> None:
        """The bridging core changed the channel's connected line."""

    def destroyed(self, ch: Channel) -> None:
        """ChannelDestroyed is out."""

    def dtmf_sent(self, ch: Channel, digits: str, duration_ms: int) -> None:
        """The app sent DTMF on this channel towards its far end."""

    def continue_in_dialplan(self, core: Asterisk, ch: Channel, context: str, exten: str, priority: int) -> None:
        """The channel left Stasis into the dialplan. Unknown contexts end the call with cause 0."""
        core.continue_unknown(ch, context, exten, priority)


NULL_DRIVER = Driver()


class Asterisk:
    def __init__(self, clock: Clock, sink: EventSink, rng: random.Random, sounds: dict[str, float]) -> None:
        self.clock = clock
        self.sink = sink
        self.rng = rng
        self.sounds = {**DEFAULT_SOUNDS, **sounds}
        self.channels: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.playbacks: dict[str, Playback] = {}
        self.live_recordings: dict[str, LiveRecording] = {}
        self.stored_recordings: dict[str, StoredRecording] = {}
        self.global_vars: dict[str, str] = {}
        self.apps: set[str] = set()  # applications that have connected at least once
        self.event_filters: dict[str, EventFilter] = {}  # per application, as PUT .../eventFilter set them
        self.startup = clock.now()
        self._channel_seq = itertools.count()
        self.local_seq = itertools.count()  # shared by Local pairs and Recorder channels, as in Asterisk
        self._snoop_seq = itertools.count()
        # Every channel entering and leaving a bridge: (time, "enter"/"leave", bridge id, channel id, channel name).
        # What a test checks "no agent was ever in two conversations" against, from the media side.
        self.bridge_log: list[tuple[float, str, str, str, str]] = []
        self.counters: dict[str, int] = {
            "channels_created": 0,
            "channels_destroyed": 0,
            "stasis_start": 0,
            "inbound_stasis_start": 0,
            "stasis_rejected": 0,
            "events": 0,
        }

    # ------------------------------------------------------------------ ids and events
    def now(self) -> float:
        return self.clock.now()

    def new_channel_id(self) -> str:
        return f"{int(self.clock.now())}.{next(self._channel_seq)}"

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def emit(self, apps: Iterable[str], type_: str, fields: Json) -> None:
        ts: str | None = None
        filters = self.event_filters
        for app in apps:
            if filters and app in filters and not filters[app].allows(type_):
                continue
            if ts is None:
                ts = format_timestamp(self.clock.now())
            self.counters["events"] += 1
            self.sink.deliver(
                app, {"type": type_, "timestamp": ts, **fields, "asterisk_id": ASTERISK_ID, "application": app}
            )

    def channel_event(self, ch: Channel, type_: str, **fields: Any) -> None:
        apps = ch.watchers()
        if apps:
            fields["channel"] = ch.snapshot()
            self.emit(apps, type_, fields)

    # ------------------------------------------------------------------ channels
    def create_channel(self, tech: str, name: str, channel_id: str | None = None) -> Channel:
        ch = Channel(channel_id or self.new_channel_id(), name, tech, self.clock.now())
        ch.driver = NULL_DRIVER
        self.channels[ch.id] = ch
        self.counters["channels_created"] += 1
        return ch

    def get_channel(self, channel_id: str, message: str = "Channel not found") -> Channel:
        ch = self.channels.get(channel_id)
        if ch is None:
            raise AriError(404, message)
        return ch

    def control(self, channel_id: str) -> Channel:
        """A channel the app may control: it exists and is in Stasis."""
        ch = self.get_channel(channel_id)
        if ch.stasis_app is None:
            raise AriError(409, "Channel not in Stasis application")
        return ch

    def set_state(self, ch: Channel, state: str) -> None:
        if ch.state == state:
            return
        ch.state = state
        ch.touch()
        if state == "Up" and ch.answered_at is None:
            ch.answered_at = self.clock.now()
        self.channel_event(ch, "ChannelStateChange")

    def set_dialplan(self, ch: Channel, context: str, exten: str, priority: int, app: str, data: str) -> None:
        ch.context, ch.exten, ch.priority, ch.dialplan_app, ch.dialplan_data = context, exten, priority, app, data
        ch.touch()

    def dialplan_step(self, ch: Channel, app: str, data: str, priority: int | None = None) -> None:
        """The channel runs the next dialplan application (ChannelDialplan)."""
        ch.priority = ch.priority + 1 if priority is None else priority
        ch.dialplan_app, ch.dialplan_data = app, data
        ch.touch()
        self.channel_event(ch, "ChannelDialplan", dialplan_app=app, dialplan_app_data=data)

    def set_var(self, ch: Channel, name: str, value: str) -> None:
        ch.vars[name] = value
        self.channel_event(ch, "ChannelVarset", variable=name, value=value)

    def set_caller(self, ch: Channel, name: str | None = None, number: str | None = None) -> None:
        if name is not None:
            ch.caller_name = name
        if number is not None:
            ch.caller_number = number
        ch.touch()
        self.channel_event(ch, "ChannelCallerId", **CALLERID_PRESENTATION)

    def later(self, ch: Channel, delay: float, callback: Any) -> None:
        """A timer that dies with the channel."""

        def fire() -> None:
            if ch.alive:
                callback()

        ch.timers.append(self.clock.call_later(delay, fire))

    # ------------------------------------------------------------------ Stasis
    def enter_stasis(self, ch: Channel, app: str, args: list[str]) -> bool:
        """Stasis(app,args). False when the app has no WebSocket: Stasis() returns at once, as in Asterisk."""
        ch.dialplan_app, ch.dialplan_data = "Stasis", ",".join([app, *args])
        ch.touch()
        self.set_var(ch, "STASISSTATUS", "")
        if not self.sink.is_connected(app):
            self.counters["stasis_rejected"] += 1
            ch.vars["STASISSTATUS"] = "FAILED"
            return False
        ch.stasis_app = app
        ch.stasis_sessions += 1
        ch.touch()
        self.counters["stasis_start"] += 1
        self.channel_event(ch, "StasisStart", args=args)
        return True

    def leave_stasis(self, ch: Channel) -> None:
        if ch.stasis_app is not None:
            self.channel_event(ch, "StasisEnd")
            ch.stasis_app = None

    def hangup(self, ch: Channel, cause: int = 16, *, by_app: bool = False) -> None:
        """Hang a channel up: by the app (DELETE, a soft hangup) or by its far end (cause as given)."""
        if not ch.alive:
            return
        ch.hangup_cause = cause
        if by_app:
            self.channel_event(ch, "ChannelHangupRequest", cause=32, soft=True)
        else:
            self.channel_event(ch, "ChannelHangupRequest", cause=cause)
        self._flush_control(ch)
        if ch.bridge is not None:
            self.leave_bridge(ch, unsubscribe=False)
        for rec in [r for r in self.live_recordings.values() if r.target is ch]:
            self.finish_recording(rec)
        self.leave_stasis(ch)
        for snoop in list(ch.snoops):
            self._end_snoop(snoop)
        if ch.subscribed:
            for _ in range(ch.stasis_sessions):
                self.set_var(ch, "STASISSTATUS", "SUCCESS")
            if ch.origin is Origin.DIALPLAN:
                # The dialplan application returns and the channel's PBX thread hangs up: a soft request.
                self.channel_event(ch, "ChannelHangupRequest", cause=16, soft=True)
        ch.driver.hanging_up(ch)
        self.destroy(ch, cause)

    def destroy(self, ch: Channel, cause: int) -> None:
        """ChannelDestroyed (to the apps still watching) and removal."""
        ch.hangup_cause = cause
        if ch.bridge is not None:
            self.leave_bridge(ch, unsubscribe=False)
        # The dialplan application has returned: an originated channel is back in its dial application.
        outgoing = ch.origin is Origin.ORIGINATED
        ch.dialplan_app, ch.dialplan_data = ("AppDial2", "(Outgoing Line)") if outgoing else ("", "")
        ch.touch()
        self.channel_event(ch, "ChannelDestroyed", cause=cause, cause_txt=CAUSE_TEXT.get(cause, "Unknown"))
        for timer in ch.timers:
            timer.cancel()
        ch.timers.clear()
        ch.driver.destroyed(ch)
        if ch.snooped is not None and ch in ch.snooped.snoops:
            ch.snooped.snoops.remove(ch)
        self.channels.pop(ch.id, None)
        self.counters["channels_destroyed"] += 1

    def continue_unknown(self, ch: Channel, context: str, exten: str, priority: int) -> None:
        """Continuing to a context that does not exist: the PBX ends the call with cause 0."""
        ch.hangup_cause = 0
        if ch.subscribed:
            self.set_var(ch, "STASISSTATUS", "SUCCESS")
        self.set_dialplan(ch, context, exten, priority, ch.dialplan_app, ch.dialplan_data)
        ch.driver.hanging_up(ch)
        self.destroy(ch, 0)

    # ------------------------------------------------------------------ the channel command queue
    def run_command(self, ch: Channel, action: Any) -> asyncio.Future[None] | None:
        """Run a synchronous channel command now, or queue it behind a playback or DTMF (returns a future)."""
        q = ch.control
        if q.current is None and not q.items:
            action()
            return None
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        q.items.append(Command(action, fut))
        return fut

    def _pump(self, target: Channel | Bridge) -> None:
        q = target.control
        while q.current is None and q.items:
            item = q.items.popleft()
            q.current = item
            if isinstance(item, Playback):
                self._start_playback(target, item)
            elif isinstance(item, Command):
                q.current = None
                try:
                    item.run()
                except AriError as exc:
                    item.done.done() or item.done.set_exception(exc)
                else:
                    item.done.done() or item.done.set_result(None)
            else:
                self._start_dtmf(target, item)

    def _flush_control(self, target: Channel | Bridge) -> None:
        """The target is going away: the playing playback fails, queued ones start and fail, commands fail."""
        q = target.control
        current, q.current = q.current, None
        if isinstance(current, Playback):
            self._end_playback(current, "failed")
        elif isinstance(current, DtmfSend) and isinstance(target, Channel):
            target.driver.dtmf_sent(target, current.digits, current.duration_ms)
        while q.items:
            item = q.items.popleft()
            if isinstance(item, Playback):
                if item.stopped:
                    self._end_playback(item, "done")
                else:
                    item.state = "playing"
                    self._playback_event(item, "PlaybackStarted")
                    self._end_playback(item, "failed")
            elif isinstance(item, Command):
                item.done.done() or item.done.set_exception(AriError(404, "Channel not found"))

    # ------------------------------------------------------------------ DTMF
    def send_dtmf(self, ch: Channel, digits: str, before: int, between: int, duration: int, after: int) -> None:
        if duration < 0:
            # Asterisk reads the duration as unsigned: the send never ends within the call's lifetime.
            send = DtmfSend(digits, duration + 2**32, None)
        else:
            total = before + len(digits) * (duration + between) + after
            send = DtmfSend(digits, duration, total / 1000.0)
        ch.control.items.append(send)
        self._pump(ch)

    def _start_dtmf(self, target: Channel | Bridge, send: DtmfSend) -> None:
        if send.seconds is None or not isinstance(target, Channel):
            return

        def done() -> None:
            if target.control.current is send:
                target.control.current = None
                target.driver.dtmf_sent(target, send.digits, send.duration_ms)
                self._pump(target)

        self.later(target, send.seconds, done)

    def dtmf_received(self, ch: Channel, digit: str, duration_ms: int = 100) -> None:
        self.channel_event(ch, "ChannelDtmfReceived", digit=digit, duration_ms=duration_ms)
        for rec in list(self.live_recordings.values()):
            if rec.target is ch and rec.terminate_on != "none":
                if rec.terminate_on == "any" or digit == rec.terminate_on:
                    self.finish_recording(rec)

    # ------------------------------------------------------------------ playbacks
    def play(self, target: Channel | Bridge, media: list[str], playback_id: str | None, lang: str | None) -> Json:
        if not media or not media[0]:
            raise AriError(500, "Failed to queue media for playback")
        pid = playback_id or self.new_uuid()
        if pid in self.playbacks:
            raise AriError(409, "Playback with given id already exists")
        kind = "channel" if isinstance(target, Channel) else "bridge"
        pb = Playback(pid, media, target, f"{kind}:{target.id}")
        if lang:
            pb.language = lang
        self.playbacks[pid] = pb
        response = pb.to_json()  # Asterisk answers "queued" even when PlaybackStarted is already out
        if isinstance(target, Bridge) and target.type == "holding" and target.moh is not None:
            # A holding bridge takes one announcer and the MOH holds it.
            pb.state = "playing"
            self._playback_event(pb, "PlaybackStarted")
            self._end_playback(pb, "failed")
            return response
        target.control.items.append(pb)
        self._pump(target)
        if pb.state == "failed" and isinstance(target, Channel):
            return pb.to_json()  # the channel thread failed it before the response went out
        return response

    def _media_seconds(self, uri: str) -> float | bool | None:
        """Seconds of one media URI; None plays forever; False is a missing file; True an unplayable URI."""
        scheme, sep, rest = uri.partition(":")
        if not sep:
            return True
        if scheme == "sound":
            return self.sounds.get(rest, False)
        if scheme == "recording":
            rec = self.stored_recordings.get(rest)
            return True if rec is None else rec.duration
        if scheme == "digits":
            return DIGIT_SECONDS * len(rest)
        if scheme == "number":
            return DIGIT_SECONDS * max(1, len(rest.lstrip("-")))
        if scheme == "characters":
            return 0.6 * len(rest)
        if scheme == "tone":
            return None
        return True

    def _start_playback(self, target: Channel | Bridge, pb: Playback) -> None:
        if pb.stopped:
            self._end_playback(pb, "done")
            return
        total: float | None = 0.0
        for uri in pb.media:
            seconds = self._media_seconds(uri)
            if seconds is True:
                # Unsupported scheme, bare name, missing recording: started, then silently gone.
                pb.state = "playing"
                self._playback_event(pb, "PlaybackStarted")
                self.playbacks.pop(pb.id, None)
                target.control.current = None
                return
            if seconds is False:
                pb.state = "playing"
                self._playback_event(pb, "PlaybackStarted")
                self._end_playback(pb, "failed")
                return
            total = None if total is None or seconds is None else total + float(seconds)
        pb.duration = pb.remaining = total
        pb.state = "playing"
        self._playback_event(pb, "PlaybackStarted")
        self._schedule_playback_end(pb)

    def _schedule_playback_end(self, pb: Playback) -> None:
        pb.started_at = self.clock.now()
        if pb.remaining is not None:
            pb.timer = self.clock.call_later(pb.remaining, lambda: self._end_playback(pb, "done"))

    def _end_playback(self, pb: Playback, state: str) -> None:
        if pb.timer is not None:
            pb.timer.cancel()
            pb.timer = None
        pb.state = state
        self.playbacks.pop(pb.id, None)
        self._playback_event(pb, "PlaybackFinished")
        q = pb.target.control
        if q.current is pb:
            q.current = None
            if not (isinstance(pb.target, Channel) and not pb.target.alive):
                self._pump(pb.target)

    def _playback_event(self, pb: Playback, type_: str) -> None:
        target = pb.target
        if isinstance(target, Channel):
            apps = target.watchers()
        else:
            apps = set(target.apps)
            for c in target.channels:
                apps |= c.watchers()
        if apps:
            self.emit(apps, type_, {"playback": pb.to_json()})

    def get_playback(self, playback_id: str) -> Playback:
        pb = self.playbacks.get(playback_id)
        if pb is None:
            raise AriError(404, "Playback not found")
        return pb

    def stop_playback(self, pb: Playback) -> None:
        if pb.target.control.current is pb:
            self._end_playback(pb, "done")
        else:
            pb.state = "done"  # still queued: reported done now, PlaybackFinished when its turn comes
            pb.stopped = True

    def control_playback(self, pb: Playback, operation: str | None) -> None:
        if not operation:
            raise AriError(400, "Missing operation")
        if operation not in ("pause", "unpause", "restart", "reverse", "forward"):
            raise AriError(400, f"Invalid operation {operation}")
        if pb.target.control.current is not pb:
            raise AriError(409, "Playback not currently playing")
        now = self.clock.now()
        if operation == "pause" and pb.state == "playing":
            if pb.timer is not None:
                pb.timer.cancel()
                pb.timer = None
            if pb.remaining is not None:
                pb.remaining = max(0.0, pb.remaining - (now - pb.started_at))
            pb.state = "paused"
        elif operation == "unpause" and pb.state == "paused":
            pb.state = "playing"
            self._playback_event(pb, "PlaybackStarted")
            self._schedule_playback_end(pb)
        elif operation in ("restart", "reverse", "forward") and pb.state == "playing":
            if pb.timer is not None:
                pb.timer.cancel()
            elapsed = now - pb.started_at
            if pb.remaining is not None and pb.duration is not None:
                left = pb.remaining - elapsed
                left = {"restart": pb.duration, "reverse": min(pb.duration, left + 3.0), "forward": left - 3.0}[
                    operation
                ]
                pb.remaining = max(0.0, left)
            self._schedule_playback_end(pb)

    # ------------------------------------------------------------------ bridges
    def create_bridge(self, bridge_type: str | None, bridge_id: str | None, name: str | None) -> Bridge:
        kinds = {k.strip() for k in (bridge_type or "mixing").split(",") if k.strip()}
        if bridge_id and bridge_id in self.bridges:
            raise AriError(500, f"Unable to create bridge. Possible duplicate bridge id '{bridge_id}'")
        if not kinds or not kinds <= {"mixing", "holding", "dtmf_events", "proxy_media", "video_sfu", "video_single"}:
            raise AriError(500, f"Unable to create bridge. Possible duplicate bridge id '{bridge_id or '(null)'}'")
        bridge = Bridge(
            bridge_id or self.new_uuid(), name or "", "holding" if "holding" in kinds else "mixing", self.clock.now()
        )
        self.bridges[bridge.id] = bridge
        return bridge

    def get_bridge(self, bridge_id: str) -> Bridge:
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            raise AriError(404, "Bridge not found")
        return bridge

    def add_to_bridge(self, bridge: Bridge, channels: list[Channel]) -> None:
        for ch in channels:
            if ch.bridge is not None:
                self.leave_bridge(ch, unsubscribe=True)
            ch.bridge = bridge
            bridge.channels.append(ch)
            self.bridge_log.append((self.clock.now(), "enter", bridge.id, ch.id, ch.name))
            if ch.stasis_app is not None:
                bridge.apps.add(ch.stasis_app)
            self._bridge_channel_event(ch, bridge, "ChannelEnteredBridge")
        self.update_peers(bridge)
        for ch in channels:
            if ch.snooped is not None and ch.snooped.bridge is not None and ch.vars.get("SNOOP_WHISPER"):
                # Whispered audio reaching the snooped channel's bridge makes it re-announce its peers.
                self.update_peers(ch.snooped.bridge, force=True)
        self._notify_bridge(bridge)

    def leave_bridge(self, ch: Channel, *, unsubscribe: bool) -> None:
        bridge = ch.bridge
        if bridge is None:
            return
        if ch.vars.get("BRIDGEPEER"):
            self.set_var(ch, "BRIDGEPEER", "")
        bridge.channels.remove(ch)
        ch.bridge = None
        self.bridge_log.append((self.clock.now(), "leave", bridge.id, ch.id, ch.name))
        self._bridge_channel_event(ch, bridge, "ChannelLeftBridge")
        if unsubscribe and ch.stasis_app is not None:
            bridge.apps.discard(ch.stasis_app)
        if bridge.type == "holding" and not bridge.channels:
            bridge.moh = None
        self.update_peers(bridge)
        ch.driver.bridge_changed(ch)
        self._notify_bridge(bridge)

    def _bridge_channel_event(self, ch: Channel, bridge: Bridge, type_: str) -> None:
        apps = ch.watchers() | bridge.apps
        if apps:
            self.emit(apps, type_, {"bridge": bridge.snapshot(), "channel": ch.snapshot()})

    def _notify_bridge(self, bridge: Bridge) -> None:
        for c in list(bridge.channels):
            c.driver.bridge_changed(c)

    def update_peers(self, bridge: Bridge, *, force: bool = False) -> None:
        """BRIDGEPEER and connected line, as the bridging core maintains them for two or more participants."""
        if bridge.type == "holding":
            return
        names = [c.name for c in bridge.channels] + bridge.recorders
        if len(names) < 2:
            return
        for i, c in enumerate(bridge.channels):
            value = ",".join(reversed(names[:i] + names[i + 1 :]))
            if force or c.vars.get("BRIDGEPEER") != value:
                self.set_var(c, "BRIDGEPEER", value)
        if len(names) == 2:
            for i in reversed(range(len(bridge.channels))):
                c = bridge.channels[i]
                others = bridge.channels[:i] + bridge.channels[i + 1 :]
                peer = (others[0].caller_name, others[0].caller_number) if others else ("", "")
                if (c.conn_name, c.conn_number) != peer:
                    c.conn_name, c.conn_number = peer
                    c.touch()
                    self.channel_event(c, "ChannelConnectedLine")
                    c.driver.connected_changed(c)

    def remove_from_bridge(self, bridge: Bridge, channels: list[Channel]) -> None:
        for ch in channels:
            if ch.bridge is not bridge:
                raise AriError(422, "Channel not in this bridge")
        for ch in channels:
            self.leave_bridge(ch, unsubscribe=True)

    def destroy_bridge(self, bridge: Bridge) -> None:
        for ch in list(bridge.channels):
            self.leave_bridge(ch, unsubscribe=False)
        self._flush_control(bridge)
        for rec in [r for r in self.live_recordings.values() if r.target is bridge]:
            self.finish_recording(rec)
        self.bridges.pop(bridge.id, None)
        if bridge.apps:
            self.emit(bridge.apps, "BridgeDestroyed", {"bridge": bridge.snapshot()})

    # ------------------------------------------------------------------ recordings
    def record(
        self,
        target: Channel | Bridge,
        name: str | None,
        fmt: str | None,
        if_exists: str | None,
        max_duration: int,
        terminate_on: str,
    ) -> Json:
        if not name:
            raise AriError(500, "Error parsing request")
        if_exists = if_exists or "fail"
        if if_exists not in ("fail", "overwrite", "append"):
            raise AriError(400, "ifExists invalid")
        if fmt not in RECORDING_FORMATS:
            raise AriError(422, "specified format is unknown on this system")
        kind = "channel" if isinstance(target, Channel) else "bridge"
        exists = name in self.live_recordings or (name in self.stored_recordings and if_exists == "fail")
        if exists:
            if isinstance(target, Bridge):
                # Asterisk has already added the recorder to the bridge when the name check fails; it stays.
                target.recorders.append(f"Recorder/ARI-{next(self.local_seq):08x};2")
                self.update_peers(target)
            raise AriError(409, f"Recording '{name}' already exists and can not be overwritten")
        rec = LiveRecording(name, fmt, target, f"{kind}:{target.id}", self.clock.now(), terminate_on=terminate_on)
        self.live_recordings[name] = rec
        response = rec.to_json()
        rec.state = "recording"
        rec.resumed_at = self.clock.now()
        if isinstance(target, Bridge):
            rec.recorder_name = f"Recorder/ARI-{next(self.local_seq):08x};2"
            target.recorders.append(rec.recorder_name)
            self.update_peers(target)
        self._recording_event(rec, "RecordingStarted")
        if max_duration > 0:
            rec.timer = self.clock.call_later(max_duration, lambda: self.finish_recording(rec))
        return response

    def _recording_event(self, rec: LiveRecording, type_: str, **extra: Any) -> None:
        target = rec.target
        apps = target.watchers() if isinstance(target, Channel) else set(target.apps)
        if apps:
            self.emit(apps, type_, {"recording": {**rec.to_json(), **extra}})

    def get_live(self, name: str) -> LiveRecording:
        rec = self.live_recordings.get(name)
        if rec is None:
            raise AriError(404, "Recording not found")
        return rec

    def finish_recording(self, rec: LiveRecording, *, keep: bool = True) -> None:
        if self.live_recordings.get(rec.name) is not rec:
            return
        if rec.timer is not None:
            rec.timer.cancel()
        del self.live_recordings[rec.name]
        seconds = rec.recorded + (self.clock.now() - rec.resumed_at if rec.resumed_at is not None else 0.0)
        target = rec.target
        # A channel whose far end sends no audio (a Local half in Wait()) records no frames.
        if isinstance(target, Channel) and not target.sends_audio:
            seconds = 0.0
        if keep:
            rec.state = "done"
            self.stored_recordings[rec.name] = StoredRecording(rec.name, rec.format, seconds)
            self._recording_event(rec, "RecordingFinished", duration=int(seconds))
        else:
            rec.state = "canceled"
            self._recording_event(rec, "RecordingFinished", duration=int(seconds))
        if isinstance(target, Bridge) and rec.recorder_name in target.recorders:
            target.recorders.remove(rec.recorder_name)
            self.update_peers(target)

    def pause_recording(self, rec: LiveRecording, paused: bool) -> None:
        now = self.clock.now()
        if paused and rec.resumed_at is not None:
            rec.recorded += now - rec.resumed_at
            rec.resumed_at = None
            rec.state = "paused"
        elif not paused and rec.resumed_at is None:
            rec.resumed_at = now
            rec.state = "recording"

    def get_stored(self, name: str) -> StoredRecording:
        rec = self.stored_recordings.get(name)
        if rec is None:
            raise AriError(404, "Recording not found")
        return rec

    # ------------------------------------------------------------------ snoop
    def snoop(self, ch: Channel, spy: str, whisper: str, app: str, args: list[str], snoop_id: str | None) -> Json:
        if snoop_id and snoop_id in self.channels:
            raise AriError(409, "Channel with given unique ID already exists")
        snoop = self.create_channel("Snoop", f"Snoop/{ch.id}-{next(self._snoop_seq):08x}", snoop_id)
        snoop.state = "Up"
        snoop.origin = Origin.SNOOP
        snoop.snooped = ch
        if whisper != "none":
            snoop.vars["SNOOP_WHISPER"] = whisper
        ch.snoops.append(snoop)
        response = dict(snoop.snapshot())
        if ch.bridge is not None:
            self.update_peers(ch.bridge, force=True)
        if not self.enter_stasis(snoop, app, args):
            self.destroy(snoop, 16)
        return response

    def _end_snoop(self, snoop: Channel) -> None:
        """The snooped channel is gone: its snoop ends without a hangup request."""
        if not snoop.alive:
            return
        snoop.hangup_cause = 16
        self._flush_control(snoop)
        if snoop.bridge is not None:
            self.leave_bridge(snoop, unsubscribe=False)
        self.leave_stasis(snoop)
        self.destroy(snoop, 16)

    # ------------------------------------------------------------------ applications
    def application_json(self, app: str) -> Json:
        return {
            "name": app,
            "channel_ids": [c.id for c in self.channels.values() if app in c.subscribed or c.stasis_app == app],
            "bridge_ids": [b.id for b in self.bridges.values() if app in b.apps],
            "endpoint_ids": [],
            "device_names": [],
            **self.event_filters.get(app, EventFilter()).as_json(),
        }

    def set_event_filter(self, app: str, body: Any) -> None:
        """PUT /applications/{app}/eventFilter (Asterisk 13.26+ and 16.3+), as Asterisk applies the body: none or
        ``{}`` empties both lists; a list given is set (``[]`` empties it), a list not given is left as it was.
        Anything else is a 400."""
        current = self.event_filters.get(app, EventFilter())
        if body is None or body == {}:
            self.event_filters.pop(app, None)
            return
        if not isinstance(body, dict):
            raise AriError(400, "Invalid event filter")
        lists = {}
        for name in ("allowed", "disallowed"):
            if name not in body:
                continue
            value = body[name]
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                raise AriError(400, f"Invalid event filter: {name} must be a list of objects")
            lists[name] = tuple(str(item["type"]) for item in value if isinstance(item.get("type"), str))
        updated = EventFilter(lists.get("allowed", current.allowed), lists.get("disallowed", current.disallowed))
        if updated.allowed or updated.disallowed:
            self.event_filters[app] = updated
        else:
            self.event_filters.pop(app, None)

    def subscribe(self, app: str, sources: list[str], subscribe: bool) -> None:
        targets: list[Channel | Bridge] = []
        for source in sources:
            scheme, _, ident = source.partition(":")
            if scheme == "channel":
                ch = self.channels.get(ident)
                if ch is None:
                    raise AriError(422, "Event source does not exist")
                targets.append(ch)
            elif scheme == "bridge":
                bridge = self.bridges.get(ident)
                if bridge is None:
                    raise AriError(422, "Event source does not exist")
                targets.append(bridge)
            else:
                raise AriError(400, "Invalid event source URI scheme")
        for target in targets:
            apps = target.subscribed if isinstance(target, Channel) else target.apps
            if subscribe:
                apps.add(app)
            else:
                apps.discard(app)
