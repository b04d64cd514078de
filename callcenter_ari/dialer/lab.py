"""The dialer lab: a campaign simulated on a virtual clock, driven by the production ``Pacer``.

The lab plays the runtime's part: it feeds the pacer inputs and carries out its decisions against a simulated
world. Agents are persistent (joined with no ring) and always reservable; the trunk's lines are counted by the
production ``LineLedger``; each dial ends as the settings draw it (a person, a machine, busy, no answer), with
answering-machine detection taking people for machines at the given rate; talk and wrap-up times are lognormal.
Events are kept in a heap and the clock jumps from one to the next, so hours of a campaign take about a second.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import deque
from typing import Literal

import msgspec

from callcenter_ari.dialer.messages import (
    AgentAvailable,
    AgentReserved,
    AgentWrapup,
    AnsweredByMachine,
    AnsweredByPerson,
    CallPlaced,
    Connect,
    Connected,
    Decision,
    Dial,
    EndCall,
    Input,
    Lead,
    LeadsReady,
    LinesFree,
    NotAnswered,
    PauseCampaign,
    Preview,
    PreviewStart,
    Recorded,
    ReleaseAgent,
    ReserveAgent,
    SafeHarbour,
    Tick,
    WantLeads,
)
from callcenter_ari.dialer.pacer import Pacer
from callcenter_ari.dialer.settings import UK_OFCOM, US_TSR, AbandonRule, LedgerSettings, Mode, PacingSettings
from callcenter_ari.trunks import LineLedger

TRUNK = "lab"


class LabSettings(msgspec.Struct, frozen=True, kw_only=True):
    """A campaign to simulate. ``answer_rate``: share of dials answered at all; ``machine_rate``: share of the
    answered calls that are machines; ``amd_false_positives``: share of machine verdicts that were people (the
    ledger is told the same figure, as a campaign would be from listening to a sample)."""

    agents: int = 20
    hours: float = 4.0
    answer_rate: float = 0.35
    machine_rate: float = 0.20
    amd_false_positives: float = 0.01
    amd_seconds: float = 2.5
    busy_rate: float = 0.10
    ring_mean: float = 9.0
    ring_sd: float = 4.0
    ring_timeout: int = 25
    talk_mean: float = 120.0
    talk_sd: float = 60.0
    wrapup_mean: float = 15.0
    wrapup_sd: float = 5.0
    lines: int = 60
    preview_seconds: float = 8.0
    message_seconds: float = 8.0
    limit: float = 0.03
    rule: Literal["us", "uk"] = "us"
    ratio: float = 1.0
    setpoint: float = 0.75
    seed: int = 1

    def __post_init__(self) -> None:
        for name in ("answer_rate", "machine_rate", "busy_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if not 0.0 <= self.amd_false_positives < 1.0:
            raise ValueError("amd_false_positives must be in [0, 1)")
        if self.agents < 1 or self.lines < 1 or self.hours <= 0:
            raise ValueError("agents, lines and hours must be positive")
        if self.ring_timeout < 15:
            raise ValueError("ring_timeout must be at least 15 seconds (TSR and Ofcom)")
        positive = ("ring_mean", "talk_mean", "wrapup_mean", "amd_seconds", "message_seconds", "preview_seconds")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


class LabResult(msgspec.Struct, frozen=True, kw_only=True):
    """``abandon_rate`` is the rule's rate for the period, as the ledger has it at the end; ``worst_headroom`` the
    lowest headroom seen after any ledger entry (below 0: the rule's rate was over the limit at some moment);
    ``true_abandoned`` adds the people detection hung up on, which the simulation knows and a campaign does not."""

    mode: str
    talk_minutes: float  # per agent-hour
    idle_minutes: float  # per agent-hour: neither talking nor in wrap-up
    abandon_rate: float
    placed: int
    connected: int
    abandoned: int
    machines: int
    true_abandoned: int
    worst_headroom: float
    paused: int


def run(settings: LabSettings, mode: Mode) -> LabResult:
    return _Lab(settings, mode).run()


def lognormal(rng: random.Random, mean: float, sd: float) -> float:
    if sd <= 0:
        return mean
    sigma2 = math.log(1.0 + (sd / mean) ** 2)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


class _LineRelease(msgspec.Struct, frozen=True):
    call_id: str


class _Lab:
    def __init__(self, settings: LabSettings, mode: Mode) -> None:
        self.s = settings
        self.rng = random.Random(settings.seed)
        rule: AbandonRule = US_TSR if settings.rule == "us" else UK_OFCOM
        rule = msgspec.structs.replace(rule, limit=settings.limit)
        self.pacer = Pacer(
            PacingSettings(
                campaign="lab",
                mode=mode,
                ratio=settings.ratio,
                ring_seconds=settings.ring_timeout,
                setpoint=settings.setpoint,
                ledger=LedgerSettings(rules=(rule,), amd_false_positive_share=settings.amd_false_positives),
            )
        )
        self.lines = LineLedger({TRUNK: settings.lines})
        self.end = settings.hours * 3600.0
        self.now = 0.0
        self.heap: list[tuple[float, int, Input | _LineRelease]] = []
        self.seq = itertools.count()
        self.soon: deque[Input] = deque()
        self.leads = (Lead(f"lead-{n}", f"+1555{n:07d}") for n in itertools.count())
        # A person is taken for a machine with the chance that makes the given share of machine verdicts people.
        persons = settings.answer_rate * (1 - settings.machine_rate)
        machines = settings.answer_rate * settings.machine_rate
        share = settings.amd_false_positives
        self.misdetect = min(1.0, share * machines / (persons * (1 - share))) if persons > 0 else 0.0
        self.talk = self.wrapup = 0.0
        self.placed = self.connected = self.abandoned = self.machines = self.false_positives = self.paused = 0
        self.worst_headroom = math.inf

    def run(self) -> LabResult:
        self.soon.append(LinesFree(self.s.lines))
        self.soon.extend(AgentAvailable(f"agent-{n}") for n in range(self.s.agents))
        while True:
            while self.soon:
                self._feed(self.soon.popleft())
            tick = self.pacer.next_deadline()
            tick = math.inf if tick is None else max(tick, self.now)
            event_at = self.heap[0][0] if self.heap else math.inf
            if min(tick, event_at) >= self.end:
                break
            if tick <= event_at:
                self.now = tick
                self._feed(Tick())
            else:
                self.now, _, event = heapq.heappop(self.heap)
                if isinstance(event, _LineRelease):
                    self._release(event.call_id)
                else:
                    self._feed(event)
        return self._result()

    def _at(self, delay: float, event: Input | _LineRelease) -> None:
        heapq.heappush(self.heap, (self.now + delay, next(self.seq), event))

    def _feed(self, message: Input) -> None:
        for decision in self.pacer.handle(message, self.now):
            self._carry_out(decision)

    def _carry_out(self, decision: Decision) -> None:
        match decision:
            case WantLeads(count):
                self.soon.append(LeadsReady(tuple(itertools.islice(self.leads, count))))
            case ReserveAgent(agent_id, call_id):
                self.soon.append(AgentReserved(agent_id, call_id))
            case ReleaseAgent(agent_id, _, _):
                self.soon.append(AgentAvailable(agent_id))
            case Preview(_, call_id, _):
                self._at(self.s.preview_seconds * self.rng.uniform(0.5, 1.5), PreviewStart(call_id))
            case Dial():
                self._dial(decision)
            case Connect(call_id, agent_id):
                self._talk(call_id, agent_id)
            case SafeHarbour(call_id):
                self.abandoned += 1
                self._at(self.s.message_seconds, _LineRelease(call_id))
            case EndCall(call_id, _):
                self._release(call_id)
            case PauseCampaign():
                self.paused += 1
            case Recorded():
                self.worst_headroom = min(self.worst_headroom, self.pacer.ledger.headroom(self.now))
            case _:
                pass  # ReturnLead: the lab's list has no end

    def _dial(self, dial: Dial) -> None:
        if self.lines.acquire(dial.call_id, (TRUNK,)) is None:
            self.soon.append(NotAnswered(dial.call_id, "refused"))
            return
        self.placed += 1
        self.soon.extend((LinesFree(self.lines.free(TRUNK)), CallPlaced(dial.call_id)))
        s, rng = self.s, self.rng
        ring = lognormal(rng, s.ring_mean, s.ring_sd)
        if rng.random() >= s.answer_rate or ring >= s.ring_timeout:
            busy = rng.random() < s.busy_rate
            outcome: Input = NotAnswered(dial.call_id, "busy" if busy else "no_answer")
            delay = rng.uniform(2.0, 6.0) if busy else float(s.ring_timeout)
            self._at(delay, outcome)
            self._at(delay, _LineRelease(dial.call_id))
            return
        verdict = ring + s.amd_seconds
        if rng.random() < s.machine_rate:
            self.machines += 1
            self._at(verdict, AnsweredByMachine(dial.call_id))
        elif rng.random() < self.misdetect:
            self.false_positives += 1
            self._at(verdict, AnsweredByMachine(dial.call_id))
        else:
            self._at(verdict, AnsweredByPerson(dial.call_id))

    def _talk(self, call_id: str, agent_id: str) -> None:
        self.connected += 1
        self.soon.append(Connected(call_id))
        talk = lognormal(self.rng, self.s.talk_mean, self.s.talk_sd)
        wrapup = lognormal(self.rng, self.s.wrapup_mean, self.s.wrapup_sd)
        self.talk += max(0.0, min(talk, self.end - self.now))
        self.wrapup += max(0.0, min(wrapup, self.end - self.now - talk))
        self._at(talk, AgentWrapup(agent_id))
        self._at(talk, _LineRelease(call_id))
        self._at(talk + wrapup, AgentAvailable(agent_id))

    def _release(self, call_id: str) -> None:
        if self.lines.release(call_id) is not None:
            self.soon.append(LinesFree(self.lines.free(TRUNK)))

    def _result(self) -> LabResult:
        agent_hours = self.s.agents * self.s.hours
        (figures,) = self.pacer.ledger.figures(self.now)
        return LabResult(
            mode=self.pacer.settings.mode,
            talk_minutes=self.talk / agent_hours / 60.0,
            idle_minutes=60.0 - (self.talk + self.wrapup) / agent_hours / 60.0,
            abandon_rate=figures.rate,
            placed=self.placed,
            connected=self.connected,
            abandoned=self.abandoned,
            machines=self.machines,
            true_abandoned=self.abandoned + self.false_positives,
            worst_headroom=self.worst_headroom,
            paused=self.paused,
        )
