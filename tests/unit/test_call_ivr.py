"""The call machine with an IVR flow: results of the flow turned into queueing, transfers, messages, surveys."""

from __future__ import annotations

from typing import Any

import msgspec

from callcenter_ari import ivr
from callcenter_ari.calls.machine import CallSettings, InboundCall, QueueSettings
from callcenter_ari.calls.messages import (
    AgentFinished,
    AgentGone,
    AgentUp,
    CallerGone,
    CancelTimer,
    Connect,
    Digit,
    Emit,
    Enqueue,
    Hangup,
    Offered,
    Originate,
    Play,
    PlaybackDone,
    RecordingDone,
    RecordMessage,
    Resume,
    SetTimer,
    Start,
    StopPlayback,
)
from callcenter_ari.calls.records import CallRecord

NODES: dict[str, Any] = {
    "menu": {
        "kind": "menu",
        "prompt": ["sound:menu"],
        "options": {"1": "billing", "2": "operator", "3": "message", "4": "bye"},
        "fallback": "billing",
        "timeout": 5,
        "max_retries": 0,
    },
    "billing": {"kind": "queue", "queue": "billing", "skills": ["billing"], "priority": 2, "language": "en"},
    "operator": {"kind": "transfer", "target": "front_desk"},
    "message": {"kind": "voicemail", "mailbox": "general", "prompt": [], "max_seconds": 60},
    "bye": {"kind": "hangup", "prompt": [], "reason": "closed"},
}
FLOW = msgspec.convert({"start": "menu", "nodes": NODES, "language": "en"}, ivr.Flow)
SURVEY = ivr.survey_flow("csat", msgspec.convert({"question": ["sound:rate-us"], "thanks": []}, ivr.Survey))
SETTINGS = CallSettings(
    flow=FLOW,
    flow_name="main",
    queue="support",
    destinations={"front_desk": ("PJSIP/100", ""), "head_office": ("PJSIP/+4930123456@provider1", "provider1")},
    queues={"billing": QueueSettings(survey=SURVEY, survey_name="csat"), "support": QueueSettings()},
)


def call_in_menu() -> tuple[InboundCall, list]:  # type: ignore[type-arg]
    record = CallRecord(call_id="c1", channel_id="ch1", caller="+15551234567", did="5553000", started_at=0.0)
    call = InboundCall(record, SETTINGS)
    return call, call.handle(Start(), 0.0)


def prompt_of(commands: list) -> str:  # type: ignore[type-arg]
    return next(c.playback_id for c in commands if isinstance(c, Play))


def test_the_flow_starts_instead_of_the_greeting() -> None:
    call, commands = call_in_menu()
    assert call.record.phase == "ivr"
    assert next(c for c in commands if isinstance(c, Play)).media == ("sound:menu",)


def test_a_key_during_the_prompt_stops_it_and_queues_with_skills() -> None:
    call, commands = call_in_menu()
    out = call.handle(Digit("1"), 1.0)
    assert StopPlayback(prompt_of(commands)) in out
    assert Enqueue("billing", 2, 1.0, first=True, language="en", skills=("billing",)) in out
    assert (call.record.queue, call.record.skills, call.record.language) == ("billing", ("billing",), "en")
    assert call.record.ivr_path == ["menu", "billing"]


def test_transfer_calls_the_destination_and_bridges_it() -> None:
    call, _ = call_in_menu()
    out = call.handle(Digit("2"), 1.0)
    originate = next(c for c in out if isinstance(c, Originate))
    assert originate.endpoint == "PJSIP/100" and originate.app_args == ("transfer", "c1")
    assert call.record.phase == "transfer"
    out = call.handle(AgentUp(originate.channel_id), 3.0)
    assert Connect("c1-b", ("ch1", originate.channel_id)) in out
    assert any(isinstance(c, Emit) and c.kind == "call.transferred" for c in out)
    out = call.handle(CallerGone(16), 60.0)
    assert Hangup(originate.channel_id) in out and not any(isinstance(c, AgentFinished) for c in out)
    assert call.record.outcome == "completed"


def test_unanswered_transfer_ends_the_call() -> None:
    call, _ = call_in_menu()
    call.handle(Digit("2"), 1.0)
    call.handle(AgentGone(19), 31.0)
    assert call.record.outcome == "transfer_failed"


def test_voicemail_records_then_hangs_up() -> None:
    call, _ = call_in_menu()
    out = call.handle(Digit("3"), 1.0)
    record = next(c for c in out if isinstance(c, RecordMessage))
    assert record.channel == "ch1" and record.max_seconds == 60
    assert call.record.phase == "voicemail"
    out = call.handle(RecordingDone(record.name), 40.0)
    assert Hangup("ch1") in out and call.record.outcome == "voicemail"


def test_hangup_node_ends_the_call() -> None:
    call, _ = call_in_menu()
    out = call.handle(Digit("4"), 1.0)
    assert Hangup("ch1") in out and call.record.outcome == "ivr_hangup"


def test_caller_hanging_up_in_the_menu_leaves_no_timer_or_prompt() -> None:
    call, commands = call_in_menu()
    out = call.handle(CallerGone(16), 2.0)
    assert call.record.outcome == "hung_up_in_ivr"
    timers = {c.name for c in commands if isinstance(c, SetTimer)}
    assert timers <= {c.name for c in out if isinstance(c, CancelTimer)}


def test_survey_after_the_agent_hangs_up() -> None:
    call, _ = call_in_menu()
    call.handle(Digit("1"), 1.0)
    call.handle(Offered("a1", "PJSIP/a1"), 2.0)
    call.handle(AgentUp("c1-a1"), 4.0)
    out = call.handle(AgentGone(16), 64.0)
    assert Hangup("ch1") not in out and AgentFinished("a1") in out
    assert call.record.phase == "survey"
    question = prompt_of(out)
    assert question.startswith("c1-s-")  # its own ids: a stale event of the menu cannot be taken for it
    out = call.handle(Digit("5"), 66.0)
    assert call.record.survey == {"score": "5"}
    assert Hangup("ch1") in out and call.record.outcome == "completed"
    ended = next(c for c in out if isinstance(c, Emit) and c.kind == "call.ended")
    assert ended.fields["talk"] == 60.0  # the survey is not talk time


def test_restart_during_the_ivr_walks_the_flow_again_under_fresh_ids() -> None:
    call, _ = call_in_menu()
    resumed = InboundCall(call.record, SETTINGS)
    out = resumed.handle(Resume(), 10.0)
    assert prompt_of(out).startswith("c1-r-")
    after_prompt = resumed.handle(PlaybackDone(prompt_of(out)), 12.0)
    assert any(isinstance(c, SetTimer) for c in after_prompt)  # the menu now waits for a key


def test_transfer_out_of_a_trunk_names_the_trunk_whose_line_it_takes() -> None:
    settings = msgspec.structs.replace(
        SETTINGS,
        flow=msgspec.structs.replace(
            FLOW,
            nodes={
                **FLOW.nodes,
                "operator": msgspec.convert({"kind": "transfer", "target": "head_office"}, ivr.Node),
            },
        ),
    )
    record = CallRecord(call_id="c1", channel_id="ch1", caller="+15551234567", did="5553000", started_at=0.0)
    call = InboundCall(record, settings)
    call.handle(Start(), 0.0)
    originate = next(c for c in call.handle(Digit("2"), 1.0) if isinstance(c, Originate))
    assert (originate.endpoint, originate.trunk) == ("PJSIP/+4930123456@provider1", "provider1")
