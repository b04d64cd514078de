"""The inbound call, as a sans-IO state machine.

Theory of operation
-------------------
A call moves through phases::

    new -> ivr | greeting -> queued <-> ringing -> talking -> [survey] -> ended
               ivr -> transfer -> talking        ivr -> voicemail -> ended
    talking -> handover -> talking | queued      talking <-> consulting -> conference -> talking
                         queued <-> joining -> talking   (a persistent agent)

A call whose DID has an IVR flow walks it (``ivr``; the IVR session is embedded, see calls/ivr.py) and the flow's
result decides what follows: a queue, a transfer, a recorded message, or a goodbye. Without a flow the caller
hears the greeting and goes to the DID's queue, or is hung up after it when there is none. ``queued`` and
``ringing`` alternate while agents do not answer; the caller keeps their original place. With the ring_all
strategy several agent legs ring at once (``record.legs``): the first to answer takes the call, the others are hung
up. A persistent agent is not rung: the caller is joined into the bridge the agent sits in all shift (``joining``),
and when the conversation ends the agent stays there. When the agent hangs up and the queue has a survey, the
caller stays for it (``survey``).

While connected, the agent can hold the caller and hand them on. ``handover`` rings a named agent the ACD reserved
(a blind transfer); if they do not answer, the caller is back in line at their original place. ``consulting`` and
``conference`` are an attended transfer, driven by an embedded sub-machine (calls/consult.py): the call holds the
caller, the consultation dials and bridges the consulted party, and the way it ends (cancelled, completed, handed
over, a conference) tells the call what comes next. The call's recording is another embedded sub-machine
(recording/recorder.py).

``handle(input, now)`` looks the (phase, input type) pair up in ``_TRANSITIONS`` and returns the commands to carry
out; the record it holds is what the runtime persists after every step. Inputs that do not apply to the current
phase (a late PlaybackDone, a second hang-up) are ignored: they come from the network, where such races are
normal, and ignoring them changes nothing. What people ask through the API (``Request``: hold, transfer, consult,
recording...) is ignored the same way, and ``refusal(request)`` says why, from the same table, so that the API
answers 409 with the reason instead of accepting what the call would drop. ``snapshot()`` is what the call shows
to the outside. ``Failed`` (a step broke) and ``EndedWhileAway`` (the caller left while the process was down) are
inputs too: the call decides what ending then means.

Time is an input: timeouts are ``SetTimer`` commands answered later by ``Timeout`` inputs, so a test of a
ten-minute wait runs in microseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

from callcenter_ari import ivr
from callcenter_ari.callback.policy import offer_check_at, offer_due
from callcenter_ari.calls.callback_dialog import CallbackDialog, Declined, DialogInput, Requested
from callcenter_ari.calls.consult import Cancelled, Completed, Conferenced, Consultation, Dissolved, HandedOver, Outcome
from callcenter_ari.calls.consult import Party as ConsultedParty
from callcenter_ari.calls.ivr import from_session
from callcenter_ari.calls.legs import AGENT, TRANSFER, LegKind
from callcenter_ari.calls.messages import (
    REQUESTS,
    AgentConnected,
    AgentFailed,
    AgentFinished,
    AgentGone,
    AgentJoined,
    AgentOnHold,
    AgentReserved,
    AgentUp,
    Announce,
    Answer,
    CallbackAnswer,
    CallbackOffer,
    CallerGone,
    CancelConsult,
    CancelTimer,
    Command,
    CompleteTransfer,
    Connect,
    Consult,
    ContinueInDialplan,
    Dequeue,
    DestroyBridge,
    Digit,
    Emit,
    EndedWhileAway,
    Enqueue,
    Failed,
    Hangup,
    Hold,
    Input,
    JoinAgent,
    LeaveBridge,
    LookupResult,
    MohStart,
    MohStop,
    Mute,
    Offered,
    Originate,
    Play,
    PlaybackDone,
    QueueEnded,
    QueueRefused,
    RecordingControl,
    RecordingDone,
    ReleaseAgent,
    ReleaseCall,
    ReleaseLine,
    Request,
    ReservationRefused,
    ReserveAgent,
    Resume,
    RingAll,
    SetTimer,
    Start,
    StartConference,
    StopPlayback,
    SupervisorHangup,
    Timeout,
    TransferTo,
    TransferToAgent,
    Unhold,
    Unmute,
    failure_reason,
)
from callcenter_ari.calls.records import LEG_PHASES, CallPhase, CallRecord
from callcenter_ari.calls.settings import TRANSFER_RING_SECONDS, CallSettings, QueueSettings
from callcenter_ari.calls.view import CallSnapshot, snapshot
from callcenter_ari.recording.recorder import Recorder
from callcenter_ari.recording.recorder import refusal as recording_refusal

# The machine, and what it is configured with (calls/settings.py).
__all__ = ["CallSettings", "InboundCall", "QueueSettings"]


class InboundCall:
    def __init__(self, record: CallRecord, settings: CallSettings) -> None:
        self.record = record
        self.settings = settings
        self._timers: set[str] = set()
        self._session: ivr.IvrSession | None = None
        self._announcing = ""  # the position announcement (or the callback offer) playing now, if any
        self._callback: CallbackDialog | None = None  # the caller asking for a callback (phase "callback")
        self._recorder = Recorder(record.recording, record.call_id, settings.recording_salt)
        self._consultation = Consultation(record, settings)

    @property
    def ended(self) -> bool:
        return self.record.phase == "ended"

    @property
    def awaited_playback(self) -> str:
        """The playback whose end the call waits for, or "". After a disconnect its PlaybackFinished may have been
        sent to nobody; the runtime asks Asterisk about this id and, if it is gone, tells the call it finished."""
        call = self.record
        if call.phase == "greeting":
            return self._greeting_id
        if call.phase == "leaving":
            return self._leave_id
        if call.phase in ("ivr", "survey") and self._session is not None:
            return self._session.prompt_id or ""
        if call.phase == "callback" and self._callback is not None:
            return self._callback._playing
        return self._announcing

    def handle(self, message: Input, now: float) -> list[Command]:
        step = _TRANSITIONS.get((self.record.phase, type(message)))
        if step is None or _stale(message, self.record):
            return []
        if isinstance(message, REQUESTS) and self.refusal(message) is not None:
            return []  # the API asked first; a race (the call moved on meanwhile) changes nothing
        return step(self, message, now)

    def refusal(self, request: Request) -> str | None:
        """Why a person's request would be ignored now, or None when it would be acted on. The API answers 409
        with the reason; ``handle`` asks the same question, so what is refused here is exactly what it ignores."""
        call = self.record
        if (call.phase, type(request)) not in _TRANSITIONS:
            return _not_now(request, call.phase)
        match request:
            case Hold():
                return "the call is on hold already" if call.held_since is not None else None
            case Unhold():
                return "the call is not on hold" if call.held_since is None else None
            case TransferTo(kind=kind, target=target):
                known = self.settings.queues if kind == "queue" else self.settings.destinations
                return None if target in known else f"no {kind} {target!r}"
            case TransferToAgent(agent_id=agent_id):
                return self._handover_refusal(agent_id)
            case RecordingControl(action=action):
                reason = recording_refusal(call.recording, action, bridged=bool(_recorded_bridge(call)))
                return f"cannot {action} the recording: {reason.replace('_', ' ')}" if reason else None
            case SupervisorHangup():
                return None  # only a mark: the hang-up itself goes to Asterisk
            case _:
                return self._consultation.refusal(request)

    def snapshot(self) -> CallSnapshot:
        """The call as it stands, frozen: what the API and the agent's screen pop show."""
        return snapshot(self.record)

    # ---- arrival: IVR or greeting -----------------------------------------------------------------------

    def _start(self, message: Start, now: float) -> list[Command]:
        call, settings = self.record, self.settings
        if message.refused:
            # Never answered: cause 34 (no circuit available) lets the carrier route the call elsewhere.
            fields = self._fields(now, source=call.source, refused=message.refused)
            return [Hangup(call.channel_id, 34), Emit("call.refused", fields), *self._end(message.refused, now)]
        call.answered_at = now
        commands: list[Command] = [
            Answer(call.channel_id),
            Emit("call.started", self._fields(now, source=call.source, caller_name=call.caller_name)),
        ]
        if settings.flow is not None:
            return commands + self._start_ivr(settings.flow, settings.flow_name, call.call_id, message.surge, now)
        if settings.greeting:
            call.phase = "greeting"
            commands.append(Play(call.channel_id, (settings.greeting,), self._greeting_id))
            return commands
        return commands + self._after_greeting(now)

    def _start_ivr(
        self, flow: ivr.Flow, name: str, ids: str, surge: ivr.SurgeAnnouncement | None, now: float
    ) -> list[Command]:
        call = self.record
        call.phase = "survey" if call.phase == "talking" else "ivr"
        context = ivr.IvrContext(
            call_id=ids,
            channel=call.channel_id,
            caller=call.caller,
            did=call.did,
            language=call.language,
            variables=dict(call.variables),
            surge=surge,
        )
        self._session = ivr.IvrSession(flow, context, now, flow_name=name, schedules=self.settings.schedules)
        return self._from_ivr(self._session.start(now), now)

    def _ivr_input(
        self, message: PlaybackDone | Digit | Timeout | LookupResult | CallerGone, now: float
    ) -> list[Command]:
        if self._session is None:
            return []
        return self._from_ivr(self._session.handle(message, now), now)

    def _from_ivr(self, commands: list[ivr.Command], now: float) -> list[Command]:
        out, result = from_session(commands, self.record)
        if result is not None:
            out += self._ivr_finished(result, now)
        return out

    def _ivr_finished(self, result: ivr.Result, now: float) -> list[Command]:
        call, settings = self.record, self.settings
        call.variables = dict(result.variables) if hasattr(result, "variables") else call.variables
        match result:
            case ivr.Queue(queue=queue, skills=skills, priority=priority, language=language):
                call.skills, call.language = skills, language
                return self._enqueue(queue, priority, now)
            case ivr.OfferCallback(queue=queue, language=language):
                # The caller chose a callback in the flow (its callback node, or the surge announcement's key): their
                # place in line is now.
                call.language = language
                call.queue, call.priority, call.enqueued_at = queue, settings.priority, now
                requested = Emit("ivr.callback_requested", self._fields(now, queue=queue))
                return [requested, *self._start_callback(now)]
            case ivr.Transfer(target_name=target):
                return self._transfer(target, now)
            case ivr.Voicemail():
                call.phase = "voicemail"
                return []  # the session asked for the recording just before it finished
            case ivr.Hangup(reason=reason):
                return [Hangup(call.channel_id), *self._end("ivr_hangup", now, reason=reason)]
            case ivr.Abandoned():
                # Hanging up during the survey still ends a completed conversation.
                return self._end("completed" if call.phase == "survey" else "hung_up_in_ivr", now)
            case ivr.SurveyResult(survey=survey, answers=answers, complete=complete):
                call.survey = dict(answers)
                fields = self._fields(now, survey=survey, answers=dict(answers), complete=complete, agent=call.agent_id)
                return [Emit("survey.result", fields), Hangup(call.channel_id), *self._end("completed", now)]
            case ivr.FlowError(detail=detail):
                # A flow that check-config would have refused: treat the caller as if the DID had no IVR.
                return [Emit("ivr.flow_error", self._fields(now, detail=detail)), *self._after_greeting(now)]
        return []

    def _greeting_done(self, message: PlaybackDone, now: float) -> list[Command]:
        if message.playback_id != self._greeting_id:
            return []
        return self._after_greeting(now)

    def _after_greeting(self, now: float) -> list[Command]:
        if not self.settings.queue:
            return [Hangup(self.record.channel_id), *self._end("completed", now)]
        return self._enqueue(self.settings.queue, self.settings.priority, now)

    # ---- queue and agent --------------------------------------------------------------------------------

    def _enqueue(self, queue: str, priority: int, now: float) -> list[Command]:
        call = self.record
        settings = self.settings.queue_settings(queue)
        call.phase, call.queue, call.priority, call.enqueued_at = "queued", queue, priority, now
        commands: list[Command] = [
            MohStart(call.channel_id, settings.moh_class),
            Enqueue(queue, priority, now, first=True, language=call.language, skills=call.skills),
            self._set_timer("max_wait", now + settings.max_wait),
            Emit("call.queued", self._fields(now, queue=queue, priority=priority, skills=list(call.skills))),
        ]
        offer_at = None if settings.callback is None else offer_check_at(settings.callback.policy, now)
        if offer_at is not None:
            commands.append(self._set_timer("callback_offer", offer_at))
        return commands

    def _offered(self, message: Offered, now: float) -> list[Command]:
        if message.bridge:
            return self._join(message, now)
        call = self.record
        call.phase = "ringing"
        call.agent_id = message.agent_id
        call.ringing_since = now
        ring = self.settings.queue_settings(call.queue).ring_timeout
        return [
            self._originate(message.endpoint, AGENT, ("agent", message.agent_id, call.call_id), ring),
            # Asterisk ends an unanswered originate itself; this is the backstop if that event never comes.
            self._set_timer("ring", now + ring + 5.0),
            self._offer_event(message.agent_id, now),
        ]

    def _ring_all(self, message: RingAll, now: float) -> list[Command]:
        """Every agent the ACD reserved is rung at once, one leg each; one call.offered per leg."""
        call = self.record
        call.phase = "ringing"
        call.ringing_since = now
        ring = self.settings.queue_settings(call.queue).ring_timeout
        commands: list[Command] = []
        legs: dict[str, str] = {}
        for agent_id, endpoint in message.agents:
            originate = self._originate(endpoint, AGENT, ("agent", agent_id, call.call_id), ring)
            legs[originate.channel_id] = agent_id
            commands += [originate, self._offer_event(agent_id, now, ring_all=True)]
        call.legs = legs
        return [*commands, self._set_timer("ring", now + ring + 5.0)]

    def _join(self, message: Offered, now: float) -> list[Command]:
        """A persistent agent waits in their own bridge: the caller is put in it, no ring. The runtime answers
        ``AgentJoined`` once the caller is in (or ``CallerGone``/``AgentGone`` when either side left first)."""
        call = self.record
        call.phase = "joining"
        call.agent_id, call.agent_channel, call.agent_bridge = message.agent_id, message.line, message.bridge
        commands: list[Command] = [MohStop(call.channel_id)]
        if self._announcing:
            # Its end is of no interest any more: the caller will be talking, not waiting for music again.
            commands.append(StopPlayback(self._announcing))
            self._announcing = ""
        return [
            *commands,
            JoinAgent(message.bridge, call.channel_id, message.line),
            self._offer_event(message.agent_id, now, persistent=True),
        ]

    def _joined(self, _: AgentJoined, now: float) -> list[Command]:
        call = self.record
        call.phase = "talking"
        call.connected_at = now
        wait = round(now - (call.enqueued_at or now), 3)
        fields = self._fields(now, agent=call.agent_id, queue=call.queue, wait=wait, leg=call.agent_channel, ring=0.0)
        return [
            self._cancel_timer("max_wait"),
            AgentConnected(call.agent_id),
            Emit("call.answered", fields),
            *self._recorder.bridged(call.agent_bridge, self.settings.queue_settings(call.queue).recording),
        ]

    def _join_failed(self, message: AgentFailed | AgentGone, now: float) -> list[Command]:
        """The agent's line went down as the caller was being joined: the caller goes back to their place."""
        call = self.record
        reason = message.reason if isinstance(message, AgentFailed) else "unavailable"
        agent, bridge = call.agent_id, call.agent_bridge
        call.agent_id, call.agent_channel, call.agent_bridge, call.phase = "", "", "", "queued"
        return [
            LeaveBridge(bridge, call.channel_id),  # if the caller got in: they must not stay with nobody
            ReleaseAgent(agent, reason),
            MohStart(call.channel_id, self.settings.queue_settings(call.queue).moh_class),
            self._back_in_line(now),
            Emit("call.agent_failed", self._fields(now, agent=agent, reason=reason)),
        ]

    def _caller_gone_joining(self, message: CallerGone, now: float) -> list[Command]:
        """The caller hung up before they were in the agent's bridge: the agent, who never heard them, is free."""
        call = self.record
        call.hangup_cause = message.cause
        return [ReleaseAgent(call.agent_id, "caller_abandoned"), *self._abandoned(now)]

    def _offer_event(self, agent_id: str, now: float, **extra: object) -> Emit:
        call = self.record
        fields = self._fields(
            now,
            agent=agent_id,
            queue=call.queue,
            caller_name=call.caller_name,
            language=call.language,
            ivr_path=list(call.ivr_path),
            variables=dict(call.variables),
            **extra,
        )
        return Emit("call.offered", fields)

    def _agent_up(self, message: AgentUp, now: float) -> list[Command]:
        call = self.record
        others: list[Command] = []
        if call.legs:  # ring_all: the first leg to answer wins; a leg already dropped is no one's
            if message.channel_id not in call.legs:
                return []
            others = self._first_answered(message.channel_id)
        if message.channel_id != call.agent_channel:
            return []
        call.phase = "talking"
        call.connected_at = now
        call.bridge_id = f"{call.call_id}-b"
        wait = now - (call.enqueued_at or now)
        commands: list[Command] = [
            self._cancel_timer("ring"),
            self._cancel_timer("max_wait"),
            MohStop(call.channel_id),
            Connect(call.bridge_id, (call.channel_id, call.agent_channel)),
        ]
        if self._announcing:
            commands.insert(2, StopPlayback(self._announcing))
        commands += others
        if call.agent_id:
            commands.append(AgentConnected(call.agent_id))
            fields = self._fields(
                now, agent=call.agent_id, queue=call.queue, wait=round(wait, 3), leg=call.agent_channel
            )
            commands.append(Emit("call.answered", fields))
            commands += self._recorder.bridged(call.bridge_id, self.settings.queue_settings(call.queue).recording)
        else:
            commands.append(Emit("call.transferred", self._fields(now, target=call.transfer_target)))
        return commands

    def _agent_failed(self, message: AgentFailed | AgentGone | Timeout, now: float) -> list[Command]:
        call = self.record
        if isinstance(message, Timeout) and message.name != "ring":
            return []
        if isinstance(message, AgentFailed):
            reason = message.reason
        elif isinstance(message, AgentGone):
            reason = failure_reason(message.cause, message.dialstatus)
        else:
            reason = "ring_no_answer"
        if call.legs:
            return self._legs_failed(message, reason, now)
        agent, call.agent_id, call.phase = call.agent_id, "", "queued"
        return [
            self._cancel_timer("ring"),
            Hangup(call.agent_channel),
            ReleaseAgent(agent, reason),
            # The call goes back at its original place: its enqueue time is unchanged.
            self._back_in_line(now),
            Emit("call.agent_failed", self._fields(now, agent=agent, reason=reason)),
        ]

    def _legs_failed(self, message: AgentFailed | AgentGone | Timeout, reason: str, now: float) -> list[Command]:
        """Ring-all legs that did not come up: each rung agent is handled as ring-no-answer (or busy, ...); while
        another leg still rings the call waits for it, and when none is left it goes back to its place."""
        call = self.record
        leg = "" if isinstance(message, Timeout) else message.channel_id
        commands: list[Command] = []
        for channel in [leg] if leg else list(call.legs):  # a timeout (or a restart): every leg still ringing
            agent = call.legs.pop(channel, None)
            if agent is not None:
                commands += [
                    Hangup(channel),
                    ReleaseAgent(agent, reason),
                    Emit("call.agent_failed", self._fields(now, agent=agent, reason=reason)),
                ]
        if call.legs:
            return commands
        call.agent_id, call.phase = "", "queued"
        return [self._cancel_timer("ring"), *commands, self._back_in_line(now)]

    def _first_answered(self, channel: str) -> list[Command]:
        """The first ring-all leg to answer takes the call: the other legs are hung up. Their agents are not
        released here: the ACD frees them when it hears the winner is connected (they are available again)."""
        call = self.record
        call.agent_id, call.agent_channel = call.legs.pop(channel), channel
        others, call.legs = list(call.legs), {}
        return [Hangup(other) for other in others]

    def _caller_gone_waiting(self, message: CallerGone, now: float) -> list[Command]:
        call = self.record
        call.hangup_cause = message.cause
        commands: list[Command] = [Dequeue(call.queue)]
        if call.phase == "ringing":
            rung = call.legs or {call.agent_channel: call.agent_id}
            call.legs = {}
            for channel, agent in rung.items():
                commands += [Hangup(channel), ReleaseAgent(agent, "caller_abandoned")]
        return commands + self._abandoned(now)

    def _abandoned(self, now: float) -> list[Command]:
        """The caller left while waiting for an agent: their abandon, unless a supervisor hung them up."""
        by = self.record.hung_up_by
        return self._end("hung_up_by_supervisor", now, by=by) if by else self._end("abandoned", now)

    def _supervisor_hangup(self, message: SupervisorHangup, now: float) -> list[Command]:
        self.record.hung_up_by = message.by
        return []

    def _max_wait(self, message: Timeout, now: float) -> list[Command]:
        call = self.record
        if message.name == "callback_offer":
            return self._offer_callback(CallbackOffer(), now)
        if message.name != "max_wait":
            return []
        return [Dequeue(call.queue), Hangup(call.channel_id), *self._end("max_wait", now)]

    def _back_in_line(self, now: float) -> Enqueue:
        call = self.record
        return Enqueue(call.queue, call.priority, call.enqueued_at or now, language=call.language, skills=call.skills)

    def _refused(self, message: QueueRefused, now: float) -> list[Command]:
        call = self.record
        return [Hangup(call.channel_id), *self._end(f"refused_{message.reason}", now)]

    def _taken_out(self, message: QueueEnded, now: float) -> list[Command]:
        call = self.record
        commands: list[Command] = [Dequeue(call.queue), self._cancel_timer("max_wait")]
        if not message.message:
            return [*commands, Hangup(call.channel_id), *self._end(message.reason, now)]
        call.phase, call.outcome = "leaving", message.reason
        return [*commands, MohStop(call.channel_id), Play(call.channel_id, (message.message,), self._leave_id)]

    def _left(self, message: PlaybackDone | CallerGone, now: float) -> list[Command]:
        if isinstance(message, PlaybackDone) and message.playback_id != self._leave_id:
            return []
        call = self.record
        commands: list[Command] = [] if isinstance(message, CallerGone) else [Hangup(call.channel_id)]
        return commands + self._end(call.outcome, now)

    def _announce(self, message: Announce, now: float) -> list[Command]:
        call = self.record
        if self._announcing:
            return []
        media = (
            ["sound:queue-youarenext"]
            if message.position <= 1
            else ["sound:queue-thereare", f"number:{message.position}", "sound:queue-callswaiting"]
        )
        if message.ewt is not None and message.ewt >= 60:
            media += ["sound:queue-holdtime", f"number:{round(message.ewt / 60)}", "sound:queue-minutes"]
        offers = self.settings.queue_settings(call.queue).callback
        waited = now - (call.enqueued_at or now)
        if offers is not None and not call.callback_offered and offer_due(offers.policy, waited, message.ewt):
            call.callback_offered = True
            media.append(self.settings.callback.prompts.offer)
        self._announcing = f"{call.call_id}-ann{round(now * 1000)}"
        # Music stops while the caller hears where they are, and comes back after.
        return [MohStop(call.channel_id), Play(call.channel_id, tuple(media), self._announcing)]

    def _announced(self, message: PlaybackDone, now: float) -> list[Command]:
        if message.playback_id != self._announcing:
            return []
        self._announcing = ""
        if self.record.phase == "talking":
            return []
        return [MohStart(self.record.channel_id, self.settings.queue_settings(self.record.queue).moh_class)]

    # ---- callback -----------------------------------------------------------------------------------------

    def _offer_callback(self, _: CallbackOffer, now: float) -> list[Command]:
        """ "Press 1 to be called back, you keep your place": once per call, over the music."""
        call = self.record
        if call.callback_offered:
            return []
        call.callback_offered = True
        # A position announcement playing now gives way: the offer matters more to the caller.
        commands: list[Command] = [StopPlayback(self._announcing)] if self._announcing else []
        self._announcing = f"{call.call_id}-cboffer"
        return [
            *commands,
            MohStop(call.channel_id),
            Play(call.channel_id, (self.settings.callback.prompts.offer,), self._announcing, call.language),
            Emit("call.callback_offered", self._fields(now, queue=call.queue)),
        ]

    def _queued_digit(self, message: Digit, now: float) -> list[Command]:
        """A key while waiting: the offer's key, once offered, starts the request; the caller's place is kept
        (their arrival), and they leave the line while they answer."""
        call = self.record
        if not call.callback_offered or message.digit != self.settings.callback.key:
            return []
        commands: list[Command] = [Dequeue(call.queue), self._cancel_timer("max_wait")]
        if "callback_offer" in self._timers:
            commands.append(self._cancel_timer("callback_offer"))
        if self._announcing:
            commands.append(StopPlayback(self._announcing))
            self._announcing = ""
        commands.append(MohStop(call.channel_id))
        return commands + self._start_callback(now)

    def _start_callback(self, now: float) -> list[Command]:
        call, settings = self.record, self.settings
        queue = settings.queue_settings(call.queue)
        call.phase = "callback"
        self._callback = CallbackDialog(
            call_id=call.call_id,
            channel=call.channel_id,
            caller=call.caller,
            queue=call.queue,
            place=call.enqueued_at or now,
            priority=call.priority,
            settings=settings.callback,
            record_name=queue.callback is not None and queue.callback.record_name,
            language=call.language,
        )
        return self._from_callback(self._callback.start(now), now)

    def _callback_input(self, message: DialogInput, now: float) -> list[Command]:
        if self._callback is None:
            return []
        return self._from_callback(self._callback.handle(message, now), now)

    def _from_callback(self, commands: list[Command], now: float) -> list[Command]:
        dialog, call = self._callback, self.record
        self._track(commands)
        if dialog is None or dialog.result is None:
            return commands
        self._callback = None
        match dialog.result:
            case Requested(callback_id=callback_id):
                call.callback_id = callback_id
                return [*commands, Hangup(call.channel_id), *self._end("callback_requested", now)]
            case Declined(reason=reason):
                commands.append(Emit("call.callback_declined", self._fields(now, queue=call.queue, reason=reason)))
                return commands + self._back_to_waiting(now)
        return commands

    def _back_to_waiting(self, now: float) -> list[Command]:
        """In line again at the caller's place (their arrival), as if they had never asked."""
        call = self.record
        call.phase = "queued"
        settings = self.settings.queue_settings(call.queue)
        enqueued_at = call.enqueued_at or now
        return [
            MohStart(call.channel_id, settings.moh_class),
            self._back_in_line(now),
            self._set_timer("max_wait", max(enqueued_at + settings.max_wait, now + 1.0)),
        ]

    def _callback_caller_gone(self, message: CallerGone, now: float) -> list[Command]:
        """The caller hung up while asking: once their number is chosen, the callback is saved all the same."""
        call, dialog = self.record, self._callback
        call.hangup_cause = message.cause
        self._callback = None
        if dialog is not None and dialog.step == "name":
            return [dialog.request(), *self._end("callback_requested", now)]
        if dialog is not None and dialog.step in ("saving", "answer", "done") and dialog.number_chosen:
            return self._end("callback_requested", now)
        return self._abandoned(now)

    def _callback_resumed(self, message: Resume, now: float) -> list[Command]:
        """After a restart in the middle of asking: back in line at their place."""
        self._callback = None
        return [Emit("call.resumed", self._fields(now, phase="callback")), *self._back_to_waiting(now)]

    # ---- hold ---------------------------------------------------------------------------------------------

    def _hold(self, _: Hold, now: float) -> list[Command]:
        call = self.record
        if call.held_since is not None:
            return []
        call.held_since, call.hold_alerted = now, False
        commands: list[Command] = [
            MohStart(call.channel_id, self.settings.queue_settings(call.queue).moh_class),
            Mute(call.channel_id),
            self._set_timer("hold_alert", now + self.settings.queue_settings(call.queue).hold_alert),
            Emit("call.held", self._fields(now, agent=call.agent_id)),
        ]
        if call.agent_id:
            commands.insert(2, AgentOnHold(call.agent_id, True))
        return commands

    def _unhold(self, _: Unhold, now: float) -> list[Command]:
        call = self.record
        if call.held_since is None:
            return []
        held = now - call.held_since
        call.hold_seconds += held
        call.held_since = None
        commands: list[Command] = [
            MohStop(call.channel_id),
            Unmute(call.channel_id),
            self._cancel_timer("hold_alert"),
            Emit("call.unheld", self._fields(now, agent=call.agent_id, held=round(held, 3))),
        ]
        if call.agent_id:
            commands.insert(2, AgentOnHold(call.agent_id, False))
        return commands

    def _hold_alert(self, message: Timeout, now: float) -> list[Command]:
        call = self.record
        if message.name != "hold_alert" or call.held_since is None:
            return []
        held = round(now - call.held_since, 3)
        call.hold_alerted = True
        return [Emit("call.hold_alert", self._fields(now, agent=call.agent_id, queue=call.queue, held=held))]

    def _off_hold(self, now: float) -> list[Command]:
        """The caller stops being held by this agent (unmuted, no hold alert, the time on hold counted); the music
        goes on, for a caller who now waits for someone else."""
        call = self.record
        if call.held_since is None:
            return []
        call.hold_seconds += now - call.held_since
        call.held_since = None
        return [Unmute(call.channel_id), self._cancel_timer("hold_alert")]

    # ---- recording ----------------------------------------------------------------------------------------

    def _record_control(self, message: RecordingControl, now: float) -> list[Command]:
        call = self.record
        bridge = _recorded_bridge(call)
        name = call.recording.live
        policy = self.settings.queue_settings(call.queue).recording
        commands: list[Command] = [*self._recorder.act(message.action, bridge, policy)]
        fields = self._fields(now, action=message.action, agent=call.agent_id, recording=name or call.recording.live)
        return [*commands, Emit("recording.control", fields)]

    def _recording_ended(self, message: RecordingDone, now: float) -> list[Command]:
        self._recorder.lost(message.name)
        return []

    # ---- blind transfer: to a queue, a destination, a named agent ---------------------------------------

    def _transfer_away(self, message: TransferTo, now: float) -> list[Command]:
        """The agent hands the caller on: the agent's leg ends (wrap-up), the caller waits again or is dialled on."""
        call = self.record
        commands: list[Command] = [*self._recorder.unbridged()]
        commands += (
            [LeaveBridge(call.agent_bridge, call.channel_id)]  # a persistent agent stays where they are
            if call.agent_bridge
            else [Hangup(call.agent_channel), DestroyBridge(call.bridge_id)]
        )
        call.agent_bridge = ""
        if call.held_since is not None:
            commands += [MohStop(call.channel_id), Unmute(call.channel_id), self._cancel_timer("hold_alert")]
            call.hold_seconds += now - call.held_since
            call.held_since = None
        if call.agent_id:
            commands.append(AgentFinished(call.agent_id))
        fields = self._fields(now, agent=call.agent_id, to=message.kind, target=message.target)
        commands.append(Emit("call.transfer_requested", fields))
        call.agent_id = ""
        if message.kind == "queue":
            return commands + self._enqueue(message.target, call.priority, now)
        return commands + self._transfer(message.target, now)

    def _transfer(self, target: str, now: float) -> list[Command]:
        call = self.record
        route = self.settings.destinations.get(target)
        if route is None:  # check-config refuses this; fail safe anyway
            return [
                Emit("ivr.flow_error", self._fields(now, detail=f"no destination {target}")),
                *self._after_greeting(now),
            ]
        call.phase, call.transfer_target, call.ringing_since = "transfer", target, now
        endpoint, trunk = route
        return [
            self._originate(endpoint, TRANSFER, ("transfer", call.call_id), TRANSFER_RING_SECONDS, trunk=trunk),
            self._set_timer("ring", now + TRANSFER_RING_SECONDS + 5.0),
        ]

    def _transfer_failed(self, message: AgentFailed | AgentGone | Timeout, now: float) -> list[Command]:
        call = self.record
        if isinstance(message, Timeout) and message.name != "ring":
            return []
        return [Hangup(call.agent_channel), Hangup(call.channel_id), *self._end("transfer_failed", now)]

    def _transfer_to_agent(self, message: TransferToAgent, now: float) -> list[Command]:
        """Blind transfer to a named agent. The target is reserved first (the answer comes back within this step);
        the current agent leaves only once that has succeeded."""
        return [ReserveAgent(message.agent_id, self.record.queue)]

    def _handover_refusal(self, agent_id: str) -> str | None:
        call = self.record
        if not call.agent_id:
            return "the call has no agent on it to hand it over"
        if call.agent_bridge:
            return "a persistent agent's call goes on to a queue or a destination, not to a named agent"
        if agent_id == call.agent_id:
            return f"agent {agent_id} is the agent on this call"
        return None

    def _hand_over(self, message: AgentReserved, now: float) -> list[Command]:
        call, settings = self.record, self.settings.queue_settings(self.record.queue)
        held = call.held_since is not None
        commands: list[Command] = [Hangup(call.agent_channel), *self._recorder.unbridged()]
        commands += [DestroyBridge(call.bridge_id), *self._off_hold(now), AgentFinished(call.agent_id)]
        if not held:
            commands.append(MohStart(call.channel_id, settings.moh_class))
        fields = self._fields(now, agent=call.agent_id, to="agent", target=message.agent_id)
        commands.append(Emit("call.transfer_requested", fields))
        call.phase, call.agent_id = "handover", message.agent_id
        ring = settings.ring_timeout
        return [
            *commands,
            self._originate(message.endpoint, AGENT, ("agent", message.agent_id, call.call_id), ring),
            self._set_timer("ring", now + ring + 5.0),
            # Should the target not answer, the caller is back in line, for at most the queue's limit from now.
            self._set_timer("max_wait", now + ring + settings.max_wait),
        ]

    def _transfer_refused(self, message: ReservationRefused, now: float) -> list[Command]:
        call = self.record
        fields = self._fields(now, agent=call.agent_id, to="agent", target=message.agent_id, reason=message.reason)
        return [Emit("call.transfer_failed", fields)]

    def _handed_over(self, message: AgentUp, now: float) -> list[Command]:
        call = self.record
        if message.channel_id != call.agent_channel:
            return []
        call.phase, call.bridge_id = "talking", f"{call.call_id}-b"
        fields = self._fields(now, agent=call.agent_id, to="agent", target=call.agent_id, attended=False)
        return [
            self._cancel_timer("ring"),
            self._cancel_timer("max_wait"),
            MohStop(call.channel_id),
            Connect(call.bridge_id, (call.channel_id, call.agent_channel)),
            AgentConnected(call.agent_id),
            Emit("call.transferred", {**fields, "leg": call.agent_channel}),
            *self._recorder.bridged(call.bridge_id, self.settings.queue_settings(call.queue).recording),
        ]

    def _caller_gone_handover(self, message: CallerGone, now: float) -> list[Command]:
        call = self.record
        call.hangup_cause = message.cause
        commands: list[Command] = [Hangup(call.agent_channel), ReleaseAgent(call.agent_id, "caller_abandoned")]
        return commands + self._abandoned(now)

    def _resume_handover(self, _: Resume, now: float) -> list[Command]:
        resumed = Emit("call.resumed", self._fields(now, phase=self.record.phase))
        return [resumed, *self._agent_failed(AgentFailed(reason="restart"), now)]

    # ---- consultation and conference: calls/consult.py drives them, the call acts on how they end ---------

    def _consult(self, message: Consult, now: float) -> list[Command]:
        """The caller goes on hold (music, muted) and the consultation starts."""
        self.record.phase = "consulting"
        return [*self._hold(Hold(), now), *self._track(self._consultation.start(message, now))]

    def _consultation_step(self, message: Input, now: float) -> list[Command]:
        commands, outcome = self._consultation.handle(message, now)
        return self._after_consultation(self._track(commands), outcome, now)

    def _after_consultation(self, commands: list[Command], outcome: Outcome | None, now: float) -> list[Command]:
        call = self.record
        match outcome:
            case Cancelled(event=event):  # the agent is back in the call's bridge
                call.phase = "talking"
                return [*commands, *self._unhold(Unhold(), now), event]
            case Completed(party=party):  # the caller joins the consulted party, who takes the agent's place
                unheld = self._unhold(Unhold(), now)
                self._take_over(party)
                return [*unheld, *commands, *self._next_segment()]
            case HandedOver(party=party):
                return commands + self._hand_to_ringing(party, now)
            case Conferenced():
                call.phase = "conference"
                return [*self._unhold(Unhold(), now), *commands]
            case Dissolved():  # the consulted party left the conference: caller and agent talk on
                call.phase = "talking"
        return commands

    def _hand_to_ringing(self, party: ConsultedParty, now: float) -> list[Command]:
        """The agent hung up while the consulted party rang: the call rings them on alone, as a blind transfer."""
        call = self.record
        commands: list[Command] = [*self._recorder.unbridged(), DestroyBridge(call.bridge_id), *self._off_hold(now)]
        commands.append(AgentFinished(call.agent_id))
        commands.append(Emit("call.party_left", self._fields(now, party="agent", agent=call.agent_id)))
        ring = self.settings.queue_settings(call.queue)
        if party.agent_id:
            commands.append(self._set_timer("ring", now + ring.ring_timeout + 5.0))
            commands.append(self._set_timer("max_wait", now + ring.ring_timeout + ring.max_wait))
        else:
            commands.append(self._set_timer("ring", now + TRANSFER_RING_SECONDS + 5.0))
        self._take_over(party)
        call.phase = "handover" if call.agent_id else "transfer"
        return commands

    def _take_over(self, party: ConsultedParty) -> None:
        """The consulted party takes the agent's place on the call (a destination: the call has no agent now)."""
        call = self.record
        call.agent_id, call.agent_channel = party.agent_id, party.channel
        if not party.agent_id:
            call.transfer_target = party.target
        call.phase = "talking"

    def _next_segment(self) -> list[Command]:
        """Another agent took the call over in the same bridge: their part is a segment of its own (so that each
        segment is one agent's, as QA samples per agent); a destination's part is not recorded."""
        call = self.record
        commands: list[Command] = [*self._recorder.unbridged()]
        if call.agent_id:
            commands += self._recorder.bridged(call.bridge_id, self.settings.queue_settings(call.queue).recording)
        return commands

    def _consulting_timeout(self, message: Timeout, now: float) -> list[Command]:
        if message.name == "hold_alert":  # the caller is on hold all through a consultation
            return self._hold_alert(message, now)
        return self._consultation_step(message, now)

    def _caller_gone_consulting(self, message: CallerGone, now: float) -> list[Command]:
        """The caller hung up during the consultation: the call ends; its agent, leg and bridges with it."""
        call = self.record
        call.hangup_cause, call.disconnected_at = message.cause, now
        commands: list[Command] = [Hangup(call.agent_channel), *self._recorder.unbridged()]
        commands.append(DestroyBridge(call.bridge_id))
        commands += self._consultation.abandon("caller_abandoned")
        commands.append(AgentFinished(call.agent_id))
        return commands + self._end("completed", now, released_by="caller")

    def _resume_consulting(self, message: Resume, now: float) -> list[Command]:
        resumed = Emit("call.resumed", self._fields(now, phase=self.record.phase))
        over = self._consultation_step(message, now)
        # The board's on-hold flag does not survive a restart: there is nothing to take off hold there.
        return [resumed, *(command for command in over if not isinstance(command, AgentOnHold))]

    def _conference_caller_gone(self, message: CallerGone, now: float) -> list[Command]:
        call = self.record
        if call.caller_left:
            return []
        call.caller_left, call.hangup_cause, call.disconnected_at = True, message.cause, now
        return [Emit("call.party_left", self._fields(now, party="caller", agent=call.agent_id))]

    def _conference_leg_gone(self, message: AgentGone, now: float) -> list[Command]:
        """One of the three left: the other two talk on, unless the caller had left already, in which case the last
        one is hung up and the call is over."""
        call = self.record
        if not call.caller_left:
            return self._consultation_step(message, now)
        party = self._consultation.party
        staying = call.agent_channel if party.channel and message.channel_id == party.channel else party.channel
        commands: list[Command] = [Hangup(staying), *self._recorder.unbridged(), DestroyBridge(call.bridge_id)]
        commands += [ReleaseLine(party.channel), AgentFinished(call.agent_id)]
        if party.agent_id:
            commands.append(AgentFinished(party.agent_id))
        return commands + self._end("completed", now, released_by="caller")

    def _resume_conference(self, _: Resume, now: float) -> list[Command]:
        return [Emit("call.resumed", self._fields(now, phase=self.record.phase))]  # bridged in Asterisk: wait

    # ---- conversation over ------------------------------------------------------------------------------

    def _talk_over(self, message: CallerGone | AgentGone, now: float) -> list[Command]:
        call = self.record
        by_caller = isinstance(message, CallerGone)
        call.hangup_cause = message.cause
        call.disconnected_at = now
        if call.agent_bridge:
            return self._persistent_talk_over(by_caller, now)
        stop_recording = self._recorder.unbridged()
        commands: list[Command] = [Hangup(call.agent_channel if by_caller else call.channel_id), *stop_recording]
        commands.append(DestroyBridge(call.bridge_id))
        if call.agent_id:
            commands.append(AgentFinished(call.agent_id))
        survey = self.settings.queue_settings(call.queue)
        if not by_caller and call.agent_id and survey.survey is not None:
            # The caller stays on for the survey: do not hang them up.
            commands = [*stop_recording, DestroyBridge(call.bridge_id), AgentFinished(call.agent_id)]
            return commands + self._start_ivr(survey.survey, survey.survey_name, f"{call.call_id}-s", None, now)
        return commands + self._end("completed", now, released_by="caller" if by_caller else "agent")

    def _persistent_talk_over(self, by_caller: bool, now: float) -> list[Command]:
        """A persistent agent's conversation ended. Their line and bridge are theirs, not the call's: the agent
        stays in the bridge and goes to wrap-up. When the agent ended it (their line went down) the caller is hung
        up, or leaves the bridge for the queue's survey."""
        call = self.record
        stop_recording, finished = self._recorder.unbridged(), AgentFinished(call.agent_id)
        if by_caller:
            return [*stop_recording, finished, *self._end("completed", now, released_by="caller")]
        survey = self.settings.queue_settings(call.queue)
        if survey.survey is not None:
            leave = LeaveBridge(call.agent_bridge, call.channel_id)
            return [
                *stop_recording,
                leave,
                finished,
                *self._start_ivr(survey.survey, survey.survey_name, f"{call.call_id}-s", None, now),
            ]
        return [*stop_recording, Hangup(call.channel_id), finished, *self._end("completed", now, released_by="agent")]

    def _resume(self, message: Resume, now: float) -> list[Command]:
        call = self.record
        commands: list[Command] = [Emit("call.resumed", self._fields(now, phase=call.phase))]
        if call.phase == "ivr" and self.settings.flow is not None:
            # The session's place in the flow was not kept: walk it again (under fresh ids, so that a stale
            # PlaybackFinished from before the restart cannot be taken for a new prompt's).
            flow, name = self.settings.flow, self.settings.flow_name
            return commands + self._start_ivr(flow, name, f"{call.call_id}-r", None, now)
        if call.phase in ("new", "greeting", "ivr"):
            return commands + self._after_greeting(now)
        if call.phase == "queued":
            enqueued_at = call.enqueued_at or now
            return [
                *commands,
                MohStart(call.channel_id, self.settings.queue_settings(call.queue).moh_class),
                self._back_in_line(now),
                self._set_timer("max_wait", enqueued_at + self.settings.queue_settings(call.queue).max_wait),
            ]
        if call.phase == "ringing":
            legs = set(call.legs) or {call.agent_channel}
            if call.ringing_since is not None and legs & message.channels:
                # Still ringing in Asterisk: the ring timeout runs on from when the ringing began.
                ring = self._ring_timeout()
                call.legs = {leg: agent for leg, agent in call.legs.items() if leg in message.channels}
                return [*commands, self._set_timer("ring", call.ringing_since + ring + 5.0)]
            # The leg ended while we were away: past the ring timeout, the agent did not answer.
            rang_out = call.ringing_since is not None and now >= call.ringing_since + self._ring_timeout()
            return commands + self._agent_failed(AgentFailed(reason="ring_no_answer" if rang_out else "restart"), now)
        if call.phase == "joining":  # the caller may or may not have got into the agent's bridge: start over
            return commands + self._join_failed(AgentFailed(reason="restart"), now)
        if call.phase == "transfer":
            if call.ringing_since is not None and call.agent_channel in message.channels:
                # Still ringing the destination: the transfer's timeout runs on from when it began.
                return [*commands, self._set_timer("ring", call.ringing_since + TRANSFER_RING_SECONDS + 5.0)]
            return [*commands, Hangup(call.agent_channel), Hangup(call.channel_id), *self._end("transfer_failed", now)]
        if call.phase in ("survey", "voicemail"):
            outcome = "completed" if call.phase == "survey" else "voicemail"
            return [*commands, Hangup(call.channel_id), *self._end(outcome, now)]
        if call.phase == "talking" and not call.agent_bridge and call.agent_channel not in message.channels:
            # The agent hung up while the process was down: the caller must not sit alone in the bridge.
            return commands + self._talk_over(AgentGone(None, call.agent_channel), now)
        if call.phase == "talking" and call.held_since is not None and not call.hold_alerted:
            # On hold through the restart: the supervisor is still alerted when the hold has lasted too long.
            alert_at = call.held_since + self.settings.queue_settings(call.queue).hold_alert
            commands.append(self._set_timer("hold_alert", alert_at))
        return commands  # talking: both legs are still bridged in Asterisk; wait for a hang-up

    def _left_on_resume(self, _: Resume, now: float) -> list[Command]:
        return [Hangup(self.record.channel_id), *self._end(self.record.outcome or "left_queue", now)]

    def _gone_early(self, message: CallerGone, now: float) -> list[Command]:
        self.record.hangup_cause = message.cause
        return self._end("hung_up_in_ivr", now)

    def _caller_gone_transferring(self, message: CallerGone, now: float) -> list[Command]:
        self.record.hangup_cause = message.cause
        return [Hangup(self.record.agent_channel), *self._abandoned(now)]

    def _message_recorded(self, message: RecordingDone | CallerGone, now: float) -> list[Command]:
        call = self.record
        commands: list[Command] = [] if isinstance(message, CallerGone) else [Hangup(call.channel_id)]
        return commands + self._end("voicemail", now)

    # ---- failure and recovery -----------------------------------------------------------------------------

    def _failed(self, _: Failed, now: float) -> list[Command]:
        """A step broke: the caller goes back to the dialplan (whose next step decides: hang up, voicemail,
        overflow), every leg the call dialled is hung up, and the ACD takes the call out of line and frees any agent
        still tied to it, since nothing else will once this call is gone. In any phase, an ended one too: the step
        that broke may have ended the call first."""
        call = self.record
        commands: list[Command] = [ContinueInDialplan(call.channel_id)]
        commands += [Hangup(leg) for leg in call.dialled_legs()]
        commands.append(ReleaseCall(call.queue))
        if call.phase != "ended":
            call.phase, call.outcome, call.ended_at = "ended", "failed", now
            commands.append(Emit("call.ended", {"at": now, "call_id": call.call_id, "outcome": "failed"}))
        return commands

    def _ended_while_away(self, message: EndedWhileAway, now: float) -> list[Command]:
        """The caller hung up while the process was down, and nobody ended what the call had dialled: an agent left
        in the call's bridge would hear silence until they hang up. Those legs and the bridges are ended; a
        persistent agent's line and bridge are theirs, not the call's, and stay. The ACD frees the call's agents
        as it restores them (their call is not live), and the recording service closes its recording."""
        call = self.record
        commands: list[Command] = []
        if call.phase in LEG_PHASES:
            commands += [Hangup(leg) for leg in call.dialled_legs() if leg in message.channels]
            bridges = [] if call.agent_bridge else [call.bridge_id]
            if call.consult_channel:
                bridges.append(self._consultation.bridge)
            commands += [DestroyBridge(bridge) for bridge in bridges if bridge]
        call.phase, call.ended_at = "ended", now
        call.outcome = call.outcome or "ended_while_down"
        return [*commands, Emit("call.ended", {"at": now, "call_id": call.call_id, "outcome": call.outcome})]

    # ---- helpers -----------------------------------------------------------------------------------------

    def _ring_timeout(self) -> float:
        return self.settings.queue_settings(self.record.queue).ring_timeout

    def _originate(
        self, endpoint: str, kind: LegKind, args: tuple[str, ...], ring: float, *, trunk: str = ""
    ) -> Originate:
        call = self.record
        call.agent_channel = call.next_leg(kind)
        return Originate(
            endpoint,
            call.agent_channel,
            args,
            timeout=max(1, round(ring)),
            caller_id=call.caller_id,
            trunk=trunk,
        )

    def _end(self, outcome: str, now: float, **extra: object) -> list[Command]:
        call = self.record
        call.phase = "ended"
        call.outcome = outcome
        call.ended_at = now
        commands: list[Command] = [*self._recorder.unbridged(), *(CancelTimer(name) for name in sorted(self._timers))]
        self._timers.clear()
        if call.connected_at is not None:
            extra["talk"] = round((call.disconnected_at or now) - call.connected_at, 3)
        if call.enqueued_at is not None:
            extra["wait"] = round((call.connected_at or now) - call.enqueued_at, 3)
        fields = self._fields(now, outcome=outcome, queue=call.queue, agent=call.agent_id, cause=call.hangup_cause)
        fields.update(extra)
        commands.append(Emit("call.ended", fields))
        return commands

    def _set_timer(self, name: str, at: float) -> SetTimer:
        self._timers.add(name)
        return SetTimer(name, at)

    def _cancel_timer(self, name: str) -> CancelTimer:
        self._timers.discard(name)
        return CancelTimer(name)

    def _track(self, commands: list[Command]) -> list[Command]:
        """Count the timers a sub-machine sets and cancels among the call's own, which ``_end`` cancels."""
        for command in commands:
            if isinstance(command, SetTimer):
                self._timers.add(command.name)
            elif isinstance(command, CancelTimer):
                self._timers.discard(command.name)
        return commands

    def _fields(self, now: float, **extra: object) -> dict[str, object]:
        return self.record.fields(now, **extra)

    @property
    def _leave_id(self) -> str:
        return f"{self.record.call_id}-leave"

    @property
    def _greeting_id(self) -> str:
        return f"{self.record.call_id}-greeting"


# Phases in which a person may start, stop, pause or resume the call's recording.
RECORDING_PHASES = ("queued", "ringing", "talking", "handover", "consulting", "conference")


def _recorded_bridge(record: CallRecord) -> str:
    """The bridge a recording of the call is of now: "" unless caller and an agent are bridged."""
    if record.phase not in ("talking", "consulting", "conference") or not record.agent_id:
        return ""
    return record.agent_bridge or record.bridge_id  # a persistent agent's own bridge, or the call's


def _stale(message: Input, record: CallRecord) -> bool:
    """An earlier leg's hang-up, arriving after the call moved on to another leg."""
    if not isinstance(message, AgentGone) or not message.channel_id:
        return False
    return message.channel_id not in (record.agent_channel, record.consult_channel, *record.legs)


def _not_now(request: Request, phase: str) -> str:
    """Why a request does not apply in this phase at all."""
    match request:
        case Hold() | Unhold():
            return f"the call is {phase}: only a call with an agent can be put on hold"
        case TransferTo() | TransferToAgent():
            return f"the call is {phase}: only a connected call can be transferred"
        case Consult() if phase == "consulting":
            return "a consultation is in progress already: complete or cancel it first"
        case Consult():
            return f"the call is {phase}: only a connected call can consult"
        case CompleteTransfer() | CancelConsult() | StartConference():
            return f"the call is {phase}: no consultation in progress"
    return f"the call is {phase}: its recording cannot be changed now"


# Each step takes the machine, one specific input type and the time; the table guarantees the type matches.
_Step = Callable[..., list[Command]]

_IVR_INPUTS = (PlaybackDone, Digit, Timeout, LookupResult, CallerGone)
# Handed to the consultation as they are; its timer, the caller's hang-up and a restart are the call's first.
_CONSULTATION_INPUTS = (
    AgentReserved,
    ReservationRefused,
    AgentUp,
    AgentFailed,
    AgentGone,
    CancelConsult,
    CompleteTransfer,
    StartConference,
)
_CALLBACK_INPUTS = (Digit, PlaybackDone, Timeout, RecordingDone, CallbackAnswer)
_PHASES: tuple[CallPhase, ...] = get_args(CallPhase)

_TRANSITIONS: dict[tuple[str, type[Input]], _Step] = {
    ("new", Start): InboundCall._start,
    ("new", Resume): InboundCall._resume,
    ("new", CallerGone): InboundCall._gone_early,
    **{("ivr", kind): InboundCall._ivr_input for kind in _IVR_INPUTS},
    ("ivr", Resume): InboundCall._resume,
    ("greeting", PlaybackDone): InboundCall._greeting_done,
    ("greeting", Resume): InboundCall._resume,
    ("greeting", CallerGone): InboundCall._gone_early,
    ("queued", Offered): InboundCall._offered,
    ("queued", CallerGone): InboundCall._caller_gone_waiting,
    ("queued", Timeout): InboundCall._max_wait,
    ("queued", Resume): InboundCall._resume,
    ("queued", QueueRefused): InboundCall._refused,
    ("queued", QueueEnded): InboundCall._taken_out,
    ("queued", Announce): InboundCall._announce,
    ("queued", CallbackOffer): InboundCall._offer_callback,
    ("queued", Digit): InboundCall._queued_digit,
    **{("callback", kind): InboundCall._callback_input for kind in _CALLBACK_INPUTS},
    ("callback", CallerGone): InboundCall._callback_caller_gone,
    ("callback", Resume): InboundCall._callback_resumed,
    ("queued", PlaybackDone): InboundCall._announced,
    ("ringing", PlaybackDone): InboundCall._announced,
    ("talking", PlaybackDone): InboundCall._announced,
    ("leaving", PlaybackDone): InboundCall._left,
    ("leaving", CallerGone): InboundCall._left,
    ("leaving", Resume): InboundCall._left_on_resume,
    ("ringing", AgentUp): InboundCall._agent_up,
    ("ringing", AgentFailed): InboundCall._agent_failed,
    ("ringing", AgentGone): InboundCall._agent_failed,
    ("ringing", Timeout): InboundCall._agent_failed,
    ("ringing", CallerGone): InboundCall._caller_gone_waiting,
    ("ringing", Resume): InboundCall._resume,
    ("queued", RingAll): InboundCall._ring_all,
    ("joining", AgentJoined): InboundCall._joined,
    ("joining", AgentFailed): InboundCall._join_failed,
    ("joining", AgentGone): InboundCall._join_failed,
    ("joining", CallerGone): InboundCall._caller_gone_joining,
    ("joining", Resume): InboundCall._resume,
    ("transfer", AgentUp): InboundCall._agent_up,
    ("transfer", AgentFailed): InboundCall._transfer_failed,
    ("transfer", AgentGone): InboundCall._transfer_failed,
    ("transfer", Timeout): InboundCall._transfer_failed,
    ("transfer", CallerGone): InboundCall._caller_gone_transferring,
    ("transfer", Resume): InboundCall._resume,
    ("talking", CallerGone): InboundCall._talk_over,
    ("talking", AgentGone): InboundCall._talk_over,
    ("talking", Resume): InboundCall._resume,
    ("talking", Hold): InboundCall._hold,
    ("talking", Unhold): InboundCall._unhold,
    ("talking", Timeout): InboundCall._hold_alert,
    ("talking", TransferTo): InboundCall._transfer_away,
    **{(phase, RecordingDone): InboundCall._recording_ended for phase in ("talking", "consulting", "conference")},
    **{(phase, RecordingControl): InboundCall._record_control for phase in RECORDING_PHASES},
    ("talking", TransferToAgent): InboundCall._transfer_to_agent,
    ("talking", AgentReserved): InboundCall._hand_over,
    ("talking", ReservationRefused): InboundCall._transfer_refused,
    ("handover", AgentUp): InboundCall._handed_over,
    ("handover", AgentFailed): InboundCall._agent_failed,
    ("handover", AgentGone): InboundCall._agent_failed,
    ("handover", Timeout): InboundCall._agent_failed,
    ("handover", CallerGone): InboundCall._caller_gone_handover,
    ("handover", Resume): InboundCall._resume_handover,
    ("talking", Consult): InboundCall._consult,
    **{("consulting", kind): InboundCall._consultation_step for kind in _CONSULTATION_INPUTS},
    ("consulting", Timeout): InboundCall._consulting_timeout,
    ("consulting", CallerGone): InboundCall._caller_gone_consulting,
    ("consulting", Resume): InboundCall._resume_consulting,
    ("conference", CallerGone): InboundCall._conference_caller_gone,
    ("conference", AgentGone): InboundCall._conference_leg_gone,
    ("conference", Resume): InboundCall._resume_conference,
    **{("survey", kind): InboundCall._ivr_input for kind in _IVR_INPUTS},
    ("survey", Resume): InboundCall._resume,
    ("voicemail", RecordingDone): InboundCall._message_recorded,
    ("voicemail", CallerGone): InboundCall._message_recorded,
    ("voicemail", Resume): InboundCall._resume,
    **{(phase, Failed): InboundCall._failed for phase in _PHASES},
    **{(phase, EndedWhileAway): InboundCall._ended_while_away for phase in _PHASES},
    **{(phase, SupervisorHangup): InboundCall._supervisor_hangup for phase in _PHASES},
}
