"""The pacer: one campaign's dialing decisions, as a sans-IO machine.

Theory of operation
-------------------
``handle(input, now)`` takes one input (an agent's state, a call's progress, leads, free lines, a tick) and returns
the decisions to carry out, in order. After every input the pacer looks again at what it may dial, so the runtime
needs nothing but one timer at ``next_deadline()`` that sends ``Tick``.

*Agents*, as the pacer sees the campaign's agents: ``idle`` -> ``reserving`` (``ReserveAgent`` sent) ->
``reserved`` (held for a call) -> ``talking`` -> ``wrapup`` -> ``idle``. An agent away (not ready, inbound work,
logged out) is not tracked at all.

*Calls*: ``held`` (a lead and an agent being reserved for it) -> ``preview`` (the agent reads the lead) ->
``dialing`` -> ``ringing`` -> [answered by a person] -> ``waiting`` (no agent yet) -> ``matching`` (an agent being
reserved) -> ``connecting`` -> gone from the pacer once connected. A call with an agent reserved before the dial
(preview, progressive) goes from ringing straight to ``connecting``. A call that is not answered, answered by a
machine, or abandoned is gone as well. Inputs about calls or agents the pacer does not know, or in a phase they do
not apply to, are ignored: they come from the network, where such races are normal.

*Modes.* Preview and progressive reserve an idle agent, then dial one lead for them (preview shows it first and
waits for the agent); the agent stays reserved from one lead to the next until a person answers. Progressive with
a ``ratio`` above 1 adds unreserved calls. Predictive dials unreserved calls ahead of the agents
(``forecast.dials``), and a person who answers takes the longest-idle agent, or waits for the next one to come
free until the connect deadline, when they hear the safe-harbour message.

*The limit.* Every mode answers to the abandon budget: the ledger's ``headroom`` (abandons the rules still allow
in their current periods) against what the calls in flight could cost (``forecast.within_budget``). With no
headroom (a new campaign, a new day under the UK rule, a rate near the limit) no call is dialed beyond the agents
idle now, which is progressive dialing; the controller (``controller.py``) keeps the rate at its target below the
limit so that the headroom grows. A rule over its limit all the same (people taken for machines count under
Ofcom's rule) pauses the campaign.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Iterable
from typing import Literal

from callcenter_ari.acd.indexes import Deadlines
from callcenter_ari.dialer import forecast
from callcenter_ari.dialer.controller import AbandonController
from callcenter_ari.dialer.estimate import DialOutcomes, HandleTimes
from callcenter_ari.dialer.ledger import AbandonLedger
from callcenter_ari.dialer.messages import (
    AgentAvailable,
    AgentAway,
    AgentReserved,
    AgentWrapup,
    AnsweredByMachine,
    AnsweredByPerson,
    CallPlaced,
    Connect,
    Connected,
    ConnectFailed,
    CustomerHungUp,
    Decision,
    Dial,
    EndCall,
    Input,
    Lead,
    LeadsReady,
    LinesFree,
    NotAnswered,
    Pause,
    PauseCampaign,
    Preview,
    PreviewSkip,
    PreviewStart,
    Recorded,
    ReleaseAgent,
    ReservationRefused,
    ReserveAgent,
    Resume,
    ReturnLead,
    SafeHarbour,
    Tick,
    WantLeads,
)
from callcenter_ari.dialer.settings import PacingSettings

AgentState = Literal["idle", "reserving", "reserved", "talking", "wrapup"]
Phase = Literal["held", "preview", "dialing", "ringing", "waiting", "matching", "connecting"]

# Calls that hold a trunk line the executor has not taken yet (it takes it at the dial).
_LINE_PROMISED: frozenset[str] = frozenset({"held", "preview"})
_IN_FLIGHT: frozenset[str] = frozenset({"dialing", "ringing"})


class _Agent:
    __slots__ = ("agent_id", "call_id", "since", "state")

    def __init__(self, agent_id: str, now: float) -> None:
        self.agent_id = agent_id
        self.state: AgentState = "idle"
        self.since = now
        self.call_id = ""


class _Call:
    __slots__ = ("agent_id", "call_id", "dialed_at", "lead", "phase")

    def __init__(self, call_id: str, lead: Lead, phase: Phase, agent_id: str = "") -> None:
        self.call_id = call_id
        self.lead = lead
        self.phase: Phase = phase
        self.agent_id = agent_id
        self.dialed_at = 0.0


class Pacer:
    def __init__(
        self,
        settings: PacingSettings,
        *,
        now: float = 0.0,
        ledger: Iterable[Recorded] = (),
        id_prefix: str = "",
    ) -> None:
        """``ledger``: the campaign's recorded entries (after a restart); ``id_prefix`` makes call ids unique
        across processes and restarts (the runtime passes one of its own)."""
        self.settings = settings
        self.ledger = AbandonLedger(settings.ledger, ledger)
        self.outcomes = DialOutcomes()
        self.handle_times = HandleTimes()
        self.controller = AbandonController(settings.setpoint * settings.ledger.limit)
        self.paused = False
        self._agents: dict[str, _Agent] = {}
        self._idle: dict[str, None] = {}  # idle agents, longest idle first
        self._calls: dict[str, _Call] = {}
        self._waiting: dict[str, None] = {}  # answered calls with no agent, longest waiting first
        self._hopper: deque[Lead] = deque()
        self._asked = 0
        self._leads_retry_at = now
        self._lines = 0
        self._deadlines = Deadlines()
        self._next_tick: float | None = None
        self._steering = False  # whether the controller's test set the last predictive count
        self._ids = (f"{id_prefix or settings.campaign}-{n}" for n in itertools.count(1))

    # ---- the machine ------------------------------------------------------------------------------------

    def handle(self, message: Input, now: float) -> list[Decision]:
        out: list[Decision] = []
        _STEPS[type(message)](self, message, now, out)
        self._pace(now, out, forecasting=type(message) in _FORECAST_AFTER)
        return out

    def next_deadline(self) -> float | None:
        due = self._deadlines.next()
        if self._next_tick is not None and (due is None or self._next_tick < due):
            return self._next_tick
        return due

    # ---- views --------------------------------------------------------------------------------------------

    def agents(self) -> dict[str, str]:
        return {agent_id: agent.state for agent_id, agent in self._agents.items()}

    def calls(self) -> dict[str, str]:
        return {call_id: call.phase for call_id, call in self._calls.items()}

    def hopper(self) -> int:
        return len(self._hopper)

    def spare_agents(self, now: float) -> int:
        """Idle agents who could leave the campaign now (a blended agent wanted by the hotline) without the calls
        in flight being able to cause more abandons than the budget allows: the others are covering them."""
        covering = len(self._waiting) + self._unsecured_in_flight() - math.floor(max(0.0, self.ledger.headroom(now)))
        return max(0, len(self._idle) - max(0, covering))

    # ---- inputs: resources ----------------------------------------------------------------------------------

    def _leads_ready(self, message: LeadsReady, now: float, out: list[Decision]) -> None:
        self._hopper.extend(message.leads)
        if len(message.leads) < self._asked:
            self._leads_retry_at = now + self.settings.leads_retry_seconds
            self._deadlines.set("leads", "", self._leads_retry_at)
        self._asked = 0

    def _lines_free(self, message: LinesFree, now: float, out: list[Decision]) -> None:
        promised = sum(1 for call in self._calls.values() if call.phase in _LINE_PROMISED)
        self._lines = message.count - promised

    def _tick(self, message: Tick, now: float, out: list[Decision]) -> None:
        while (due := self._deadlines.pop_due(now)) is not None:
            _, kind, ident = due
            call = self._calls.get(ident)
            if kind == "connect" and call is not None and call.phase in ("waiting", "matching"):
                self._abandon(call, now, out, message=True)
            elif kind == "preview" and call is not None and call.phase == "preview":
                self._dial(call, now, out)

    def _pause(self, message: Pause, now: float, out: list[Decision]) -> None:
        self._stop(now, out)

    def _resume(self, message: Resume, now: float, out: list[Decision]) -> None:
        self.paused = False

    # ---- inputs: agents -------------------------------------------------------------------------------------

    def _agent_available(self, message: AgentAvailable, now: float, out: list[Decision]) -> None:
        agent = self._agents.get(message.agent_id)
        if agent is None:
            agent = self._agents[message.agent_id] = _Agent(message.agent_id, now)
        elif agent.state == "idle":
            return  # said twice: keep their place among the idle
        elif agent.state == "wrapup":
            self.handle_times.wrapup.add(now - agent.since)
        elif agent.state == "talking":  # a campaign with no wrap-up
            self.handle_times.talk.add(now - agent.since)
            self.handle_times.wrapup.add(0.0)
        elif agent.state in ("reserving", "reserved"):
            self._unhook(agent, now, out)
        self._set_idle(agent, now)

    def _agent_reserved(self, message: AgentReserved, now: float, out: list[Decision]) -> None:
        agent = self._agents.get(message.agent_id)
        if agent is None:
            return
        if agent.state != "reserving" or agent.call_id != message.call_id:
            if message.call_id != agent.call_id and message.call_id not in self._calls:
                # Reserved for something else (an inbound call took a blended agent): away from the campaign.
                self._forget(agent, now, out)
            return  # otherwise a repeated or late confirmation of our own
        call = self._calls.get(message.call_id)
        if call is None:  # the customer gave up while the reservation was on its way
            out.append(ReleaseAgent(agent.agent_id, message.call_id, "call_gone"))
            self._set_idle(agent, now)
            return
        agent.state = "reserved"
        if call.phase == "matching":
            call.phase = "connecting"
            out.append(Connect(call.call_id, agent.agent_id))
        elif self.settings.mode == "preview":
            self._preview(call, now, out)
        else:
            self._dial(call, now, out)

    def _reservation_refused(self, message: ReservationRefused, now: float, out: list[Decision]) -> None:
        agent = self._agents.get(message.agent_id)
        if agent is not None and agent.call_id == message.call_id:
            self._forget(agent, now, out)

    def _agent_wrapup(self, message: AgentWrapup, now: float, out: list[Decision]) -> None:
        agent = self._agents.get(message.agent_id)
        if agent is None:
            return
        if agent.state == "talking":
            self.handle_times.talk.add(now - agent.since)
        elif agent.state != "wrapup":
            self._unhook(agent, now, out)
        agent.state, agent.since = "wrapup", now
        self._idle.pop(agent.agent_id, None)

    def _agent_away(self, message: AgentAway, now: float, out: list[Decision]) -> None:
        agent = self._agents.get(message.agent_id)
        if agent is not None:
            self._forget(agent, now, out)

    def _preview_start(self, message: PreviewStart, now: float, out: list[Decision]) -> None:
        call = self._calls.get(message.call_id)
        if call is not None and call.phase == "preview":
            self._deadlines.cancel("preview", call.call_id)
            self._dial(call, now, out)

    def _preview_skip(self, message: PreviewSkip, now: float, out: list[Decision]) -> None:
        call = self._calls.get(message.call_id)
        if call is None or call.phase != "preview":
            return
        self._deadlines.cancel("preview", call.call_id)
        out.append(ReturnLead(call.lead.lead_id, "skipped"))
        self._lines += 1
        self._next_for_agent(call, now, out, "skipped")

    # ---- inputs: calls --------------------------------------------------------------------------------------

    def _call_placed(self, message: CallPlaced, now: float, out: list[Decision]) -> None:
        call = self._calls.get(message.call_id)
        if call is not None and call.phase == "dialing":
            call.phase = "ringing"

    def _not_answered(self, message: NotAnswered, now: float, out: list[Decision]) -> None:
        call = self._calls.get(message.call_id)
        if call is None or call.phase not in _IN_FLIGHT:
            return
        if message.outcome != "refused":
            self.outcomes.add(False, now - call.dialed_at)
        self._next_for_agent(call, now, out, message.outcome)

    def _answered_by_machine(self, message: AnsweredByMachine, now: float, out: list[Decision]) -> None:
        call = self._calls.get(message.call_id)
        if call is None or call.phase not in _IN_FLIGHT:
            return
        self.outcomes.add(False, now - call.dialed_at)
        out.append(EndCall(call.call_id, "machine"))
        self._record(Recorded(now, call.call_id, "machine"), out)
        self._next_for_agent(call, now, out, "machine")

    def _answered_by_person(self, message: AnsweredByPerson, now: float, out: list[Decision]) -> None:
        call = self._calls.get(message.call_id)
        if call is None or call.phase not in _IN_FLIGHT:
            return
        self.outcomes.add(True, now - call.dialed_at)
        self._deadlines.set("connect", call.call_id, now + self.settings.connect_seconds)
        agent = self._agents.get(call.agent_id)
        if agent is not None and agent.state == "reserved" and agent.call_id == call.call_id:
            call.phase = "connecting"
            out.append(Connect(call.call_id, agent.agent_id))
            return
        self._back_to_waiting(call, now, out)

    def _connected(self, message: Connected, now: float, out: list[Decision]) -> None:
        call = self._calls.get(message.call_id)
        if call is None or call.phase != "connecting":
            return
        del self._calls[call.call_id]
        self._deadlines.cancel("connect", call.call_id)
        agent = self._agents.get(call.agent_id)
        if agent is not None:
            agent.state, agent.since = "talking", now
        self.controller.observe(abandoned=False, steering=self._steering)
        self._record(Recorded(now, call.call_id, "connected"), out)

    def _connect_failed(self, message: ConnectFailed, now: float, out: list[Decision]) -> None:
        call = self._calls.get(message.call_id)
        if call is None or call.phase != "connecting":
            return
        agent = self._agents.get(call.agent_id)
        if agent is not None:
            agent.call_id = ""  # so that forgetting the agent leaves the call alone
            self._forget(agent, now, out)
        self._back_to_waiting(call, now, out)

    def _customer_hung_up(self, message: CustomerHungUp, now: float, out: list[Decision]) -> None:
        call = self._calls.get(message.call_id)
        if call is not None and call.phase in ("waiting", "matching", "connecting"):
            self._abandon(call, now, out, message=False)

    # ---- steps shared by several inputs ---------------------------------------------------------------------

    def _new_call(self, lead: Lead, phase: Phase, agent_id: str = "") -> _Call:
        call = _Call(next(self._ids), lead, phase, agent_id)
        self._calls[call.call_id] = call
        return call

    def _dial(self, call: _Call, now: float, out: list[Decision]) -> None:
        if call.phase not in _LINE_PROMISED:
            self._lines -= 1
        call.phase, call.dialed_at = "dialing", now
        out.append(Dial(call.call_id, call.lead, self.settings.ring_seconds, call.agent_id))

    def _preview(self, call: _Call, now: float, out: list[Decision]) -> None:
        call.phase = "preview"
        out.append(Preview(call.agent_id, call.call_id, call.lead))
        if self.settings.preview_seconds > 0:
            self._deadlines.set("preview", call.call_id, now + self.settings.preview_seconds)

    def _set_idle(self, agent: _Agent, now: float) -> None:
        agent.state, agent.since, agent.call_id = "idle", now, ""
        self._idle.pop(agent.agent_id, None)
        self._idle[agent.agent_id] = None

    def _match(self, now: float, out: list[Decision]) -> None:
        """Answered people, longest waiting first, take the longest-idle agent; failing that, an agent reserved for
        a call still ringing (progressive above a ratio of 1), whose own call then rings on unreserved."""
        while self._waiting:
            agent = self._agents[next(iter(self._idle))] if self._idle else self._reserved_for_ringing()
            if agent is None:
                return
            call_id = next(iter(self._waiting))
            del self._waiting[call_id]
            call = self._calls[call_id]
            call.agent_id = agent.agent_id
            if agent.state == "idle":
                del self._idle[agent.agent_id]
                agent.state, agent.call_id = "reserving", call_id
                call.phase = "matching"
                out.append(ReserveAgent(agent.agent_id, call_id))
            else:
                self._calls[agent.call_id].agent_id = ""
                agent.call_id, call.phase = call_id, "connecting"
                out.append(Connect(call_id, agent.agent_id))

    def _reserved_for_ringing(self) -> _Agent | None:
        for agent in self._agents.values():
            if agent.state == "reserved":
                own = self._calls.get(agent.call_id)
                if own is not None and own.phase in _IN_FLIGHT:
                    return agent
        return None

    def _back_to_waiting(self, call: _Call, now: float, out: list[Decision]) -> None:
        """The answered call has no agent (yet): it waits for one until its connect deadline, which may have
        passed already while a connection was being tried."""
        if self._deadlines.get("connect", call.call_id) is None:
            self._abandon(call, now, out, message=True)
            return
        call.phase, call.agent_id = "waiting", ""
        self._waiting[call.call_id] = None
        self._match(now, out)

    def _abandon(self, call: _Call, now: float, out: list[Decision], *, message: bool) -> None:
        """A person answered and no agent took them in time (or they hung up first)."""
        del self._calls[call.call_id]
        self._waiting.pop(call.call_id, None)
        self._deadlines.cancel("connect", call.call_id)
        if message:
            out.append(SafeHarbour(call.call_id))
        agent = self._agents.get(call.agent_id)
        if agent is not None and agent.call_id == call.call_id and agent.state == "reserved":
            out.append(ReleaseAgent(agent.agent_id, call.call_id, "abandoned"))
            self._set_idle(agent, now)
        self.controller.observe(abandoned=True)
        self._record(Recorded(now, call.call_id, "abandoned", message), out)

    def _next_for_agent(self, call: _Call, now: float, out: list[Decision], reason: str) -> None:
        """The call is over without a conversation. Its reserved agent, if any, goes on with the next lead, or is
        released when there is none to dial."""
        del self._calls[call.call_id]
        agent = self._agents.get(call.agent_id)
        if agent is None or agent.state != "reserved" or agent.call_id != call.call_id:
            return
        lead = self._take_lead()
        if lead is None:
            out.append(ReleaseAgent(agent.agent_id, call.call_id, reason))
            self._set_idle(agent, now)
            return
        following = self._new_call(lead, "held", agent.agent_id)
        agent.call_id = following.call_id
        if self.settings.mode == "preview":
            self._preview(following, now, out)
        else:
            self._dial(following, now, out)

    def _take_lead(self) -> Lead | None:
        """The next lead for a reserved agent, with a line promised to it; None when there is none to dial."""
        if self.paused or not self._hopper or self._lines <= 0 or self.settings.mode == "predictive":
            return None
        self._lines -= 1
        return self._hopper.popleft()

    def _unhook(self, agent: _Agent, now: float, out: list[Decision]) -> None:
        """The agent is leaving the call they were reserved for: a call not dialed yet goes back (its lead to the
        hopper), a call in flight goes on without them, an answered one waits for another agent."""
        call = self._calls.get(agent.call_id)
        agent.call_id = ""
        if call is None:
            return
        call.agent_id = ""
        if call.phase in _LINE_PROMISED:
            del self._calls[call.call_id]
            self._deadlines.cancel("preview", call.call_id)
            self._hopper.appendleft(call.lead)
            self._lines += 1
        elif call.phase in ("matching", "connecting"):
            self._back_to_waiting(call, now, out)

    def _forget(self, agent: _Agent, now: float, out: list[Decision]) -> None:
        del self._agents[agent.agent_id]
        self._idle.pop(agent.agent_id, None)
        if agent.state in ("reserving", "reserved"):
            self._unhook(agent, now, out)

    def _stop(self, now: float, out: list[Decision]) -> None:
        """Paused: the hopper's leads go back, agents waiting for a lead are released; calls in flight go on."""
        self.paused = True
        for call in [call for call in self._calls.values() if call.phase in _LINE_PROMISED]:
            agent = self._agents.get(call.agent_id)
            if agent is not None:
                agent.call_id = ""
                out.append(ReleaseAgent(agent.agent_id, call.call_id, "paused"))
                self._set_idle(agent, now)
            self._hopper.appendleft(call.lead)
            self._lines += 1
            del self._calls[call.call_id]
            self._deadlines.cancel("preview", call.call_id)
        while self._hopper:
            out.append(ReturnLead(self._hopper.popleft().lead_id, "paused"))

    def _record(self, entry: Recorded, out: list[Decision]) -> None:
        self.ledger.record(entry)
        out.append(entry)
        if entry.kind == "connected" or self.paused:
            return
        for breach in self.ledger.breaches(entry.at):
            out.append(PauseCampaign(breach.rule, breach.rate, breach.limit, breach.answered, breach.abandoned))
            self._stop(entry.at, out)
            return

    # ---- pacing ---------------------------------------------------------------------------------------------

    def _pace(self, now: float, out: list[Decision], *, forecasting: bool) -> None:
        if self.paused:
            self._next_tick = None
            return
        self._match(now, out)
        if self.settings.mode == "predictive":
            if forecasting or self._next_tick is None:
                self._dial_ahead(now, out)
                self._next_tick = now + self.settings.tick_seconds if self._agents else None
        else:
            self._reserve_for_leads(out)
            if self.settings.mode == "progressive" and self.settings.ratio > 1.0:
                self._dial_extra(now, out)
        self._refill(now, out)

    def _reserve_for_leads(self, out: list[Decision]) -> None:
        """Preview and progressive: each idle agent is reserved for the next lead, a line promised to it."""
        for agent_id in list(self._idle):
            if not self._hopper or self._lines <= 0:
                return
            self._lines -= 1
            call = self._new_call(self._hopper.popleft(), "held", agent_id)
            agent = self._agents[agent_id]
            del self._idle[agent_id]
            agent.state, agent.call_id = "reserving", call.call_id
            out.append(ReserveAgent(agent_id, call.call_id))

    def _dial_extra(self, now: float, out: list[Decision]) -> None:
        """Progressive above a ratio of 1: unreserved calls up to ``ratio`` per serving agent, within budget."""
        serving = sum(1 for agent in self._agents.values() if self._serving(agent))
        flying = sum(1 for call in self._calls.values() if call.phase != "connecting")
        wanted = math.floor(self.settings.ratio * serving + 1e-9) - flying
        if wanted <= 0:
            return
        picture = self._picture(now)
        headroom = self.ledger.headroom(now)
        extra = 0
        while extra < wanted and forecast.within_budget(picture, extra + 1, headroom):
            extra += 1
        self._dial_new(extra, now, out)

    def _serving(self, agent: _Agent) -> bool:
        """Free, or reserved for a call nobody has answered yet."""
        if agent.state in ("idle", "reserving"):
            return True
        call = self._calls.get(agent.call_id) if agent.state == "reserved" else None
        return call is not None and (call.phase in _LINE_PROMISED or call.phase in _IN_FLIGHT)

    def _dial_ahead(self, now: float, out: list[Decision]) -> None:
        cap = min(
            self._lines,
            len(self._hopper),
            math.floor(self.settings.max_lines_per_agent * len(self._agents)) - len(self._calls),
        )
        if cap <= 0:
            return
        headroom = self.ledger.headroom(now)
        if len(self._waiting) + self._unsecured_in_flight() + 1 - len(self._idle) > max(0.0, headroom):
            return  # not even one more call fits the budget: no need to forecast
        picture = self._picture(now)
        count, self._steering = forecast.dials(picture, theta=self.controller.theta, headroom=headroom, cap=cap)
        self._dial_new(count, now, out)

    def _dial_new(self, count: int, now: float, out: list[Decision]) -> None:
        for _ in range(min(count, len(self._hopper), self._lines)):
            self._dial(self._new_call(self._hopper.popleft(), "dialing"), now, out)

    def _unsecured_in_flight(self) -> int:
        return sum(1 for call in self._calls.values() if call.phase in _IN_FLIGHT and not call.agent_id)

    def _picture(self, now: float) -> forecast.Picture:
        talking: list[float] = []
        wrapping: list[float] = []
        for agent in self._agents.values():
            if agent.state == "talking":
                talking.append(now - agent.since)
            elif agent.state == "wrapup":
                wrapping.append(now - agent.since)
        ringing = [
            now - call.dialed_at for call in self._calls.values() if call.phase in _IN_FLIGHT and not call.agent_id
        ]
        # A call dialed now is answered in about this time, and an agent free up to the connect deadline after
        # that still takes the person.
        horizon = self.outcomes.time_to_person(self.settings.ring_seconds / 2) + self.settings.connect_seconds
        supply, supply_var = self.handle_times.expected_free(talking, wrapping, horizon)
        demand, demand_var = self.outcomes.expected_persons(ringing)
        idle, waiting = len(self._idle), len(self._waiting)
        return forecast.Picture(
            idle=idle,
            supply_mean=idle + supply,
            supply_var=supply_var,
            demand_mean=waiting + demand,
            demand_var=demand_var,
            unsecured=waiting + len(ringing),
            person_rate=self.outcomes.person_rate(),
        )

    def _refill(self, now: float, out: list[Decision]) -> None:
        target = self.settings.hopper or max(10, math.ceil(2 * self.settings.max_lines_per_agent * len(self._agents)))
        if self._asked or now < self._leads_retry_at or len(self._hopper) * 2 > target:
            return
        self._asked = target - len(self._hopper)
        out.append(WantLeads(self._asked))


# The predictive forecast runs every tick, and at once after inputs that may free room for more calls.
_FORECAST_AFTER: frozenset[type[Input]] = frozenset(
    {Tick, LeadsReady, Resume, AgentAvailable, NotAnswered, AnsweredByMachine, Connected}
)

# Each step takes the pacer, one specific input type, the time and the list to append decisions to.
_Step = Callable[..., None]

_STEPS: dict[type[Input], _Step] = {
    LeadsReady: Pacer._leads_ready,
    LinesFree: Pacer._lines_free,
    Tick: Pacer._tick,
    Pause: Pacer._pause,
    Resume: Pacer._resume,
    AgentAvailable: Pacer._agent_available,
    AgentReserved: Pacer._agent_reserved,
    ReservationRefused: Pacer._reservation_refused,
    AgentWrapup: Pacer._agent_wrapup,
    AgentAway: Pacer._agent_away,
    PreviewStart: Pacer._preview_start,
    PreviewSkip: Pacer._preview_skip,
    CallPlaced: Pacer._call_placed,
    NotAnswered: Pacer._not_answered,
    AnsweredByMachine: Pacer._answered_by_machine,
    AnsweredByPerson: Pacer._answered_by_person,
    Connected: Pacer._connected,
    ConnectFailed: Pacer._connect_failed,
    CustomerHungUp: Pacer._customer_hung_up,
}
