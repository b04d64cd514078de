"""What people may ask of a call through the API, in every phase: the machine's refusal (the reason the API answers
with 409) and what ``handle`` does, which must agree: a refused request changes nothing, a taken one acts."""

# ruff: noqa: E501  (the grid below is one row per state and one column per request: wider than a line)

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import get_args

import msgspec
import pytest

from callcenter_ari import ivr
from callcenter_ari.calls.machine import CallSettings, InboundCall, QueueSettings
from callcenter_ari.calls.messages import (
    AgentGone,
    AgentJoined,
    AgentReserved,
    AgentUp,
    CallbackOffer,
    CallerGone,
    CancelConsult,
    CompleteTransfer,
    Consult,
    Digit,
    Hold,
    Offered,
    PlaybackDone,
    QueueEnded,
    RecordingControl,
    Request,
    Start,
    StartConference,
    TransferTo,
    TransferToAgent,
    Unhold,
)
from callcenter_ari.calls.records import CallPhase, CallRecord
from callcenter_ari.recording.settings import RecordingPolicy

SURVEY = ivr.survey_flow("csat", msgspec.convert({"question": ["sound:rate-us"], "thanks": []}, ivr.Survey))
VOICEMAIL = msgspec.convert(
    {"start": "vm", "nodes": {"vm": {"kind": "voicemail", "mailbox": "general", "prompt": [], "max_seconds": 60}}},
    ivr.Flow,
)
MENU = msgspec.convert(
    {"start": "m", "nodes": {"m": {"kind": "menu", "prompt": ["sound:menu"], "options": {}, "fallback": "m"}}},
    ivr.Flow,
)
SETTINGS = CallSettings(
    greeting="sound:hello",
    queue="support",
    queues={
        "support": QueueSettings(moh_class="default"),
        "billing": QueueSettings(),
        "surveyed": QueueSettings(survey=SURVEY, survey_name="csat"),
        "recorded": QueueSettings(recording=RecordingPolicy(mode="all")),
    },
    destinations={"head_office": ("PJSIP/200", "")},
)


def call(settings: CallSettings = SETTINGS) -> InboundCall:
    record = CallRecord(call_id="c1", channel_id="ch1", caller="+15551234567", did="5552000", started_at=0.0)
    return InboundCall(record, settings)


def feed(machine: InboundCall, *inputs: object) -> InboundCall:
    for now, message in enumerate(inputs, start=1):
        machine.handle(message, float(now))  # type: ignore[arg-type]
    return machine


def queued(queue: str = "support") -> InboundCall:
    settings = msgspec.structs.replace(SETTINGS, queue=queue)
    return feed(call(settings), Start(), PlaybackDone("c1-greeting"))


def talking(queue: str = "support") -> InboundCall:
    return feed(queued(queue), Offered("a1", "PJSIP/a1"), AgentUp("c1-a1"))


def consulting(*, answered: bool) -> InboundCall:
    machine = feed(talking(), Consult("agent", "a2"), AgentReserved("a2", "PJSIP/a2"))
    return feed(machine, AgentUp("c1-c2")) if answered else machine


# Every state a call can be in when a request comes, and how to get there.
STATES: dict[str, Callable[[], InboundCall]] = {
    "new": call,
    "greeting": lambda: feed(call(), Start()),
    "ivr": lambda: feed(call(msgspec.structs.replace(SETTINGS, flow=MENU)), Start()),
    "queued": queued,
    "ringing": lambda: feed(queued(), Offered("a1", "PJSIP/a1")),
    "joining": lambda: feed(queued(), Offered("p1", "PJSIP/p1", line="line-p1", bridge="line-p1-b")),
    "transfer": lambda: feed(talking(), TransferTo("destination", "head_office")),
    "handover": lambda: feed(talking(), TransferToAgent("a2"), AgentReserved("a2", "PJSIP/a2")),
    "talking": talking,
    "talking, on hold": lambda: feed(talking(), Hold()),
    "talking, recorded": lambda: talking("recorded"),
    "talking, recording paused": lambda: feed(talking("recorded"), RecordingControl("pause")),
    "talking, persistent agent": lambda: feed(
        queued(), Offered("p1", "PJSIP/p1", line="line-p1", bridge="line-p1-b"), AgentJoined()
    ),
    "talking, no agent": lambda: feed(talking(), TransferTo("destination", "head_office"), AgentUp("c1-t2")),
    "consulting, ringing": lambda: consulting(answered=False),
    "consulting, answered": lambda: consulting(answered=True),
    "conference": lambda: feed(consulting(answered=True), StartConference()),
    "survey": lambda: feed(talking("surveyed"), AgentGone(16, "c1-a1")),
    "voicemail": lambda: feed(call(msgspec.structs.replace(SETTINGS, flow=VOICEMAIL)), Start()),
    "leaving": lambda: feed(queued(), QueueEnded("closing", "sound:sorry")),
    "callback": lambda: feed(queued(), CallbackOffer(), Digit("1")),
    "ended": lambda: feed(talking(), CallerGone(16)),
}

REQUESTS: dict[str, Request] = {
    "hold": Hold(),
    "unhold": Unhold(),
    "to queue": TransferTo("queue", "billing"),
    "to unknown queue": TransferTo("queue", "nowhere"),
    "to destination": TransferTo("destination", "head_office"),
    "to agent": TransferToAgent("a2"),
    "to own agent": TransferToAgent("a1"),
    "consult agent": Consult("agent", "a2"),
    "consult own agent": Consult("agent", "a1"),
    "consult destination": Consult("destination", "head_office"),
    "consult unknown": Consult("destination", "nowhere"),
    "complete": CompleteTransfer(),
    "cancel": CancelConsult(),
    "conference": StartConference(),
    "record start": RecordingControl("start"),
    "record stop": RecordingControl("stop"),
    "record pause": RecordingControl("pause"),
    "record resume": RecordingControl("resume"),
}

# The answer to each request in each state. ``ok``: taken. ``phase``: not in this phase at all, whatever the call
# (the reason names the phase, see NOT_NOW). Any other code is a reason of its own (REASONS). One row per state,
# one column per request, in the order of REQUESTS.
#                                 hold   unhold toQ    toQ?   toD    toA    toA1   conA   conA1  conD   conD?  compl  cancel conf   r.st   r.stop r.paus r.res
GRID = {
    "new":                       "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase",
    "greeting":                  "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase",
    "ivr":                       "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase",
    "queued":                    "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  ok     ok     notrec notrec",
    "ringing":                   "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  ok     ok     notrec notrec",
    "joining":                   "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase",
    "transfer":                  "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase",
    "handover":                  "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  ok     notrec notrec notrec",
    "talking":                   "ok     unheld ok     noq    ok     ok     own    ok     own    ok     nodest phase  phase  phase  ok     notrec notrec notrec",
    "talking, on hold":          "held   ok     ok     noq    ok     ok     own    ok     own    ok     nodest phase  phase  phase  ok     notrec notrec notrec",
    "talking, recorded":         "ok     unheld ok     noq    ok     ok     own    ok     own    ok     nodest phase  phase  phase  isrec  ok     ok     notpau",
    "talking, recording paused": "ok     unheld ok     noq    ok     ok     own    ok     own    ok     nodest phase  phase  phase  isrec  ok     paused ok",
    "talking, persistent agent": "ok     unheld ok     noq    ok     pers   pers   pcons  pcons  pcons  pcons  phase  phase  phase  ok     notrec notrec notrec",
    "talking, no agent":         "ok     unheld ok     noq    ok     noagt  noagt  nocons nocons nocons nocons phase  phase  phase  ok     notrec notrec notrec",
    "consulting, ringing":       "phase  phase  phase  phase  phase  phase  phase  busy   busy   busy   busy   unans  ok     unans  ok     notrec notrec notrec",
    "consulting, answered":      "phase  phase  phase  phase  phase  phase  phase  busy   busy   busy   busy   ok     ok     ok     ok     notrec notrec notrec",
    "conference":                "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  ok     notrec notrec notrec",
    "survey":                    "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase",
    "voicemail":                 "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase",
    "leaving":                   "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase",
    "callback":                  "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase",
    "ended":                     "phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase  phase",
}  # fmt: skip

REASONS = {
    "held": "the call is on hold already",
    "unheld": "the call is not on hold",
    "noq": "no queue 'nowhere'",
    "nodest": "no destination 'nowhere'",
    "own": "agent a1 is the agent on this call",
    "pers": "a persistent agent's call goes on to a queue or a destination, not to a named agent",
    "pcons": "a persistent agent's call cannot consult: transfer it to a queue or a destination",
    "noagt": "the call has no agent on it to hand it over",
    "nocons": "the call has no agent on it to consult for",
    "busy": "a consultation is in progress already: complete or cancel it first",
    "unans": "the consulted party has not answered yet: wait, or cancel",
    "isrec": "cannot start the recording: already recording",
    "paused": "cannot pause the recording: already paused",
    "notpau": "cannot resume the recording: not paused",
}

# Why a request does not apply in a phase at all.
NOT_NOW = {
    "hold": "only a call with an agent can be put on hold",
    "unhold": "only a call with an agent can be put on hold",
    "to": "only a connected call can be transferred",
    "consult": "only a connected call can consult",
    "complete": "no consultation in progress",
    "cancel": "no consultation in progress",
    "conference": "no consultation in progress",
    "record": "its recording cannot be changed now",
}


def expected(state: str, asked: str) -> str | None:
    code = GRID[state].split()[list(REQUESTS).index(asked)]
    if code == "ok":
        return None
    if code == "notrec":
        return f"cannot {asked.split()[1]} the recording: not recording"
    if code == "phase":
        return f"the call is {STATES[state]().record.phase}: {NOT_NOW[asked.split()[0]]}"
    return REASONS[code]


CASES = [(state, asked) for state in STATES for asked in REQUESTS]


def test_the_grid_covers_every_phase_and_every_request() -> None:
    assert {STATES[state]().record.phase for state in STATES} == set(get_args(CallPhase))
    assert list(GRID) == list(STATES)
    assert all(len(row.split()) == len(REQUESTS) for row in GRID.values())


@pytest.mark.parametrize(("state", "asked"), CASES)
def test_refusal(state: str, asked: str) -> None:
    machine = STATES[state]()
    assert machine.refusal(REQUESTS[asked]) == expected(state, asked)


@pytest.mark.parametrize(("state", "asked"), CASES)
def test_a_refused_request_changes_nothing_and_a_taken_one_acts(state: str, asked: str) -> None:
    machine = STATES[state]()
    refused = machine.refusal(REQUESTS[asked]) is not None
    before = copy.deepcopy(machine.record)
    commands = machine.handle(REQUESTS[asked], 100.0)
    if refused:
        assert commands == [] and machine.record == before
    else:
        assert commands


def test_a_hold_on_a_held_call_is_refused_with_the_reason() -> None:
    machine = feed(talking(), Hold())
    assert machine.refusal(Hold()) == "the call is on hold already"
    assert machine.handle(Hold(), 10.0) == []
    assert machine.refusal(Unhold()) is None and machine.handle(Unhold(), 11.0)
    assert machine.refusal(Unhold()) == "the call is not on hold"
