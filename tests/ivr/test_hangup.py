"""A caller hanging up anywhere ends the session: the prompt is stopped, the timer cancelled, nothing left behind."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callcenter_ari.ivr import Abandoned, CancelTimer, Digit, Finished, StopPlayback, SurgeAnnouncement
from tests.ivr.helpers import Runtime, flow, queue

FLOW = flow(
    "play",
    play={"kind": "play", "prompt": ["welcome"], "next": "crm"},
    crm={"kind": "lookup", "url": "https://crm/x", "next": "menu", "fallback": "menu", "wait_prompt": ["wait"]},
    menu={"kind": "menu", "prompt": ["m"], "options": {"1": "collect"}, "fallback": "q"},
    collect={
        "kind": "collect",
        "prompt": ["c"],
        "variable": "v",
        "min_length": 2,
        "max_length": 4,
        "confirm": True,
        "next": "q",
        "fallback": "q",
    },
    q=queue(prompt=["please-hold"]),
)

Step = Callable[[Runtime], object]

# Each position a caller can be in, reached from the start.
POSITIONS: dict[str, list[Step]] = {
    "surge announcement": [],
    "play prompt": [lambda rt: rt.finish_prompt()],
    "lookup with wait prompt": [lambda rt: rt.finish_prompt(), lambda rt: rt.finish_prompt()],
    "lookup, wait prompt over": [lambda rt: rt.finish_prompt()] * 3,
    "menu prompt": [*[lambda rt: rt.finish_prompt()] * 2, lambda rt: rt.answer_lookup(ok=False)],
    "menu input": [
        *[lambda rt: rt.finish_prompt()] * 2,
        lambda rt: rt.answer_lookup(ok=False),
        lambda rt: rt.finish_prompt(),
    ],
    "collect prompt": [
        *[lambda rt: rt.finish_prompt()] * 2,
        lambda rt: rt.answer_lookup(ok=False),
        lambda rt: rt.press("1"),
    ],
    "collect input": [
        *[lambda rt: rt.finish_prompt()] * 2,
        lambda rt: rt.answer_lookup(ok=False),
        lambda rt: rt.press("12"),
    ],
    "confirm prompt": [
        *[lambda rt: rt.finish_prompt()] * 2,
        lambda rt: rt.answer_lookup(ok=False),
        lambda rt: rt.press("1123#"),
    ],
    "confirm input": [
        *[lambda rt: rt.finish_prompt()] * 2,
        lambda rt: rt.answer_lookup(ok=False),
        lambda rt: rt.press("1123#"),
        lambda rt: rt.finish_prompt(),
    ],
    "closing prompt": [
        *[lambda rt: rt.finish_prompt()] * 2,
        lambda rt: rt.answer_lookup(ok=False),
        lambda rt: rt.press("1123#1"),
    ],
}


@pytest.mark.parametrize("steps", POSITIONS.values(), ids=POSITIONS.keys())
def test_hang_up_leaves_no_prompt_and_no_timer(steps: list[Step]) -> None:
    rt = Runtime(FLOW, surge=SurgeAnnouncement(active=True, prompt=("sound:storm",)))
    rt.start()
    for step in steps:
        step(rt)
    assert rt.result is None
    playing, timers = set(rt.playing), set(rt.timers)
    out = rt.hang_up()
    assert {c.playback_id for c in out if isinstance(c, StopPlayback)} == playing
    assert {c.name for c in out if isinstance(c, CancelTimer)} == timers
    assert isinstance(out[-1], Finished) and isinstance(out[-1].result, Abandoned)
    assert not rt.playing and not rt.timers
    assert rt.session.handle(Digit("1"), rt.now) == []


def test_the_positions_cover_every_waiting_state() -> None:
    seen = set()
    for steps in POSITIONS.values():
        rt = Runtime(FLOW, surge=SurgeAnnouncement(active=True, prompt=("sound:storm",)))
        rt.start()
        for step in steps:
            step(rt)
        seen.add(rt.session.state)
    assert seen == {
        "play",
        "lookup",
        "menu.prompt",
        "menu.input",
        "collect.prompt",
        "collect.input",
        "confirm.prompt",
        "confirm.input",
        "closing",
    }


def test_hang_up_before_start_finishes_cleanly() -> None:
    rt = Runtime(FLOW)
    out = rt.hang_up()
    assert isinstance(out[-1], Finished)
    assert rt.session.start(rt.now) == []


def test_abandoned_result_says_where_and_what_was_known() -> None:
    rt = Runtime(FLOW, variables={"area": "north"})
    rt.start()
    rt.finish_prompt()
    rt.hang_up()
    assert rt.result == Abandoned(node="crm", reason="caller hung up", variables={"area": "north"})
