"""Menus: route on one key, barge-in, retries on invalid keys and silence, then the fallback."""

from __future__ import annotations

from callcenter_ari.ivr import Digit, Finished, Play, PlaybackDone, Queue, SetTimer, StopPlayback
from tests.ivr.helpers import Runtime, flow, hangup, queue

MENU = flow(
    "menu",
    menu={
        "kind": "menu",
        "prompt": ["main-menu"],
        "options": {"1": "billing", "2": "sales"},
        "fallback": "general",
        "timeout": 5.0,
        "max_retries": 2,
        "invalid_prompt": ["option-is-invalid"],
        "timeout_prompt": ["are-you-there"],
    },
    billing=queue("billing", skills=["billing"], priority=3),
    sales=queue("sales"),
    general=queue("general"),
)


def test_menu_plays_its_prompt_then_waits_for_a_key() -> None:
    """The prompt plays (interruptible), and the input timer starts only when it ends."""
    rt = Runtime(MENU)
    rt.start()
    assert rt.media == ("sound:main-menu",)
    (play,) = rt.playing.values()
    assert play.interruptible
    assert not rt.timers
    out = rt.finish_prompt()
    assert [c for c in out if isinstance(c, SetTimer)] == [SetTimer(next(iter(rt.timers)), 1_005.0)]


def test_a_key_routes_to_its_option() -> None:
    """Pressing 1 after the prompt finishes with the billing queue, its skills and priority."""
    rt = Runtime(MENU)
    rt.start()
    rt.finish_prompt()
    rt.press("1")
    assert rt.result == Queue(queue="billing", skills=("billing",), priority=3, language="", variables={})
    assert rt.nodes() == ["menu", "billing"]


def test_barge_in_stops_the_prompt_and_counts_as_the_choice() -> None:
    """A key during the prompt stops it (StopPlayback) and selects the option at once."""
    rt = Runtime(MENU)
    rt.start()
    (prompt_id,) = rt.playing
    out = rt.press("2")
    assert StopPlayback(prompt_id) in out
    assert isinstance(rt.result, Queue) and rt.result.queue == "sales"


def test_an_interrupted_prompts_late_finish_is_ignored() -> None:
    """The PlaybackFinished that follows a stop names the old prompt and changes nothing."""
    rt = Runtime(flow("m", m={"kind": "menu", "prompt": ["p"], "options": {"1": "q"}, "fallback": "q"}, q=queue()))
    rt.start()
    (old,) = rt.playing
    rt.press("5")  # invalid: the prompt is stopped and replayed
    assert rt.session.handle(PlaybackDone(old), rt.now) == []


def test_invalid_key_plays_the_invalid_prompt_then_the_menu_again() -> None:
    rt = Runtime(MENU)
    rt.start()
    rt.finish_prompt()
    rt.press("7")
    assert rt.media == ("sound:option-is-invalid", "sound:main-menu")
    assert rt.events("ivr.invalid")[0]["attempt"] == 1


def test_silence_plays_the_timeout_prompt_then_the_menu_again() -> None:
    rt = Runtime(MENU)
    rt.start()
    rt.finish_prompt()
    rt.fire_timer()
    assert rt.media == ("sound:are-you-there", "sound:main-menu")
    assert rt.now == 1_005.0


def test_retries_exhausted_take_the_fallback() -> None:
    """Three failures with max_retries=2 (invalid, silence, invalid) send the caller to the fallback."""
    rt = Runtime(MENU)
    rt.start()
    rt.finish_prompt()
    rt.press("9")
    rt.finish_prompt()
    rt.fire_timer()
    rt.finish_prompt()
    rt.press("#")
    assert isinstance(rt.result, Queue) and rt.result.queue == "general"
    assert rt.events("ivr.node")[-1]["via"] == "invalid, retries exhausted"


def test_star_and_hash_where_not_expected_are_invalid_input() -> None:
    rt = Runtime(MENU)
    rt.start()
    rt.press("*")
    assert rt.media == ("sound:option-is-invalid", "sound:main-menu")
    rt.press("#")
    assert rt.media == ("sound:option-is-invalid", "sound:main-menu")
    assert rt.result is None


def test_a_dtmf_flood_ends_at_the_fallback_and_then_is_ignored() -> None:
    """Hundreds of keys: three invalid ones exhaust the menu, the rest meet a finished session."""
    rt = Runtime(MENU)
    rt.start()
    rt.press("5" * 500)
    assert isinstance(rt.result, Queue) and rt.result.queue == "general"
    assert len(rt.events("ivr.key")) == 3


def test_garbage_that_is_not_a_dtmf_key_is_ignored() -> None:
    rt = Runtime(MENU)
    rt.start()
    for garbage in ("", "12", "x", "\x00", "\u0661"):
        assert rt.session.handle(Digit(garbage), rt.now) == []
    assert rt.media == ("sound:main-menu",)


def test_a_non_interruptible_menu_prompt_ignores_keys_until_it_ends() -> None:
    f = flow(
        "m",
        m={"kind": "menu", "prompt": ["p"], "options": {"1": "q"}, "fallback": "bye", "interruptible": False},
        q=queue(),
        bye=hangup(),
    )
    rt = Runtime(f)
    rt.start()
    out = rt.press("1")
    assert [c for c in out if isinstance(c, Play | StopPlayback | Finished)] == []
    assert rt.events("ivr.key") == [{**rt.events("ivr.key")[0], "digit": "1"}]
    rt.finish_prompt()
    rt.press("1")
    assert isinstance(rt.result, Queue)


def test_key_events_record_the_path() -> None:
    rt = Runtime(MENU)
    rt.start()
    rt.press("1")
    assert [e["digit"] for e in rt.events("ivr.key")] == ["1"]
    assert rt.events("ivr.node")[1]["via"] == "key 1"
