"""Collecting digits: lengths, terminator, timeouts, pattern and Luhn checks, read-back confirmation."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter_ari.ivr import Queue, SetTimer
from tests.ivr.helpers import Runtime, flow, queue


def collect(**extra: Any) -> Runtime:
    node = {
        "kind": "collect",
        "prompt": ["enter-account"],
        "variable": "account",
        "min_length": 3,
        "max_length": 6,
        "first_digit_timeout": 8.0,
        "inter_digit_timeout": 3.0,
        "next": "done",
        "fallback": "agent",
        "invalid_prompt": ["invalid"],
        "timeout_prompt": ["no-input"],
        **extra,
    }
    rt = Runtime(flow("c", c=node, done=queue("done"), agent=queue("agent")))
    rt.start()
    return rt


def stored(rt: Runtime) -> str | None:
    assert isinstance(rt.result, Queue)
    return rt.result.variables.get("account") if rt.result.queue == "done" else None


def test_terminator_ends_the_entry_and_stores_it_as_a_variable() -> None:
    rt = collect()
    rt.finish_prompt()
    rt.press("1234#")
    assert stored(rt) == "1234"
    assert rt.events("ivr.collected")[0]["length"] == 4


def test_max_length_ends_the_entry_without_terminator() -> None:
    rt = collect()
    rt.press("123456")
    assert stored(rt) == "123456"


def test_barge_in_keeps_the_first_digit() -> None:
    rt = collect()
    rt.press("9")
    assert not rt.playing
    rt.press("87#")
    assert stored(rt) == "987"


def test_first_digit_and_inter_digit_timeouts_are_separate() -> None:
    rt = collect()
    out = rt.finish_prompt()
    assert next(c for c in out if isinstance(c, SetTimer)).at == 1_008.0
    out = rt.press("1")
    assert next(c for c in out if isinstance(c, SetTimer)).at == 1_003.0


def test_inter_digit_timeout_with_enough_digits_completes_the_entry() -> None:
    rt = collect()
    rt.press("1234")
    rt.fire_timer()
    assert stored(rt) == "1234"


def test_inter_digit_timeout_with_too_few_digits_is_invalid() -> None:
    rt = collect()
    rt.press("12")
    rt.fire_timer()
    assert rt.media == ("sound:invalid", "sound:enter-account")


def test_no_digit_at_all_plays_the_timeout_prompt() -> None:
    rt = collect()
    rt.finish_prompt()
    rt.fire_timer()
    assert rt.media == ("sound:no-input", "sound:enter-account")


def test_terminator_too_early_is_invalid() -> None:
    rt = collect()
    rt.press("1#")
    assert rt.media == ("sound:invalid", "sound:enter-account")


@pytest.mark.parametrize("key", ["*", "A", "D"])
def test_keys_that_are_not_digits_are_invalid(key: str) -> None:
    rt = collect()
    rt.press(f"12{key}")
    assert rt.media == ("sound:invalid", "sound:enter-account")


def test_star_is_the_terminator_when_configured() -> None:
    rt = collect(terminator="*")
    rt.press("555*")
    assert stored(rt) == "555"


def test_pattern_mismatch_is_invalid_and_retries_exhaust_to_the_fallback() -> None:
    rt = collect(pattern="4[0-9]+", max_retries=1)
    rt.press("123#")
    assert rt.media == ("sound:invalid", "sound:enter-account")
    rt.press("999#")
    assert isinstance(rt.result, Queue) and rt.result.queue == "agent"
    assert "account" not in rt.result.variables


def test_luhn_check_digit() -> None:
    rt = collect(check="luhn", max_length=16, min_length=4)
    rt.press("79927398710#")  # wrong check digit
    assert rt.media[0] == "sound:invalid"
    rt.press("79927398713#")
    assert stored(rt) == "79927398713"


def test_confirmation_reads_the_entry_back_and_1_confirms() -> None:
    rt = collect(confirm=True)
    rt.press("123#")
    assert rt.media == (
        "sound:you-entered",
        "digits:123",
        "sound:press-1",
        "sound:to-confirm",
        "sound:press-2",
        "sound:to-reenter",
    )
    rt.finish_prompt()
    rt.press("1")
    assert stored(rt) == "123"


def test_confirmation_2_re_enters_and_counts_as_a_retry() -> None:
    rt = collect(confirm=True, max_retries=1)
    rt.press("123#")
    rt.press("2")  # barge into the read-back
    assert rt.media == ("sound:enter-account",)
    rt.press("456#")
    rt.press("2")
    assert isinstance(rt.result, Queue) and rt.result.queue == "agent"


def test_confirmation_timeout_and_stray_keys_retry() -> None:
    rt = collect(confirm=True, max_retries=3)
    rt.press("123#")
    rt.finish_prompt()
    rt.fire_timer()
    assert rt.media == ("sound:no-input", "sound:enter-account")
    rt.press("123#")
    rt.press("#")
    assert rt.media == ("sound:invalid", "sound:enter-account")


def test_collected_digits_do_not_appear_in_key_events() -> None:
    """An account or card number has no place in the event stream: collect keys are masked."""
    rt = collect()
    rt.finish_prompt()
    rt.press("4711#")
    assert [e["digit"] for e in rt.events("ivr.key")] == ["x", "x", "x", "x", "#"]
    assert "4711" not in repr(rt.events("ivr.key")) + repr(rt.events("ivr.collected"))


def test_a_flood_of_digits_is_cut_at_max_length_and_the_rest_ignored() -> None:
    rt = collect()
    rt.press("1" * 1000)
    assert stored(rt) == "111111"
