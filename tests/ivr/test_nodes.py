"""Pass-through and terminal nodes: play, say, set (language, variables), schedule, and every way a flow ends."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from callcenter_ari.ivr import (
    FlowError,
    Hangup,
    OfferCallback,
    Play,
    Queue,
    RecordMessage,
    Schedule,
    Transfer,
    Voicemail,
)
from tests.ivr.helpers import Runtime, flow, hangup, queue

BERLIN = ZoneInfo("Europe/Berlin")


def test_play_then_continue() -> None:
    rt = Runtime(flow("p", p={"kind": "play", "prompt": ["hello"], "next": "q"}, q=queue()))
    rt.start()
    assert rt.media == ("sound:hello",)
    rt.press("1")  # not interruptible by default: ignored
    assert rt.media == ("sound:hello",)
    rt.finish_prompt()
    assert isinstance(rt.result, Queue)


def test_interruptible_play_passes_the_key_to_the_next_menu() -> None:
    """Type-ahead: a caller who knows the menu presses 2 during the welcome and lands on option 2."""
    f = flow(
        "welcome",
        welcome={"kind": "play", "prompt": ["welcome"], "next": "menu", "interruptible": True},
        menu={"kind": "menu", "prompt": ["menu"], "options": {"1": "a", "2": "b"}, "fallback": "a"},
        a=queue("a"),
        b=queue("b"),
    )
    rt = Runtime(f)
    rt.start()
    rt.press("2")
    assert isinstance(rt.result, Queue) and rt.result.queue == "b"
    assert rt.played() == [("sound:welcome",)]


def test_say_digits_number_and_duration() -> None:
    f = flow(
        "d",
        d={"kind": "say", "value": "{{account}}", "say_as": "digits", "before": ["your-account"], "next": "n"},
        n={"kind": "say", "value": "42", "say_as": "number", "next": "t"},
        t={"kind": "say", "value": "{{wait}}", "say_as": "duration", "after": ["approx"], "next": "q"},
        q=queue(),
    )
    rt = Runtime(f, variables={"account": "0815", "wait": "3725"})
    rt.start()
    rt.finish_prompts()
    assert rt.played() == [
        ("sound:your-account", "digits:0815"),
        ("number:42",),
        ("number:1", "sound:hour", "number:2", "sound:minutes", "number:5", "sound:seconds", "sound:approx"),
    ]


def test_say_skips_a_value_that_is_not_what_it_claims() -> None:
    """A variable that is not digits is left out of the media, never sent to Asterisk as it is."""
    f = flow("d", d={"kind": "say", "value": "{{x}}", "say_as": "digits", "before": ["b"], "next": "q"}, q=queue())
    rt = Runtime(f, variables={"x": "12,sound:../../etc/passwd"})
    rt.start()
    assert rt.media == ("sound:b",)


def test_say_skips_digits_with_a_trailing_newline() -> None:
    """Python's ``$`` matches before a final newline: values are checked whole, so "12\\n" is not digits."""
    f = flow("d", d={"kind": "say", "value": "{{x}}", "say_as": "digits", "before": ["b"], "next": "q"}, q=queue())
    rt = Runtime(f, variables={"x": "12\n"})
    rt.start()
    assert rt.media == ("sound:b",)


def test_a_prompt_with_nothing_to_play_moves_on_at_once() -> None:
    f = flow("d", d={"kind": "say", "value": "{{missing}}", "say_as": "number", "next": "q"}, q=queue())
    rt = Runtime(f)
    rt.start()
    assert isinstance(rt.result, Queue)


def test_set_language_changes_the_lang_of_later_prompts_and_the_queue_result() -> None:
    f = flow(
        "hello",
        hello={"kind": "play", "prompt": ["hello"], "next": "en"},
        en={"kind": "set", "language": "en", "variables": {"seat": "english"}, "next": "bye"},
        bye=queue("general", prompt=["please-hold"]),
    )
    rt = Runtime(f, language="de")
    rt.start()
    rt.finish_prompts()
    langs = [c.lang for c in rt.log if isinstance(c, Play)]
    assert langs == ["de", "en"]
    assert rt.result == Queue(queue="general", skills=(), priority=0, language="en", variables={"seat": "english"})


def test_queue_node_language_overrides_the_session_language() -> None:
    rt = Runtime(flow("q", q=queue("intl", language="fr")), language="de")
    rt.start()
    assert isinstance(rt.result, Queue) and rt.result.language == "fr"


def _schedule_flow() -> tuple[dict[str, Schedule], object]:
    schedules = {
        "office": msgspec.convert(
            {"timezone": "Europe/Berlin", "hours": {"mon": ["08:00-18:00"]}, "holidays": ["2025-12-29"]},
            Schedule,
            strict=True,
        )
    }
    f = flow(
        "s",
        s={"kind": "schedule", "schedule": "office", "open": "o", "closed": "c", "holiday": "h"},
        o=queue("open"),
        c=queue("closed"),
        h=queue("holiday"),
    )
    return schedules, f


def test_schedule_routes_open_closed_and_holiday() -> None:
    schedules, f = _schedule_flow()
    cases = {
        datetime(2025, 12, 22, 9, 0, tzinfo=BERLIN): "open",
        datetime(2025, 12, 22, 18, 0, tzinfo=BERLIN): "closed",
        datetime(2025, 12, 29, 9, 0, tzinfo=BERLIN): "holiday",
    }
    for when, expected in cases.items():
        rt = Runtime(f, now=when.timestamp(), schedules=schedules)  # type: ignore[arg-type]
        rt.start()
        assert isinstance(rt.result, Queue) and rt.result.queue == expected
        assert rt.events("ivr.schedule")[0]["route"] == expected


def test_callback_transfer_and_hangup_results() -> None:
    f = flow("cb", cb={"kind": "callback", "queue": "general"})
    rt = Runtime(f, variables={"k": "v"})
    rt.start()
    assert rt.result == OfferCallback(queue="general", language="", variables={"k": "v"})

    rt = Runtime(flow("t", t={"kind": "transfer", "target": "gas_emergency", "prompt": ["connecting"]}))
    rt.start()
    rt.finish_prompt()
    assert rt.result == Transfer(target_name="gas_emergency", variables={})

    rt = Runtime(flow("h", h=hangup(prompt=["goodbye"], reason="closed")))
    rt.start()
    assert rt.media == ("sound:goodbye",)
    rt.press("1")  # the goodbye is not interruptible
    rt.finish_prompt()
    assert rt.result == Hangup(reason="closed", variables={})


def test_voicemail_plays_the_intro_then_records_and_finishes() -> None:
    rt = Runtime(flow("v", v={"kind": "voicemail", "mailbox": "hotline", "max_seconds": 60}))
    rt.start()
    assert rt.media == ("sound:vm-intro",)
    out = rt.finish_prompt()
    record = next(c for c in out if isinstance(c, RecordMessage))
    assert record == RecordMessage(channel="", name="c1-vm", max_seconds=60, beep=True, terminate_on="#")
    assert rt.result == Voicemail(mailbox="hotline", recording_id="c1-vm", variables={})


def test_a_broken_flow_ends_in_a_flow_error_not_silence() -> None:
    """An unvalidated flow naming a missing node or schedule, or looping, ends with FlowError."""
    rt = Runtime(flow("m", m={"kind": "menu", "prompt": ["p"], "options": {"1": "nowhere"}}))
    rt.start()
    rt.press("1")
    assert isinstance(rt.result, FlowError) and "nowhere" in rt.result.detail

    rt = Runtime(flow("s", s={"kind": "schedule", "schedule": "x", "open": "s", "closed": "s"}))
    rt.start()
    assert isinstance(rt.result, FlowError)

    rt = Runtime(flow("a", a={"kind": "set", "next": "b"}, b={"kind": "set", "next": "a"}))
    rt.start()
    assert isinstance(rt.result, FlowError) and "loops" in rt.result.detail
