"""The inbound call, as a sans-IO state machine.

Theory of operation
-------------------
A call moves through phases: ``new`` -> ``greeting`` -> ``queued`` -> ``ringing`` -> ``talking`` -> ``ended``
(``queued`` and ``ringing`` repeat when an agent does not answer; a call whose DID has no queue ends after the
greeting). ``handle(input, now)`` looks the (phase, input type) pair up in ``_TRANSITIONS`` and returns the
commands to carry out; the record it holds is what the runtime persists after every step. Inputs that do not
apply to the current phase (a late PlaybackFinished, a second hang-up) are ignored: they come from the network,
where such races are normal, and ignoring them changes nothing.

Time is an input: timeouts are ``SetTimer`` commands answered later by ``Timeout`` inputs, so a test of a
ten-minute wait runs in microseconds.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from callcenter_ari.calls.messages import (
    AgentConnected,
    AgentFailed,
    AgentFinished,
    AgentGone,
    AgentUp,
    Answer,
    CallerGone,
    CancelTimer,
    Command,
    Connect,
    Dequeue,
    DestroyBridge,
    Emit,
    Enqueue,
    Hangup,
    Input,
    MohStart,
    MohStop,
    Offered,
    Originate,
    Play,
    PlaybackDone,
    ReleaseAgent,
    Resume,
    SetTimer,
    Start,
    Timeout,
)
from callcenter_ari.store.records import CallRecord


class CallSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How this call is treated, resolved from the configuration by its DID."""

    greeting: str = ""
    queue: str = ""
    priority: int = 0
    moh_class: str = ""
    ring_timeout: float = 15.0
    max_wait: float = 600.0
    goodbye: str = ""


class InboundCall:
    def __init__(self, record: CallRecord, settings: CallSettings) -> None:
        self.record = record
        self.settings = settings
        self._timers: set[str] = set()

    @property
    def ended(self) -> bool:
        return self.record.phase == "ended"

    def handle(self, message: Input, now: float) -> list[Command]:
        step = _TRANSITIONS.get((self.record.phase, type(message)))
        if step is None:
            return []
        return step(self, message, now)

    # ---- steps -------------------------------------------------------------------------------------------

    def _start(self, _: Start, now: float) -> list[Command]:
        call = self.record
        call.answered_at = now
        commands: list[Command] = [
            Answer(call.channel_id),
            Emit("call.started", self._fields(now, source=call.source, caller_name=call.caller_name)),
        ]
        if self.settings.greeting:
            call.phase = "greeting"
            commands.append(Play(call.channel_id, self.settings.greeting, self._greeting_id))
            return commands
        return commands + self._after_greeting(now)

    def _greeting_done(self, message: PlaybackDone, now: float) -> list[Command]:
        if message.playback_id != self._greeting_id:
            return []
        return self._after_greeting(now)

    def _after_greeting(self, now: float) -> list[Command]:
        call, settings = self.record, self.settings
        if not settings.queue:
            return [Hangup(call.channel_id), *self._end("completed", now)]
        call.phase = "queued"
        call.queue = settings.queue
        call.priority = settings.priority
        call.enqueued_at = now
        return [
            MohStart(call.channel_id, settings.moh_class),
            Enqueue(settings.queue, settings.priority, now),
            self._set_timer("max_wait", now + settings.max_wait),
            Emit("call.queued", self._fields(now, queue=settings.queue, priority=settings.priority)),
        ]

    def _offered(self, message: Offered, now: float) -> list[Command]:
        call = self.record
        call.phase = "ringing"
        call.agent_id = message.agent_id
        call.offers += 1
        call.agent_channel = f"{call.call_id}-a{call.offers}"
        ring = self.settings.ring_timeout
        return [
            Originate(
                message.endpoint,
                call.agent_channel,
                ("agent", message.agent_id, call.call_id),
                timeout=max(1, round(ring)),
                caller_id=f'"{call.caller_name}" <{call.caller}>' if call.caller_name else call.caller,
            ),
            # Asterisk ends an unanswered originate itself; this is the backstop if that event never comes.
            self._set_timer("ring", now + ring + 5.0),
            Emit("call.offered", self._fields(now, agent=message.agent_id, queue=call.queue)),
        ]

    def _agent_up(self, message: AgentUp, now: float) -> list[Command]:
        call = self.record
        if message.channel_id != call.agent_channel:
            return []
        call.phase = "talking"
        call.connected_at = now
        call.bridge_id = f"{call.call_id}-b"
        wait = now - (call.enqueued_at or now)
        return [
            self._cancel_timer("ring"),
            self._cancel_timer("max_wait"),
            MohStop(call.channel_id),
            Connect(call.bridge_id, (call.channel_id, call.agent_channel)),
            AgentConnected(call.agent_id),
            Emit("call.answered", self._fields(now, agent=call.agent_id, queue=call.queue, wait=round(wait, 3))),
        ]

    def _agent_failed(self, message: AgentFailed | AgentGone | Timeout, now: float) -> list[Command]:
        call = self.record
        if isinstance(message, Timeout) and message.name != "ring":
            return []
        if isinstance(message, AgentFailed):
            reason = message.reason
        elif isinstance(message, AgentGone):
            reason = _FAILURE_BY_CAUSE.get(message.cause or 0, "failed")
        else:
            reason = "ring_no_answer"
        agent, call.agent_id, call.phase = call.agent_id, "", "queued"
        return [
            self._cancel_timer("ring"),
            Hangup(call.agent_channel),
            ReleaseAgent(agent, reason),
            # The call goes back at its original place: its enqueue time is unchanged.
            Enqueue(call.queue, call.priority, call.enqueued_at or now),
            Emit("call.agent_failed", self._fields(now, agent=agent, reason=reason)),
        ]

    def _caller_gone_waiting(self, message: CallerGone, now: float) -> list[Command]:
        call = self.record
        call.hangup_cause = message.cause
        commands: list[Command] = [Dequeue(call.queue)]
        if call.phase == "ringing":
            commands += [Hangup(call.agent_channel), ReleaseAgent(call.agent_id, "caller_abandoned")]
        return commands + self._end("abandoned", now)

    def _caller_gone_early(self, message: CallerGone, now: float) -> list[Command]:
        self.record.hangup_cause = message.cause
        return self._end("hung_up_in_ivr", now)

    def _max_wait(self, message: Timeout, now: float) -> list[Command]:
        call = self.record
        if message.name != "max_wait":
            return []
        return [Dequeue(call.queue), Hangup(call.channel_id), *self._end("max_wait", now)]

    def _talk_over(self, message: CallerGone | AgentGone, now: float) -> list[Command]:
        call = self.record
        other = call.agent_channel if isinstance(message, CallerGone) else call.channel_id
        call.hangup_cause = message.cause
        return [
            Hangup(other),
            DestroyBridge(call.bridge_id),
            AgentFinished(call.agent_id),
            *self._end("completed", now, released_by="caller" if isinstance(message, CallerGone) else "agent"),
        ]

    def _resume(self, _: Resume, now: float) -> list[Command]:
        call = self.record
        commands: list[Command] = [Emit("call.resumed", self._fields(now, phase=call.phase))]
        if call.phase in ("new", "greeting"):
            return commands + self._after_greeting(now)
        if call.phase == "queued":
            enqueued_at = call.enqueued_at or now
            return [
                *commands,
                MohStart(call.channel_id, self.settings.moh_class),
                Enqueue(call.queue, call.priority, enqueued_at),
                self._set_timer("max_wait", enqueued_at + self.settings.max_wait),
            ]
        if call.phase == "ringing":
            return commands + self._agent_failed(AgentFailed(reason="restart"), now)
        return commands  # talking: both legs are still bridged in Asterisk; wait for a hang-up

    # ---- helpers -----------------------------------------------------------------------------------------

    def _end(self, outcome: str, now: float, **extra: object) -> list[Command]:
        call = self.record
        call.phase = "ended"
        call.outcome = outcome
        call.ended_at = now
        commands: list[Command] = [CancelTimer(name) for name in sorted(self._timers)]
        self._timers.clear()
        talk = now - call.connected_at if call.connected_at is not None else None
        wait = (call.connected_at or now) - call.enqueued_at if call.enqueued_at is not None else None
        fields = self._fields(now, outcome=outcome, queue=call.queue, agent=call.agent_id, cause=call.hangup_cause)
        fields.update(extra)
        if wait is not None:
            fields["wait"] = round(wait, 3)
        if talk is not None:
            fields["talk"] = round(talk, 3)
        commands.append(Emit("call.ended", fields))
        return commands

    def _set_timer(self, name: str, at: float) -> SetTimer:
        self._timers.add(name)
        return SetTimer(name, at)

    def _cancel_timer(self, name: str) -> CancelTimer:
        self._timers.discard(name)
        return CancelTimer(name)

    def _fields(self, now: float, **extra: object) -> dict[str, object]:
        call = self.record
        return {"at": now, "call_id": call.call_id, "caller": call.caller, "did": call.did, **extra}

    @property
    def _greeting_id(self) -> str:
        return f"{self.record.call_id}-greeting"


# Q.850 causes of an agent leg that never came up, as the reason the ACD records for the agent.
_FAILURE_BY_CAUSE = {
    17: "busy",
    18: "ring_no_answer",
    19: "ring_no_answer",
    1: "unavailable",
    3: "unavailable",
    20: "unavailable",
    21: "rejected",
    34: "unavailable",
    38: "unavailable",
}

# Each step takes the machine, one specific input type and the time; the table guarantees the type matches.
_Step = Callable[..., list[Command]]

_TRANSITIONS: dict[tuple[str, type[Input]], _Step] = {
    ("new", Start): InboundCall._start,
    ("new", Resume): InboundCall._resume,
    ("new", CallerGone): InboundCall._caller_gone_early,
    ("greeting", PlaybackDone): InboundCall._greeting_done,
    ("greeting", Resume): InboundCall._resume,
    ("greeting", CallerGone): InboundCall._caller_gone_early,
    ("queued", Offered): InboundCall._offered,
    ("queued", CallerGone): InboundCall._caller_gone_waiting,
    ("queued", Timeout): InboundCall._max_wait,
    ("queued", Resume): InboundCall._resume,
    ("ringing", AgentUp): InboundCall._agent_up,
    ("ringing", AgentFailed): InboundCall._agent_failed,
    ("ringing", AgentGone): InboundCall._agent_failed,
    ("ringing", Timeout): InboundCall._agent_failed,
    ("ringing", CallerGone): InboundCall._caller_gone_waiting,
    ("ringing", Resume): InboundCall._resume,
    ("talking", CallerGone): InboundCall._talk_over,
    ("talking", AgentGone): InboundCall._talk_over,
    ("talking", Resume): InboundCall._resume,
}
