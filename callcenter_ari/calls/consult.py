"""A consultation (attended transfer) and the conference it may become: a sans-IO machine the call machine embeds.

Theory of operation
-------------------
While connected, the agent may talk to someone before handing the caller on: a named agent, whom the ACD reserves
first, or a configured destination. The call holds the caller (music, muted) while a consult leg of its own
(``<call>-c<n>``) is dialled; once it answers, agent and consulted party talk in a bridge of their own
(``<leg>-b``) and the caller waits alone in the call's bridge. The consultation goes through stages::

    reserving -> ringing -> answered -> conference          (a destination is dialled at once: no reserving)

and ends in one of these ways, each an outcome the call acts on (calls/machine.py):

    Cancelled(event)   the consult leg is gone and the agent back in the call's bridge: cancelled by the agent, not
                       answered, refused by the ACD, hung up by the consulted party, or a restart. The call takes
                       the caller off hold, then tells ``event``.
    Completed(party)   the caller joins the consulted party in the call's bridge and the agent leaves (the agent
                       completed it, or hung up after the answer): the party takes the agent's place.
    HandedOver(party)  the agent hung up while the consulted party still rang: the call rings them on alone, as it
                       does in a blind transfer.
    Conferenced()      caller, agent and consulted party in the call's bridge. Then the agent leaving is Completed
                       (the other two talk on), the consulted party leaving is Dissolved (caller and agent do).

The caller hanging up is the call's to handle, since it ends the call: ``abandon`` ends the consult leg with it.

What the consultation is about lives in the ``consult_*`` fields of the call's record, so that a restarted process
knows the leg and whether it answered. This module is the only one to write them; it reads the rest of the record
(the call's agent, leg, bridge, queue) and never writes it. Its stage is derived from those fields, not stored.

``handle(input, now)`` looks (stage, input type) up in ``_TRANSITIONS`` and returns the commands and, once the
consultation is over, its outcome; an input that does not apply is ignored (a late leg event, a second answer).
``refusal(request)`` says, from the same table, why a person's request would be ignored now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import msgspec

from callcenter_ari.calls.legs import CONSULT
from callcenter_ari.calls.messages import (
    AgentConnected,
    AgentFailed,
    AgentFinished,
    AgentGone,
    AgentReserved,
    AgentUp,
    CancelConsult,
    CancelTimer,
    Command,
    CompleteTransfer,
    Connect,
    Consult,
    DestroyBridge,
    Emit,
    FreeAgent,
    Hangup,
    Input,
    JoinBridge,
    Originate,
    ReleaseLine,
    ReservationRefused,
    ReserveAgent,
    Resume,
    SetTimer,
    StartConference,
    Timeout,
    failure_reason,
)
from callcenter_ari.calls.records import CallRecord
from callcenter_ari.calls.settings import TRANSFER_RING_SECONDS, CallSettings

Stage = Literal["none", "reserving", "ringing", "answered", "conference"]
RING_TIMER = "consult_ring"


class Party(msgspec.Struct, frozen=True):
    """Who was consulted: an agent (``agent_id``) or a destination (``agent_id`` ""), named ``target``, on leg
    ``channel``."""

    agent_id: str
    channel: str
    target: str


class Cancelled(msgspec.Struct, frozen=True):
    event: Emit


class Completed(msgspec.Struct, frozen=True):
    party: Party


class HandedOver(msgspec.Struct, frozen=True):
    party: Party


class Conferenced(msgspec.Struct, frozen=True):
    pass


class Dissolved(msgspec.Struct, frozen=True):
    pass


Outcome = Cancelled | Completed | HandedOver | Conferenced | Dissolved
Step = tuple[list[Command], Outcome | None]


class Consultation:
    """Drives the ``consult_*`` fields of one call's record; ``settings`` give the destinations and ring times."""

    def __init__(self, record: CallRecord, settings: CallSettings) -> None:
        self.record = record
        self.settings = settings

    @property
    def stage(self) -> Stage:
        call = self.record
        if call.phase == "conference":
            return "conference"
        if not call.consult_target:
            return "none"
        if call.consult_answered_at is not None:
            return "answered"
        return "ringing" if call.consult_channel else "reserving"

    @property
    def party(self) -> Party:
        call = self.record
        return Party(call.consult_agent, call.consult_channel, call.consult_target)

    @property
    def bridge(self) -> str:
        """Where agent and consulted party talk once it answered."""
        return f"{self.record.consult_channel}-b"

    def refusal(self, request: Consult | CompleteTransfer | CancelConsult | StartConference) -> str | None:
        """Why the request would be ignored now, or None; the call has checked that its phase takes it."""
        if isinstance(request, Consult):
            return self._consult_refusal(request)
        if (self.stage, type(request)) not in _TRANSITIONS:
            return "the consulted party has not answered yet: wait, or cancel"
        return None

    def _consult_refusal(self, request: Consult) -> str | None:
        call = self.record
        # A persistent agent's line stays in their own bridge: their calls are handed on, not consulted for.
        if call.agent_bridge:
            return "a persistent agent's call cannot consult: transfer it to a queue or a destination"
        if not call.agent_id:
            return "the call has no agent on it to consult for"
        if request.target == call.agent_id:
            return f"agent {request.target} is the agent on this call"
        if request.kind == "destination" and request.target not in self.settings.destinations:
            return f"no destination {request.target!r}"
        return None

    def start(self, request: Consult, now: float) -> list[Command]:
        """The call has put the caller on hold: a named agent is reserved (the ACD answers within the same step,
        ``AgentReserved`` or ``ReservationRefused``), a destination dialled at once."""
        call = self.record
        call.consult_target = request.target
        call.consult_agent = request.target if request.kind == "agent" else ""
        fields = call.fields(now, agent=call.agent_id, to=request.kind, target=request.target)
        commands: list[Command] = [Emit("call.consult_started", fields)]
        if request.kind == "agent":
            return [*commands, ReserveAgent(request.target, call.queue)]
        endpoint, trunk = self.settings.destinations[request.target]
        return commands + self._dial(endpoint, ("transfer", call.call_id), TRANSFER_RING_SECONDS, now, trunk)

    def handle(self, message: Input, now: float) -> Step:
        step = _TRANSITIONS.get((self.stage, type(message)))
        return ([], None) if step is None else step(self, message, now)

    def abandon(self, free: str) -> list[Command]:
        """The call is over (its caller hung up): the consult leg and its bridge end with it, the consulted agent is
        freed for ``free``."""
        commands = self._drop_leg(free, rejoin=False)
        self._forget()
        return commands

    # ---- reaching the consulted party ---------------------------------------------------------------------

    def _dial(self, endpoint: str, args: tuple[str, ...], ring: float, now: float, trunk: str = "") -> list[Command]:
        call = self.record
        call.consult_channel = call.next_leg(CONSULT)
        timeout = max(1, round(ring))
        originate = Originate(endpoint, call.consult_channel, args, timeout, caller_id=call.caller_id, trunk=trunk)
        return [originate, SetTimer(RING_TIMER, now + ring + 5.0)]

    def _reserved(self, message: AgentReserved, now: float) -> Step:
        call = self.record
        if message.agent_id != call.consult_agent:
            return self._not_needed(message, now)
        ring = self.settings.queue_settings(call.queue).ring_timeout
        return self._dial(message.endpoint, ("agent", message.agent_id, call.call_id), ring, now), None

    def _not_needed(self, message: AgentReserved, now: float) -> Step:
        """A reservation nobody waits for (another agent's, or one after the leg is dialled) is given back."""
        return [FreeAgent(message.agent_id, "not_needed")], None

    def _refused(self, message: ReservationRefused, now: float) -> Step:
        self.record.consult_agent = ""  # never reserved: nothing to free
        return self._over(now, "call.consult_failed", "", reason=message.reason)

    def _answered(self, message: AgentUp, now: float) -> Step:
        call = self.record
        if message.channel_id != call.consult_channel:
            return [], None
        call.consult_answered_at = now
        # The agent moves out of the caller's bridge into the consult bridge; the caller stays, on hold.
        commands: list[Command] = [
            CancelTimer(RING_TIMER),
            Connect(self.bridge, (call.agent_channel, call.consult_channel)),
        ]
        if call.consult_agent:
            commands.append(AgentConnected(call.consult_agent))
        fields = call.fields(now, agent=call.agent_id, target=call.consult_target, leg=call.consult_channel)
        return [*commands, Emit("call.consult_answered", fields)], None

    def _failed(self, message: AgentFailed, now: float) -> Step:
        return self._over(now, "call.consult_failed", message.reason, reason=message.reason)

    def _ring_timeout(self, message: Timeout, now: float) -> Step:
        if message.name != RING_TIMER:
            return [], None
        return self._over(now, "call.consult_failed", "ring_no_answer", reason="ring_no_answer")

    # ---- the end of it ------------------------------------------------------------------------------------

    def _leg_gone(self, message: AgentGone, now: float) -> Step:
        """A leg hung up: the consulted party's, before or after answering, or else the agent's."""
        call = self.record
        if not call.consult_channel or message.channel_id != call.consult_channel:
            return self._agent_left(now)
        if call.consult_answered_at is None:
            reason = failure_reason(message.cause, message.dialstatus)
            return self._over(now, "call.consult_failed", reason, reason=reason)
        return self._over(now, "call.consult_cancelled", "finished", by="target")

    def _cancel(self, _: CancelConsult, now: float) -> Step:
        return self._over(now, "call.consult_cancelled", "consult_cancelled", by="agent")

    def _restarted(self, _: Resume, now: float) -> Step:
        return self._over(now, "call.consult_cancelled", "restart", by="restart")

    def _over(self, now: float, event: str, free: str, **extra: object) -> Step:
        """No transfer after all: the consult leg is hung up, the consulted agent freed (``free`` is the release
        reason if they never answered) and the agent put back in the call's bridge."""
        call = self.record
        commands: list[Command] = [CancelTimer(RING_TIMER), *self._drop_leg(free, rejoin=True)]
        told = Emit(event, call.fields(now, agent=call.agent_id, target=call.consult_target, **extra))
        self._forget()
        return commands, Cancelled(told)

    def _complete(self, _: CompleteTransfer, now: float) -> Step:
        """The caller joins the consulted party in the call's bridge; the agent's leg ends (wrap-up)."""
        call, party = self.record, self.party
        left = call.agent_id
        commands: list[Command] = [
            Hangup(call.agent_channel),
            JoinBridge(call.bridge_id, (party.channel,)),
            DestroyBridge(self.bridge),
            AgentFinished(left),
        ]
        kind = "agent" if party.agent_id else "destination"
        fields = call.fields(now, agent=party.agent_id, from_agent=left, to=kind, target=party.target)
        commands.append(Emit("call.transferred", {**fields, "attended": True, "leg": party.channel}))
        self._forget()
        return commands, Completed(party)

    def _agent_left(self, now: float) -> Step:
        """The agent hung up: the caller goes to the consulted party, at once if they answered, otherwise when they
        do (the call rings them on alone)."""
        if self.record.consult_answered_at is not None:
            return self._complete(CompleteTransfer(), now)
        party = self.party
        self._forget()
        return [CancelTimer(RING_TIMER)], HandedOver(party)

    def _conference(self, _: StartConference, now: float) -> Step:
        """Caller, agent and consulted party in the call's bridge, which mixes them all."""
        call = self.record
        fields = call.fields(now, agent=call.agent_id, target=call.consult_target, leg=call.consult_channel)
        commands: list[Command] = [
            JoinBridge(call.bridge_id, (call.agent_channel, call.consult_channel)),
            DestroyBridge(self.bridge),
            Emit("call.conference_started", fields),
        ]
        return commands, Conferenced()

    def _party_left(self, message: AgentGone, now: float) -> Step:
        """The agent or the consulted party left a conference the caller is still in: the other two talk on."""
        call = self.record
        if call.consult_channel and message.channel_id == call.consult_channel:
            commands: list[Command] = [
                Emit("call.party_left", call.fields(now, party="target", agent=call.consult_agent))
            ]
            if call.consult_agent:
                commands.append(AgentFinished(call.consult_agent))
            commands.append(ReleaseLine(call.consult_channel))
            self._forget()
            return commands, Dissolved()
        party = self.party
        commands = [Emit("call.party_left", call.fields(now, party="agent", agent=call.agent_id))]
        if call.agent_id:
            commands.append(AgentFinished(call.agent_id))
        self._forget()
        return commands, Completed(party)

    def _drop_leg(self, free: str, *, rejoin: bool) -> list[Command]:
        """End the consult leg and its bridge, the agent back in the call's bridge if ``rejoin``."""
        call = self.record
        commands: list[Command] = []
        if call.consult_channel:
            commands += [Hangup(call.consult_channel), ReleaseLine(call.consult_channel)]
        if call.consult_answered_at is not None:
            commands.append(DestroyBridge(self.bridge))
            if rejoin:
                commands.append(JoinBridge(call.bridge_id, (call.agent_channel,)))
        if call.consult_agent:
            commands.append(FreeAgent(call.consult_agent, free))
        return commands

    def _forget(self) -> None:
        call = self.record
        call.consult_agent = call.consult_target = call.consult_channel = ""
        call.consult_answered_at = None


# Each step takes the sub-machine, one specific input type and the time; the table guarantees the type matches.
_Step = Callable[..., Step]

_UNDER_WAY: tuple[Stage, ...] = ("reserving", "ringing", "answered")

_TRANSITIONS: dict[tuple[Stage, type[Input]], _Step] = {
    ("reserving", AgentReserved): Consultation._reserved,
    ("reserving", ReservationRefused): Consultation._refused,
    ("ringing", AgentReserved): Consultation._not_needed,
    ("ringing", AgentUp): Consultation._answered,
    ("ringing", AgentFailed): Consultation._failed,
    ("ringing", Timeout): Consultation._ring_timeout,
    ("answered", AgentReserved): Consultation._not_needed,
    ("answered", CompleteTransfer): Consultation._complete,
    ("answered", StartConference): Consultation._conference,
    **{(stage, AgentGone): Consultation._leg_gone for stage in _UNDER_WAY},
    **{(stage, CancelConsult): Consultation._cancel for stage in _UNDER_WAY},
    **{(stage, Resume): Consultation._restarted for stage in _UNDER_WAY},
    ("conference", AgentGone): Consultation._party_left,
}
