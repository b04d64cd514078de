"""Local channel pairs and the small dialplan of the recorded transcripts, as scripted behaviours.

`Local/<exten>@<context>` creates two channels: `;1` is what the originator dials, `;2` runs `<context>`. The
contexts below (cc-test, cc-inbound, cc-caller-*, cc-answer*, cc-noanswer, cc-busy, cc-congestion, cc-amd-*)
reproduce the dialplan listed in the transcripts' README, including the events Asterisk raises about the
non-Stasis half (ChannelDialplan, ChannelCallerId, ...), because an app that originated the pair receives them.
Real trunk and phone calls are single channels (see `phones.py`); nothing here is used for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from callcenter_ari.sim.core import CALLERID_PRESENTATION, Asterisk, Driver
from callcenter_ari.sim.model import Channel, Origin
from callcenter_ari.sim.wire import Json

AMD_MACHINE = ("MACHINE", "MAXWORDS-3-2", 2.862)
AMD_HUMAN = ("HUMAN", "HUMAN-803-800", 2.963)
AMD_SILENCE = ("NOTSURE", "TOOLONG-5000", 5.0)
ANSWER_MEDIA_WAIT = 0.5  # Answer() waits up to 500 ms for media before the next priority
FRAME_LATENCY = 0.015  # a control frame crossing the Local pair


@dataclass(eq=False)
class LocalPair:
    core: Asterisk
    one: Channel
    two: Channel
    exten: str
    context: str
    dialstring: str
    app: str | None  # originate with app=: ;1 enters this app when the far end answers
    app_args: list[str]
    then: tuple[str, str] | None  # originate with context=/extension=: where ;1 goes once answered
    amd: tuple[str, str, float] = AMD_SILENCE
    two_cause: int | None = None  # the cause ;2's own dialplan sets (Busy, Congestion)
    original_connected: tuple[str, str] = ("", "")
    waiting: bool = False  # ;2 reached its Wait() after Answer()
    one_caller_stale: bool = False  # ;2's connected line reached ;1 as caller id, reported only at the end
    pending_dtmf: list[tuple[str, int]] = field(default_factory=list)

    # ------------------------------------------------------------------ helpers
    def dial(self, status: str) -> None:
        if self.app is not None:
            fields: Json = {"dialstatus": status, "forward": "", "dialstring": self.dialstring}
            fields["peer"] = self.one.snapshot()
            self.core.emit(self.one.watchers(), "Dial", fields)

    def far_answered(self) -> None:
        """;2 answered: ;1 comes up, and either enters the app or runs the originate's context."""
        core = self.core
        core.set_state(self.two, "Up")
        if self.one.state == "Up" or not self.one.alive:
            return
        core.set_state(self.one, "Up")
        if self.app is not None:
            self.dial("ANSWER")
            self.one.dialplan_app, self.one.dialplan_data = "Stasis", ",".join([self.app, *self.app_args])
            if not core.enter_stasis(self.one, self.app, self.app_args):
                core.hangup(self.one, 16)
        elif self.then is not None:
            run_context(self, self.one, *self.then)

    def after_answer_wait(self) -> None:
        """;2 moves from Answer() to Wait(300): early if a connected-line frame arrives, else after 500 ms."""
        core = self.core
        core.later(self.two, ANSWER_MEDIA_WAIT, self._start_wait)

    def _start_wait(self) -> None:
        if self.waiting or not self.two.alive:
            return
        self.waiting = True
        one, two = self.one, self.two
        changed = (one.conn_name, one.conn_number) != (two.caller_name, two.caller_number)
        two.caller_name, two.caller_number = one.conn_name, one.conn_number
        self.core.dialplan_step(two, "Wait", "300", priority=2)
        if changed:
            self.core.channel_event(two, "ChannelCallerId", **CALLERID_PRESENTATION)
        self.core.later(self.two, 300.0, lambda: self.core.hangup(self.two, 16))

    def _propagate_connected(self) -> None:
        """;1's connected line reaches ;2 as its caller id (updated before ;2's next dialplan step shows)."""
        one, two = self.one, self.two
        if (one.conn_name, one.conn_number) != (two.caller_name, two.caller_number):
            self.core.set_caller(two, one.conn_name, one.conn_number)


class LocalDriver(Driver):
    def __init__(self, pair: LocalPair, half: int) -> None:
        self.pair = pair
        self.half = half

    def answered(self, ch: Channel) -> None:
        if self.half == 2:
            self.pair.far_answered()
        else:
            # The app answered ;1 (rare): the far end sees the answer too.
            self.pair.core.set_state(self.pair.two, "Up")

    def connected_changed(self, ch: Channel) -> None:
        pair = self.pair
        if self.half == 2 and pair.one.alive:
            pair.one_caller_stale = True
        if self.half == 1 and pair.two.alive and pair.two.dialplan_app in ("Answer", "Wait"):
            if pair.waiting:
                pair.core.later(pair.two, FRAME_LATENCY, pair._propagate_connected)
            else:
                pair.core.later(pair.two, FRAME_LATENCY, pair._start_wait)

    def destroyed(self, ch: Channel) -> None:
        if self.half == 1 and self.pair.one_caller_stale:
            self.pair.core.channel_event(ch, "ChannelCallerId", **CALLERID_PRESENTATION)

    def dtmf_sent(self, ch: Channel, digits: str, duration_ms: int) -> None:
        other = self.pair.two if self.half == 1 else self.pair.one
        if ch.alive:
            for digit in digits:
                self.pair.core.dtmf_received(other, digit, duration_ms)
        else:
            self.pair.pending_dtmf.extend((d, duration_ms) for d in digits)

    def hanging_up(self, ch: Channel) -> None:
        pair = self.pair
        core = pair.core
        other = pair.two if self.half == 1 else pair.one
        if self.half == 1 and pair.one_caller_stale:
            # ;2's connected line reached ;1 as its caller id; Asterisk reports it after ;1 is gone.
            ch.caller_name, ch.caller_number = pair.two.conn_name, pair.two.conn_number
            ch.touch()
        if not other.alive:
            return
        cause = ch.hangup_cause if ch.hangup_cause in (0, 19) else 16
        _hangup_other(core, pair, other, cause)

    def continue_in_dialplan(self, core: Asterisk, ch: Channel, context: str, exten: str, priority: int) -> None:
        if context == "cc-amd-stasis":
            run_amd(core, ch, self.pair.amd, self.pair.app or "callcenter")
            return
        if context in LOCAL_CONTEXTS:
            run_context(self.pair, ch, context, exten)
            return
        core.continue_unknown(ch, context, exten, priority)
        # Asterisk reports the originated half back in its dial application after it is gone.
        core.channel_event(ch, "ChannelDialplan", dialplan_app="AppDial2", dialplan_app_data="(Outgoing Line)")


def _hangup_other(core: Asterisk, pair: LocalPair, other: Channel, cause: int) -> None:
    """The peer of a hung-up half: hangup request with the cause, then its own dialplan ends."""
    if other is pair.two and other.dialplan_app == "Playback":
        other.hangup_cause = cause
        core.channel_event(other, "ChannelHangupRequest", cause=cause)
        core.set_var(other, "PLAYBACKSTATUS", "SUCCESS")
        other.hangup_cause = None
        _finish_two(core, pair, other, cause)
        return
    if other is pair.two and pair.pending_dtmf:
        other.hangup_cause = cause
        core.channel_event(other, "ChannelHangupRequest", cause=cause)
        for digit, duration in pair.pending_dtmf:
            core.channel_event(other, "ChannelDtmfReceived", digit=digit, duration_ms=duration)
        other.hangup_cause = None
        _finish_two(core, pair, other, cause)
        return
    core.hangup(other, cause)


def _finish_two(core: Asterisk, pair: LocalPair, two: Channel, cause: int) -> None:
    two.hangup_cause = cause
    if two.subscribed:
        core.channel_event(two, "ChannelHangupRequest", cause=16, soft=True)
    core.destroy(two, pair.two_cause if pair.two_cause is not None else cause)


# ---------------------------------------------------------------------- contexts
def _caller_common(pair: LocalPair, ch: Channel, exten: str, context: str) -> None:
    core = pair.core
    if ch.state != "Up":
        core.dialplan_step(ch, "Answer", "", priority=1)
        if ch is pair.two:
            pair.far_answered()
        else:
            core.set_state(ch, "Up")
    core.later(ch, 120.0, lambda: core.hangup(ch, 16))  # TIMEOUT(absolute)=120


def ctx_caller_silent(pair: LocalPair, ch: Channel, exten: str) -> None:
    core = pair.core
    core.set_dialplan(ch, "cc-caller-silent", exten, 1, "Answer", "")
    _caller_common(pair, ch, exten, "cc-caller-silent")
    core.set_dialplan(ch, "cc-caller-silent", exten, 3, "Playback", "silence/10")
    if ch is pair.one:
        _silence_loop(pair, ch)


def _silence_loop(pair: LocalPair, ch: Channel) -> None:
    """Playback(silence/10) in a loop: between two files ;1 reads the connected line ;2 got from its bridge."""

    def lap() -> None:
        if pair.one_caller_stale:
            pair.one_caller_stale = False
            ch.caller_name, ch.caller_number = pair.two.conn_name, pair.two.conn_number
            ch.touch()
        pair.core.later(ch, 10.0, lap)

    pair.core.later(ch, 10.0, lap)


def ctx_caller_dtmf(pair: LocalPair, ch: Channel, exten: str) -> None:
    core = pair.core
    core.set_dialplan(ch, "cc-caller-dtmf", exten, 1, "Answer", "")
    _caller_common(pair, ch, exten, "cc-caller-dtmf")
    core.set_dialplan(ch, "cc-caller-dtmf", exten, 3, "Playback", "silence/2")
    other = pair.two if ch is pair.one else pair.one
    # SendDTMF(1) after 2 s of silence, then 42# after 2 more: as the Stasis half receives them.
    for at, digit in ((2.2, "1"), (4.65, "4"), (5.0, "2"), (5.35, "#")):
        core.later(ch, at, lambda d=digit: core.dtmf_received(other, d, 100))


def ctx_caller_hangup(pair: LocalPair, ch: Channel, exten: str) -> None:
    core = pair.core
    core.set_dialplan(ch, "cc-caller-hangup", exten, 1, "Answer", "")
    if ch.state != "Up":
        if ch is pair.two:
            pair.far_answered()
        else:
            core.set_state(ch, "Up")
    core.set_dialplan(ch, "cc-caller-hangup", exten, 2, "Playback", "silence/3")
    core.later(ch, 3.0, lambda: core.hangup(ch, 16))


def ctx_test(pair: LocalPair, ch: Channel, exten: str) -> None:
    """[cc-test]: Stasis(callcenter,<exten>) while unanswered, then Hangup()."""
    core = pair.core
    if len(exten) == 1 or exten == "s":
        args: list[str] = []
        core.set_dialplan(ch, "cc-test", "s", 1, "", "")
    else:
        args = [exten]
        core.dialplan_step(ch, "NoOp", f"cc-test {exten}", priority=1)
    core.dialplan_step(ch, "Stasis", ",".join(["callcenter", *args]), priority=2)
    if not core.enter_stasis(ch, "callcenter", args):
        core.hangup(ch, 16)


def ctx_inbound(pair: LocalPair, ch: Channel, exten: str) -> None:
    """[cc-inbound]: Stasis(callcenter,inbound,local,<exten>) while unanswered, as a trunk call enters the app
    (the context real-asterisk/build.sh adds, and the real-Asterisk surge places its callers through)."""
    core = pair.core
    core.dialplan_step(ch, "NoOp", f"cc-inbound {exten}", priority=1)
    args = ["inbound", "local", exten]
    core.dialplan_step(ch, "Stasis", ",".join(["callcenter", *args]), priority=2)
    if not core.enter_stasis(ch, "callcenter", args):
        core.hangup(ch, 16)


def ctx_answer(pair: LocalPair, ch: Channel, exten: str) -> None:
    core = pair.core
    pair.two.sends_audio = pair.one.sends_audio = False
    if len(exten) == 1:
        core.dialplan_step(ch, "Goto", "cc-answer,s,1", priority=1)
        core.set_dialplan(ch, "cc-answer", "s", 1, "Goto", "cc-answer,s,1")
    core.dialplan_step(ch, "Answer", "", priority=1)
    pair.far_answered()
    pair.after_answer_wait()


def ctx_answer_delay(pair: LocalPair, ch: Channel, exten: str) -> None:
    core = pair.core
    pair.two.sends_audio = pair.one.sends_audio = False
    _ringing(pair, ch, exten)
    delay = float(exten) if exten.isdigit() else 0.0

    def answer() -> None:
        core.dialplan_step(ch, "Answer", "", priority=3)
        pair.far_answered()
        pair.after_answer_wait()

    core.later(ch, delay, answer)


def _ringing(pair: LocalPair, ch: Channel, wait: str) -> None:
    core = pair.core
    core.dialplan_step(ch, "Ringing", "", priority=1)
    core.set_state(pair.one, "Ringing")
    core.dialplan_step(ch, "Wait", wait, priority=2)
    pair.dial("RINGING")


def ctx_noanswer(pair: LocalPair, ch: Channel, exten: str) -> None:
    _ringing(pair, ch, "600")
    pair.core.later(ch, 600.0, lambda: pair.core.hangup(ch, 16))


def _refuse(pair: LocalPair, ch: Channel, app: str, status: str, cause: int) -> None:
    core = pair.core
    core.dialplan_step(ch, app, "10", priority=1)
    core.set_state(ch, "Busy")
    pair.dial(status)
    pair.two_cause = cause
    # The originator sees the dial status and drops ;1 (cause 0); ;2 then ends with its own cause.
    core.channel_event(pair.two, "ChannelHangupRequest", cause=0)
    core.destroy(pair.one, 0)
    _finish_two(core, pair, pair.two, cause)


def ctx_busy(pair: LocalPair, ch: Channel, exten: str) -> None:
    _refuse(pair, ch, "Busy", "BUSY", 17)


def ctx_congestion(pair: LocalPair, ch: Channel, exten: str) -> None:
    _refuse(pair, ch, "Congestion", "CONGESTION", 34)


def _playback_loop(pair: LocalPair, ch: Channel, first: tuple[str, float], loop: tuple[str, float]) -> None:
    core = pair.core

    def play(item: tuple[str, float], priority: int) -> None:
        core.dialplan_step(ch, "Playback", item[0], priority=priority)
        core.later(ch, item[1], lambda: played(item))

    def played(item: tuple[str, float]) -> None:
        core.set_var(ch, "PLAYBACKSTATUS", "SUCCESS")
        play(loop, 3)

    core.later(ch, ANSWER_MEDIA_WAIT, lambda: play(first, 2))


def ctx_amd_machine(pair: LocalPair, ch: Channel, exten: str) -> None:
    pair.amd = AMD_MACHINE
    pair.core.dialplan_step(ch, "Answer", "", priority=1)
    pair.far_answered()
    congrats = pair.core.sounds["demo-congrats"]
    _playback_loop(pair, ch, ("demo-congrats", congrats), ("demo-congrats", congrats))


def ctx_amd_human(pair: LocalPair, ch: Channel, exten: str) -> None:
    pair.amd = AMD_HUMAN
    pair.core.dialplan_step(ch, "Answer", "", priority=1)
    pair.far_answered()
    _playback_loop(pair, ch, ("silence/1&hello", 1.787), ("silence/10", 10.0))


LOCAL_CONTEXTS: dict[str, Callable[[LocalPair, Channel, str], None]] = {
    "cc-test": ctx_test,
    "cc-inbound": ctx_inbound,
    "cc-caller-silent": ctx_caller_silent,
    "cc-caller-dtmf": ctx_caller_dtmf,
    "cc-caller-hangup": ctx_caller_hangup,
    "cc-answer": ctx_answer,
    "cc-answer-delay": ctx_answer_delay,
    "cc-noanswer": ctx_noanswer,
    "cc-busy": ctx_busy,
    "cc-congestion": ctx_congestion,
    "cc-amd-machine": ctx_amd_machine,
    "cc-amd-human": ctx_amd_human,
}


def run_context(pair: LocalPair, ch: Channel, context: str, exten: str) -> None:
    program = LOCAL_CONTEXTS.get(context)
    if program is None:
        pair.core.hangup(ch, 0)
        return
    if ch.dialplan_app != "Stasis":
        pair.core.set_dialplan(ch, context, exten, 1, ch.dialplan_app, ch.dialplan_data)
    program(pair, ch, exten)


def run_amd(core: Asterisk, ch: Channel, result: tuple[str, str, float], app: str) -> None:
    """[cc-amd-stasis]: AMD(), then Stasis(<app>,amd,${AMDSTATUS},${AMDCAUSE})."""
    status, cause, seconds = result
    core.set_dialplan(ch, "cc-amd-stasis", "s", 1, ch.dialplan_app, ch.dialplan_data)
    core.dialplan_step(ch, "AMD", "", priority=1)

    def done() -> None:
        core.set_var(ch, "AMDSTATUS", status)
        core.set_var(ch, "AMDCAUSE", cause)
        args = ["amd", status, cause]
        core.dialplan_step(ch, "Stasis", ",".join([app, *args]), priority=2)
        if not core.enter_stasis(ch, app, args):
            core.hangup(ch, 16)

    core.later(ch, seconds, done)


def originate_local(
    core: Asterisk,
    resource: str,
    *,
    app: str | None,
    app_args: list[str],
    context: str | None,
    extension: str | None,
    caller: tuple[str, str] | None,
    timeout: float,
    channel_id: str | None,
    other_id: str | None,
) -> Json:
    target = resource.split("/", 1)[0]
    exten, _, dest_context = target.partition("@")
    dest_context = dest_context or "default"
    seq = next(core.local_seq)
    base = f"Local/{exten}@{dest_context}-{seq:08x}"
    one = core.create_channel("Local", base + ";1", channel_id)
    two = core.create_channel("Local", base + ";2", other_id or (f"{channel_id};2" if channel_id else None))
    name, number = caller or ("", "")
    for ch in (one, two):
        ch.caller_name = ch.conn_name = name
        ch.caller_number = ch.conn_number = number
    core.set_dialplan(one, dest_context, exten, 1, "AppDial2", "(Outgoing Line)")
    core.set_dialplan(two, dest_context, exten, 1, "", "")
    two.state = "Ring"
    then = None if app is not None else (context or "default", extension or "s")
    pair = LocalPair(core, one, two, exten, dest_context, resource, app, app_args, then)
    one.driver = LocalDriver(pair, 1)
    two.driver = LocalDriver(pair, 2)
    if app is not None:
        one.origin = Origin.ORIGINATED
        one.subscribed.add(app)
        two.subscribed.add(app)  # the app hears about the other half of a pair it originated
    response = dict(one.snapshot())
    if dest_context not in LOCAL_CONTEXTS:
        core.destroy(two, 0)
        core.destroy(one, 0)
        return response
    if caller is not None:
        core.set_caller(two)
        core.channel_event(two, "ChannelConnectedLine")
    pair.dial("")

    def give_up() -> None:
        if one.alive and one.state != "Up":
            core.hangup(one, 19) if app is None else _no_answer(core, pair)

    one.timers.append(core.clock.call_later(timeout, give_up))
    run_context(pair, two, dest_context, exten)
    return response


def _no_answer(core: Asterisk, pair: LocalPair) -> None:
    two = pair.two
    core.channel_event(two, "ChannelHangupRequest", cause=19)
    core.destroy(pair.one, 19)
    _finish_two(core, pair, two, 19)
