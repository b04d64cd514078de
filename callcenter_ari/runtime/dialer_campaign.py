"""One running campaign in this process: its pacer, and the executor that carries out the pacer's decisions.

Theory of operation
-------------------
Every input for the campaign (an agent's state from the ACD, a call's progress from Asterisk, leads from Redis, a
tick) goes through one inbox to one task, which hands it to the ``Pacer`` with the time and carries out the
decisions it returns. A decision that waits on Redis or Asterisk (claim leads, reserve an agent, dial, join, play)
runs as a task of its own and sends what came of it back through the inbox, so the pacer never waits and sees
every input in the order it arrived. One clock timer at ``Pacer.next_deadline()`` sends ``Tick``.

A call is an outbound leg (``runtime/outbound.py``: a trunk line, the originate, the outcome) with the campaign's
own arguments. Answered: with ``amd`` the channel is continued into the ``cc-amd-stasis`` context, where Asterisk's
AMD() runs and the channel comes back into Stasis; the verdict is read from its ``AMDSTATUS`` variable (MACHINE, or
HUMAN / NOTSURE, taken for a person). A person is joined into the reserved persistent agent's bridge (no ring) or
hears the campaign's message and is hung up (an abandon, in the ledger with the message played). Every call ends
with ``record_attempt`` on its lead: answered (the agent's disposition follows), machine, busy, no answer, failed
or abandoned; a lead never dialed goes back with ``release``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import anyio
import structlog
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from callcenter_ari.acd.errors import InvalidTransition
from callcenter_ari.ari.errors import AriError, ChannelGone
from callcenter_ari.calls.outbound import (
    Answered,
    Busy,
    Ended,
    Failed,
    InvalidRequest,
    LegEvent,
    NoAnswer,
    OutboundRequest,
)
from callcenter_ari.campaigns.model import Attempt, Campaign, CampaignError, Outcome
from callcenter_ari.campaigns.model import Lead as CampaignLead
from callcenter_ari.clock import Timer
from callcenter_ari.dialer import messages as m
from callcenter_ari.dialer.pacer import Pacer
from callcenter_ari.dialer.roster import BoardAgent, Roster
from callcenter_ari.runtime.standing import LineGone, join
from callcenter_ari.store.dialing import CampaignGone, LeaseLost
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.trunks.phone import InvalidNumber, parse_number

if TYPE_CHECKING:
    from callcenter_ari.runtime.dialer import DialerService

log = structlog.get_logger(__name__)

AMD_CONTEXT = "cc-amd-stasis"  # asterisk/etc/extensions.conf: AMD(), then Stasis(<app>,amd,STATUS,CAUSE)
AMD_DEADLINE = 10.0  # AMD()'s own total analysis time is 5 s by default (amd.conf, totalAnalysisTime)
# Why a leg was not placed that says nothing about the lead: it goes back undialed.
_NOT_DIALED = frozenset({"no free line", "store unavailable", "no such trunk"})

LegPhase = Literal["dialing", "ringing", "detecting", "answered", "connected", "message", "machine"]


class Leg:
    """A campaign call in this process: the lead it dials and how far it got."""

    __slots__ = ("agent_id", "answered_at", "call_id", "dialed_at", "lead", "phase", "trunk")

    def __init__(self, call_id: str, lead: CampaignLead, now: float) -> None:
        self.call_id = call_id
        self.lead = lead
        self.phase: LegPhase = "dialing"
        self.agent_id = ""
        self.dialed_at = now
        self.answered_at = 0.0
        self.trunk = ""


class Sync:
    """The campaign's agents as the ACD board shows them now: compared with the pacer's view in the run's task."""

    __slots__ = ("board",)

    def __init__(self, board: Mapping[str, BoardAgent]) -> None:
        self.board = board


class CampaignRun:
    def __init__(self, service: DialerService, campaign: Campaign, pacer: Pacer, roster: Roster) -> None:
        self.service = service
        self.campaign = campaign
        self.pacer = pacer
        self.roster = roster
        self.legs: dict[str, Leg] = {}
        self.claimed: dict[str, CampaignLead] = {}  # lead id -> the lead as claimed (leases to renew)
        self.reservations: dict[str, str] = {}  # agent -> the call the ACD reserved them for
        self.previews: dict[str, tuple[str, CampaignLead]] = {}  # agent -> (call, lead) on their screen
        # lead id -> the attempt of a call that ended while Redis could not take it (unreachable, or its data lost
        # and not yet written back): the lead stays claimed here, and the attempt is written at the next poll.
        self.unrecorded: dict[str, Attempt] = {}
        self.closing = False
        self._timer: Timer | None = None
        send, receive = anyio.create_memory_object_stream[m.Input | Sync](max_buffer_size=math.inf)
        self._send: MemoryObjectSendStream[m.Input | Sync] = send
        self._receive: MemoryObjectReceiveStream[m.Input | Sync] = receive
        self._log = log.bind(campaign=campaign.id)

    @property
    def id(self) -> str:
        return self.campaign.id

    @property
    def idle(self) -> bool:
        """Nothing of the campaign's left in this process: no call, no lead held, no agent reserved."""
        return not self.legs and not self.claimed and not self.pacer.calls()

    def tell(self, message: m.Input | Sync) -> None:
        try:
            self._send.send_nowait(message)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # the run is over

    async def run(self) -> None:
        async with self._receive:
            async for message in self._receive:
                self._handle(message)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._send.close()

    # ---- the pacer ------------------------------------------------------------------------------------------

    def _handle(self, message: m.Input | Sync) -> None:
        now = self.service.clock.now()
        if isinstance(message, Sync):
            inputs = self.roster.agent_inputs(self.pacer.agents(), message.board, self.pacer.spare_agents(now))
            for one in inputs:
                if isinstance(one, m.AgentAway) and one.agent_id in self.reservations:
                    self._release(one.agent_id, "agent_away")  # the ACD's reservation goes with the pacer's
        else:
            inputs = [message]
        for one in inputs:
            for decision in self.pacer.handle(one, now):
                self._carry_out(decision, now)
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        due = self.pacer.next_deadline()
        if due is not None:
            delay = max(0.0, due - self.service.clock.now())
            self._timer = self.service.clock.call_later(delay, lambda: self.tell(m.Tick()))

    def _carry_out(self, decision: m.Decision, now: float) -> None:
        spawn = self.service.services.spawn
        match decision:
            case m.WantLeads(count=count):
                spawn(self._claim, count)
            case m.ReturnLead(lead_id=lead_id, reason=reason):
                spawn(self._give_back, lead_id, reason)
            case m.ReserveAgent(agent_id=agent_id, call_id=call_id):
                spawn(self._reserve, agent_id, call_id)
            case m.ReleaseAgent(agent_id=agent_id, reason=reason):
                self._release(agent_id, reason)
            case m.Preview(agent_id=agent_id, call_id=call_id, lead=lead):
                self._preview(agent_id, call_id, lead.lead_id)
            case m.Dial(call_id=call_id, lead=lead, ring_seconds=ring, agent_id=agent_id):
                self._forget_preview(agent_id, call_id)
                spawn(self._dial, call_id, lead.lead_id, ring, agent_id)
            case m.Connect(call_id=call_id, agent_id=agent_id):
                spawn(self._connect, call_id, agent_id)
            case m.SafeHarbour(call_id=call_id):
                spawn(self._play_and_hang_up, call_id, "message", self.campaign.no_agent_message)
            case m.EndCall(call_id=call_id):
                message = self.campaign.machine_message if self.campaign.on_machine == "message" else []
                spawn(self._play_and_hang_up, call_id, "machine", message)
            case m.PauseCampaign():
                spawn(self.service.pause_campaign, self.campaign.id, decision)
            case m.Recorded():
                spawn(self.service.record_entry, self.campaign.id, decision)

    # ---- leads ----------------------------------------------------------------------------------------------

    async def _claim(self, count: int) -> None:
        service = self.service
        try:
            leads = await service.dialing.claim_due(
                self.id, service.clock.now(), count, service.holder, lease_seconds=service.lease_seconds
            )
        except (StoreUnavailable, CampaignError) as exc:  # Redis away, or its data lost (the campaign with it)
            self._log.warning("dialer.claim_failed", error=str(exc))
            leads = []
        for lead in leads:
            self.claimed[lead.id] = lead
        self.tell(m.LeadsReady(tuple(m.Lead(lead.id, lead.number, lead.data) for lead in leads)))

    async def _give_back(self, lead_id: str, reason: str) -> None:
        self.claimed.pop(lead_id, None)
        try:
            await self.service.dialing.release(self.id, lead_id, self.service.holder, self.service.clock.now())
        except (LeaseLost, StoreUnavailable) as exc:
            self._log.warning("dialer.release_failed", lead=lead_id, reason=reason, error=str(exc))

    async def settle(self, leg: Leg, outcome: Outcome, detail: str = "") -> None:
        """The call is over: its attempt goes on the lead (the retry rules schedule it, or it is done)."""
        self.legs.pop(leg.call_id, None)
        now = self.service.clock.now()
        attempt = Attempt(
            at=leg.dialed_at,
            ended_at=now,
            outcome=outcome,
            trunk=leg.trunk or self.campaign.trunk,
            agent_id=leg.agent_id,
            call_id=leg.call_id,
            detail=detail,
        )
        self.service.counted(self.id, outcome)
        self.service.services.emit(
            "dialer.call_ended",
            {"campaign": self.id, "call_id": leg.call_id, "lead": leg.lead.id, "outcome": outcome,
             "agent": leg.agent_id, "detail": detail},
        )  # fmt: skip
        await self._record(leg.lead.id, attempt)

    async def record_pending(self) -> None:
        """Write the attempts Redis could not take when their calls ended (at each poll)."""
        for lead_id, attempt in list(self.unrecorded.items()):
            if not await self._record(lead_id, attempt):
                return

    async def _record(self, lead_id: str, attempt: Attempt) -> bool:
        """Write the attempt on its lead; False when Redis cannot take it now (the lead stays claimed here, the
        attempt pending: one recorded attempt per call, whatever happened to Redis meanwhile)."""
        try:
            await self.service.dialing.record_attempt(self.id, lead_id, self.service.holder, attempt)
        except (CampaignGone, StoreUnavailable) as exc:
            self._log.warning("dialer.attempt_pending", call_id=attempt.call_id, lead=lead_id, error=str(exc))
            self.unrecorded[lead_id] = attempt
            return False
        except LeaseLost as exc:
            self._log.error("dialer.attempt_not_recorded", call_id=attempt.call_id, lead=lead_id, error=str(exc))
        self.unrecorded.pop(lead_id, None)
        self.claimed.pop(lead_id, None)
        return True

    # ---- agents ---------------------------------------------------------------------------------------------

    async def _reserve(self, agent_id: str, call_id: str) -> None:
        try:
            await self.service.acd.reserve(agent_id, call_id, self.campaign.queue, joined=True)
        except (InvalidTransition, StoreUnavailable) as exc:
            self._log.info("dialer.reservation_refused", agent=agent_id, call_id=call_id, reason=str(exc))
            self.tell(m.ReservationRefused(agent_id, call_id))
            return
        self.reservations[agent_id] = call_id
        self.tell(m.AgentReserved(agent_id, call_id))

    def _release(self, agent_id: str, reason: str) -> None:
        call_id = self.reservations.pop(agent_id, "")
        self.previews.pop(agent_id, None)
        if call_id:
            # Never a reason that makes the agent not ready (the ACD's "busy" is the agent's phone's): the
            # campaign's calls end for reasons of the far end.
            self.service.acd.release(agent_id, f"campaign_{reason}", call_id=call_id)

    def _preview(self, agent_id: str, call_id: str, lead_id: str) -> None:
        lead = self.claimed.get(lead_id)
        if lead is None:
            return
        self.previews[agent_id] = (call_id, lead)
        self.service.services.emit(
            "dialer.preview", {"campaign": self.id, "agent": agent_id, "call_id": call_id, "lead": lead_id}
        )

    def _forget_preview(self, agent_id: str, call_id: str) -> None:
        shown = self.previews.get(agent_id)
        if shown is not None and shown[0] == call_id:
            del self.previews[agent_id]

    # ---- calls ----------------------------------------------------------------------------------------------

    async def _dial(self, call_id: str, lead_id: str, ring: int, agent_id: str) -> None:
        service = self.service
        lead = self.claimed.get(lead_id)
        if lead is None:
            self.tell(m.NotAnswered(call_id, "refused"))
            return
        now = service.clock.now()
        try:
            check = await service.dialing.check_before_dial(self.id, lead_id, service.holder, now)
        except StoreUnavailable:
            self.tell(m.NotAnswered(call_id, "refused"))
            await self._give_back(lead_id, "store unavailable")
            return
        if not check.ok:  # on the do-not-call list since the claim (closed as such), or no longer ours
            self.claimed.pop(lead_id, None)
            self._log.info("dialer.not_dialed", call_id=call_id, lead=lead_id, reason=check.reason)
            self.tell(m.NotAnswered(call_id, "refused"))
            return
        leg = Leg(call_id, lead, now)
        leg.agent_id = agent_id
        self.legs[call_id] = leg
        try:
            request = OutboundRequest(
                leg_id=call_id,
                number=parse_number(lead.number, "US"),  # stored in E.164: the region is not used
                trunks=(self.campaign.trunk,),
                caller_id=self.campaign.caller_id,
                ring_seconds=ring,
                app_args=("dialer", self.id),
            )
            placed = await service.services.outbound.place(request, lambda event: self._leg_event(leg, event))
        except (InvalidRequest, InvalidNumber) as exc:
            self._log.warning("dialer.bad_request", call_id=call_id, lead=lead_id, error=str(exc))
            self.tell(m.NotAnswered(call_id, "failed"))
            await self.settle(leg, "failed", f"not dialable: {exc}"[:200])
            return
        if placed:
            leg.phase = "ringing" if leg.phase == "dialing" else leg.phase
            self.tell(m.CallPlaced(call_id))
        service.lines_changed()

    def _leg_event(self, leg: Leg, event: LegEvent) -> None:
        """From the outbound leg (on the dispatcher's path: nothing here waits)."""
        spawn = self.service.services.spawn
        match event:
            case Answered(trunk=trunk):
                leg.trunk, leg.answered_at = trunk, self.service.clock.now()
                if self.campaign.amd:
                    leg.phase = "detecting"
                    spawn(self._detect, leg)
                else:
                    leg.phase = "answered"
                    self.tell(m.AnsweredByPerson(leg.call_id))
            case NoAnswer():
                self.tell(m.NotAnswered(leg.call_id, "no_answer"))
                spawn(self.settle, leg, "no_answer")
            case Busy():
                self.tell(m.NotAnswered(leg.call_id, "busy"))
                spawn(self.settle, leg, "busy")
            case Failed(reason=reason) if reason in _NOT_DIALED:
                self.legs.pop(leg.call_id, None)
                self.tell(m.NotAnswered(leg.call_id, "refused"))
                spawn(self._give_back, leg.lead.id, reason)
            case Failed(reason=reason, cause=cause):
                self.tell(m.NotAnswered(leg.call_id, "failed"))
                spawn(self.settle, leg, "failed", reason if cause is None else f"{reason} {cause}")
            case Ended(cause=cause):
                self._ended(leg, cause)
        self.service.lines_changed()

    def _ended(self, leg: Leg, cause: int | None) -> None:
        spawn = self.service.services.spawn
        detail = "" if cause is None else f"cause {cause}"
        match leg.phase:
            case "connected":
                self.service.acd.finished(leg.agent_id, call_id=leg.call_id)
                self.reservations.pop(leg.agent_id, None)
                self.tell(m.AgentWrapup(leg.agent_id))
                spawn(self.settle, leg, "answered", detail)
            case "message":
                spawn(self.settle, leg, "abandoned", "message played")
            case "machine":
                spawn(self.settle, leg, "machine", detail)
            case "detecting":
                self.tell(m.NotAnswered(leg.call_id, "no_answer"))
                spawn(self.settle, leg, "no_answer", "hung up during answering-machine detection")
            case _:  # answered, no agent yet: the person gave up
                self.tell(m.CustomerHungUp(leg.call_id))
                spawn(self.settle, leg, "abandoned", "hung up before an agent")

    async def _detect(self, leg: Leg) -> None:
        """Out of Stasis into AMD(), with the application subscribed to the channel so that a hang-up during
        detection still reaches it, and a deadline: a call that does not come back is hung up."""
        ari = self.service.ari
        try:
            await ari.subscribe(f"channel:{leg.call_id}")
            await ari.continue_in_dialplan(leg.call_id, context=AMD_CONTEXT, extension="s", priority=1)
            self.service.clock.call_later(AMD_DEADLINE, lambda: self._detection_overdue(leg))
        except AriError as exc:
            self._log.warning("dialer.amd_not_started", call_id=leg.call_id, error=exc.message)
            leg.phase = "answered"
            self.tell(m.AnsweredByPerson(leg.call_id))  # never leave a person unanswered for want of detection

    def _detection_overdue(self, leg: Leg) -> None:
        if leg.phase == "detecting" and leg.call_id in self.legs:
            self._log.warning("dialer.amd_overdue", call_id=leg.call_id)
            self.service.services.spawn(self.service.services.outbound.hang_up, leg.call_id)

    async def detected(self, leg: Leg) -> None:
        """The channel is back from AMD(): its verdict is in AMDSTATUS."""
        try:
            status = await self.service.ari.get_variable(leg.call_id, "AMDSTATUS")
        except AriError:
            return  # gone meanwhile: its end settles it
        if leg.phase != "detecting":
            return
        self._log.info("dialer.amd", call_id=leg.call_id, status=status)
        if status == "MACHINE":
            leg.phase = "machine"
            self.tell(m.AnsweredByMachine(leg.call_id))
        else:  # HUMAN, or NOTSURE: a person must never be taken for a machine on a guess
            # The 2 seconds run from the end of the greeting, which is where AMD() ends.
            leg.phase, leg.answered_at = "answered", self.service.clock.now()
            self.tell(m.AnsweredByPerson(leg.call_id))

    async def _connect(self, call_id: str, agent_id: str) -> None:
        leg = self.legs.get(call_id)
        line = self.service.services.standing.line(agent_id)
        if leg is None:
            return  # ended meanwhile: the pacer heard it from the leg
        if line is None:
            self.tell(m.ConnectFailed(call_id))
            return
        try:
            await join(self.service.ari, line, call_id)
        except ChannelGone:
            return  # the person hung up: the leg's end tells the pacer
        except (LineGone, AriError) as exc:
            self._log.warning("dialer.connect_failed", call_id=call_id, agent=agent_id, error=str(exc))
            self.tell(m.ConnectFailed(call_id))
            return
        leg.phase, leg.agent_id = "connected", agent_id
        self.service.acd.connected(agent_id, call_id=call_id)
        self.service.services.emit(
            "dialer.connected",
            {"campaign": self.id, "call_id": call_id, "lead": leg.lead.id, "agent": agent_id,
             "wait": round(self.service.clock.now() - leg.answered_at, 3)},
        )  # fmt: skip
        self.tell(m.Connected(call_id))

    async def _play_and_hang_up(self, call_id: str, phase: LegPhase, media: list[str]) -> None:
        """The person hears the campaign's message (or the machine gets one), then the call is hung up when the
        playback ends (``playback_done``); with nothing to play, at once."""
        leg = self.legs.get(call_id)
        if leg is None:
            return
        leg.phase = phase
        if media:
            try:
                await self.service.ari.play(f"channel:{call_id}", media, playback_id=f"{call_id}.{phase}")
                return
            except AriError as exc:
                self._log.warning("dialer.play_failed", call_id=call_id, error=exc.message)
        await self.service.services.outbound.hang_up(call_id)

    def renewals(self, now: float, lease: float) -> list[CampaignLead]:
        """The claimed leads whose lease ends within half a lease: renewed while their call lasts."""
        return [lead for lead in self.claimed.values() if lead.lease_until - now < lease / 2]

    def renewed(self, lead: CampaignLead) -> None:
        if lead.id in self.claimed:
            self.claimed[lead.id] = lead

    def call_of(self, channel_id: str) -> Leg | None:
        return self.legs.get(channel_id)
