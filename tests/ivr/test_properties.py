"""Whatever a caller types (and whatever the CRM answers), the session only issues the documented commands, keeps at
most one prompt and one timer, is never silent with nothing pending, and a caller who then presses nothing reaches
a Finished."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_ari.ivr import Digit, Finished, IvrConfig, SurgeAnnouncement, Survey, survey_flow
from tests.ivr.helpers import Runtime
from tests.ivr.test_example import load

IVR: IvrConfig = load()
BERLIN = ZoneInfo("Europe/Berlin")
TIMES = [datetime(2026, 1, 5, h, 0, tzinfo=BERLIN).timestamp() for h in (3, 10)] + [
    datetime(2026, 12, 25, 10, 0, tzinfo=BERLIN).timestamp()
]

keys = st.sampled_from("0123456789*#ABCD")
garbage = st.text(max_size=3)
crm_data = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.text(max_size=3), max_size=3),
    st.fixed_dictionaries(
        {},
        optional={
            "next": st.sampled_from(["known_outage", "main", "", "x"]),
            "say": st.lists(st.sampled_from(["sound:a", "number:18", "digits:12", "sound:../x", "tts:hi"]), max_size=3),
            "variables": st.dictionaries(st.sampled_from(["area", "a b", "vip"]), st.text(max_size=5), max_size=2),
        },
    ),
)
step = st.one_of(
    st.tuples(st.just("keys"), st.text(alphabet="0123456789*#ABCD", min_size=1, max_size=30)),
    st.tuples(st.just("garbage"), garbage),
    st.tuples(st.just("prompt"), st.none()),
    st.tuples(st.just("timer"), st.none()),
    st.tuples(st.just("crm"), st.tuples(st.booleans(), st.sampled_from([200, 204, 404, 500]), crm_data)),
)
surges = st.one_of(
    st.none(),
    st.builds(
        SurgeAnnouncement,
        active=st.booleans(),
        prompt=st.just(("sound:storm",)),
        areas=st.sampled_from([(), ("north",)]),
        offer_self_service=st.booleans(),
        offer_callback=st.booleans(),
    ),
)


def apply(rt: Runtime, kind: str, arg: Any) -> None:
    if rt.result is not None:
        return
    if kind == "keys":
        rt.press(arg)
    elif kind == "garbage":
        rt.send(Digit(arg))
    elif kind == "prompt" and rt.playing:
        rt.finish_prompt()
    elif kind == "timer" and rt.timers:
        rt.fire_timer()
    elif kind == "crm" and rt.lookups:
        ok, status, data = arg
        rt.answer_lookup(ok=ok, status=status, data=data)


def run_out(rt: Runtime) -> None:
    """The caller presses nothing more: every prompt plays out, every timer fires, the CRM never answers."""
    for _ in range(200):
        if rt.result is not None:
            break
        if rt.playing:
            rt.finish_prompt()
        else:
            rt.fire_timer()
    finished = [c for c in rt.log if isinstance(c, Finished)]
    assert len(finished) == 1 and rt.log[-1] is finished[0]


@settings(max_examples=300, deadline=None)
@given(now=st.sampled_from(TIMES), surge=surges, steps=st.lists(step, max_size=25))
def test_hotline_never_goes_silent_and_always_ends(
    now: float, surge: SurgeAnnouncement | None, steps: list[Any]
) -> None:
    rt = Runtime(IVR.flows["hotline"], now=now, schedules=IVR.schedules, surge=surge)
    rt.start()
    for kind, arg in steps:
        apply(rt, kind, arg)
    run_out(rt)


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(step, max_size=15))
def test_survey_never_goes_silent_and_always_ends(steps: list[Any]) -> None:
    rt = Runtime(survey_flow("s", Survey(question=("sound:q",), second_question=("sound:q2",))))
    rt.start()
    for kind, arg in steps:
        apply(rt, kind, arg)
    run_out(rt)
