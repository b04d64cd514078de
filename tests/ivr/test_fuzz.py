"""The IVR session fuzzed: DTMF floods and inputs no runtime should send (stale prompt and timer ids, lookups
nobody asked for, keys that are not keys), in every flow of the example IVR. It never raises, answers each input
with a bounded number of commands, reports at most ``MAX_KEY_EVENTS`` keys, and its memory does not grow with the
flood: a session after twenty thousand keys takes no more room than after one thousand."""

from __future__ import annotations

import gc
import random
import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_ari.ivr import (
    Digit,
    Emit,
    IvrContext,
    IvrSession,
    LookupResult,
    PlaybackDone,
    Timeout,
)
from callcenter_ari.ivr.session import MAX_KEY_EVENTS
from tests.ivr.test_example import load
from tests.ivr.test_properties import IVR, TIMES

FLOWS = sorted(load().flows)
KEYS = "0123456789*#ABCD"
MAX_COMMANDS = 40  # per input: a few prompts, a timer, an event or two


def strange(rng: random.Random, session: IvrSession) -> Any:
    """An input a runtime would never send now, or a key that is not a key."""
    return rng.choice(
        [
            Digit(rng.choice(["", "12", "x", "\x00", "ä", "#" * 50])),
            PlaybackDone(f"stale-{rng.randrange(9)}"),
            Timeout(f"stale-{rng.randrange(9)}"),
            LookupResult(request_id=rng.choice(["", "nobody-asked"]), ok=True, status=200, data={"next": "main"}),
            PlaybackDone(session.prompt_id or "none"),
            Timeout(session.timer or "none"),
        ]
    )


def flood(session: IvrSession, count: int, rng: random.Random, now: float) -> tuple[int, int]:
    """``count`` inputs, most of them keys; returns (the most commands one input gave, key events reported)."""
    most = keys = 0
    for n in range(count):
        message = Digit(rng.choice(KEYS)) if rng.random() < 0.9 else strange(rng, session)
        commands = session.handle(message, now + n * 0.01)
        most = max(most, len(commands))
        keys += sum(1 for c in commands if isinstance(c, Emit) and c.kind == "ivr.key")
    return most, keys


def footprint(session: IvrSession) -> int:
    """Bytes held by the session itself, not counting the flow, schedules and context it was given."""
    shared = {id(session.flow), id(session.schedules), id(session.context), id(session.node)}
    seen: set[int] = set()
    pending: list[object] = [vars(session)]
    size = 0
    while pending:
        obj = pending.pop()
        if id(obj) in seen or id(obj) in shared or isinstance(obj, type):
            continue
        seen.add(id(obj))
        size += sys.getsizeof(obj)
        pending.extend(gc.get_referents(obj))
    return size


@settings(max_examples=40, deadline=None)
@given(flow=st.sampled_from(FLOWS), now=st.sampled_from(TIMES), seed=st.integers(0, 2**32))
def test_a_dtmf_flood_is_answered_with_bounded_commands_events_and_memory(flow: str, now: float, seed: int) -> None:
    rng = random.Random(seed)
    session = IvrSession(
        IVR.flows[flow],
        IvrContext(call_id="c1", caller="+4930123456", did="100"),
        now,
        flow_name=flow,
        schedules=IVR.schedules,
    )
    session.start(now)
    most, keys = flood(session, 1_000, rng, now)
    after_one_thousand = footprint(session)
    more, keys_later = flood(session, 19_000, rng, now + 100)
    assert max(most, more) <= MAX_COMMANDS
    assert keys + keys_later <= MAX_KEY_EVENTS
    assert footprint(session) <= after_one_thousand + 512  # a variable or two may have been set meanwhile
