"""The demo's live view: the call rows add up at every refresh, whatever the calls are doing."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from callcenter_ari.calls.records import CallPhase
from callcenter_ari.demo.view import AGENT_ROWS, Tally, call_rows, summary

PHASES = st.sampled_from([*CallPhase.__args__, "some_new_phase"])  # type: ignore[attr-defined]
OUTCOMES = st.sampled_from(
    ["completed", "abandoned", "hung_up_in_ivr", "ivr_hangup", "voicemail", "max_wait", "hung_up_by_supervisor", "x"]
)


@given(st.dictionaries(PHASES, st.integers(0, 500)), st.dictionaries(OUTCOMES, st.integers(0, 500)))
def test_the_rows_add_up_to_the_calls_offered(phases: dict[str, int], outcomes: dict[str, int]) -> None:
    """offered = in IVR + waiting + ringing + talking + ... + completed + abandoned + ended in IVR + ...: every live
    call (an ended one is counted by its outcome) and every ending is in exactly one row."""
    (offered, total), *rows = call_rows(phases, outcomes)
    assert offered == "offered"
    assert total == sum(n for _, n in rows)
    assert total == sum(n for phase, n in phases.items() if phase != "ended") + sum(outcomes.values())


def test_the_ivr_endings_have_a_row_of_their_own() -> None:
    rows = dict(call_rows({"ivr": 2, "queued": 3}, {"hung_up_in_ivr": 4, "ivr_hangup": 1, "completed": 7}))
    assert rows == {
        "offered": 17,
        "in the IVR": 2,
        "waiting": 3,
        "asking for a callback": 0,
        "ringing an agent": 0,
        "talking": 0,
        "survey or message": 0,
        "other (live)": 0,
        "completed": 7,
        "abandoned": 0,
        "took a callback": 0,
        "ended in the IVR": 5,
        "hung up by supervisor": 0,
        "other endings": 0,
    }


def test_recordings_are_not_an_agent_state() -> None:
    assert "recordings" not in " ".join(label for label, _ in AGENT_ROWS)


def test_the_summary_accounts_for_every_call_offered() -> None:
    """Calls still up when the demo stopped are a line of their own, so the lines under "offered" add up."""
    tally = Tally()
    for _ in range(10):
        tally("call.started", {})
    tally.outcomes = Counter(completed=6, abandoned=1, hung_up_in_ivr=2)
    text = summary(tally, 10, 100)
    assert "calls offered            10" in text
    counts = [int(line.split()[-1]) for line in text.splitlines() if line.startswith("    ")]
    assert sum(counts) == 10 and "still up at the stop   1" in text
