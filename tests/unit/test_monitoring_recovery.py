"""Recovery's word on each recorded supervisor session (calls/monitoring.py): adopted when all its parts survive on
a call that goes on, ended otherwise with exactly what is left of it to hang up and destroy."""

from __future__ import annotations

import pytest

from callcenter_ari.calls.leftovers import Leftovers, leftovers
from callcenter_ari.calls.monitoring import SessionRecord, settle_sessions
from callcenter_ari.calls.records import CallRecord


def listen(session: str = "c1-m1", **fields: str) -> SessionRecord:
    base = {"leg": f"{session}-sup", "snoop": f"{session}-snoop", "bridge": f"{session}-b"}
    return SessionRecord(
        id=session, call_id="c1", supervisor="sv1", endpoint="PJSIP/sup1", mode="listen", **{**base, **fields}
    )


def barge(session: str = "c1-m1") -> SessionRecord:
    return SessionRecord(
        id=session, call_id="c1", supervisor="sv1", endpoint="PJSIP/sup1", mode="barge", leg=f"{session}-sup"
    )


CALL = {"c1": "c1-b"}
CALLER = "1700000000.1"


class TestSettleSessions:
    def test_a_listening_session_with_every_part_is_adopted(self) -> None:
        channels = {CALLER, "c1-a1", "c1-m1-sup", "c1-m1-snoop"}
        bridges = {"c1-b": (CALLER, "c1-a1"), "c1-m1-b": ("c1-m1-sup", "c1-m1-snoop")}
        settled = settle_sessions([listen()], CALL, channels, bridges)
        assert settled.adopted == (listen(),) and not settled.ended and not settled.leftovers

    def test_a_barging_supervisor_still_in_the_calls_bridge_is_adopted(self) -> None:
        channels = {CALLER, "c1-a1", "c1-m1-sup"}
        settled = settle_sessions([barge()], CALL, channels, {"c1-b": (CALLER, "c1-a1", "c1-m1-sup")})
        assert settled.adopted == (barge(),)

    @pytest.mark.parametrize(
        ("channels", "bridges", "left"),
        [
            # the snoop went (the agent's leg hiccuped): the supervisor and the bridge go too
            ({"c1-m1-sup"}, {"c1-m1-b": ("c1-m1-sup",)}, Leftovers(("c1-m1-sup",), ("c1-m1-b",))),
            # the supervisor hung up while the process was down
            ({"c1-m1-snoop"}, {"c1-m1-b": ("c1-m1-snoop",)}, Leftovers(("c1-m1-snoop",), ("c1-m1-b",))),
            # still ringing when the process died: never bridged
            ({"c1-m1-sup", "c1-m1-snoop"}, {}, Leftovers(("c1-m1-snoop", "c1-m1-sup"), ())),
            # nothing left at all
            (set(), {}, Leftovers()),
        ],
    )
    def test_a_session_partly_gone_is_ended_with_what_is_left_of_it(
        self, channels: set[str], bridges: dict[str, tuple[str, ...]], left: Leftovers
    ) -> None:
        settled = settle_sessions([listen()], CALL, {CALLER, "c1-a1", *channels}, {"c1-b": (CALLER,), **bridges})
        assert settled.ended == (listen(),) and not settled.adopted and settled.leftovers == left

    def test_a_barging_supervisor_outside_the_calls_bridge_is_ended(self) -> None:
        settled = settle_sessions([barge()], CALL, {CALLER, "c1-m1-sup"}, {"c1-b": (CALLER,)})
        assert settled.ended == (barge(),) and settled.leftovers == Leftovers(("c1-m1-sup",), ())

    def test_a_whole_session_on_a_call_that_does_not_go_on_is_ended(self) -> None:
        channels = {"c1-m1-sup", "c1-m1-snoop"}
        settled = settle_sessions([listen()], {}, channels, {"c1-m1-b": ("c1-m1-sup", "c1-m1-snoop")})
        assert settled.ended == (listen(),)
        assert settled.leftovers == Leftovers(("c1-m1-snoop", "c1-m1-sup"), ("c1-m1-b",))

    def test_the_objects_of_an_adopted_session_are_not_left_over(self) -> None:
        record = CallRecord(call_id="c1", channel_id=CALLER, started_at=1.0, phase="talking", bridge_id="c1-b")
        channels = {CALLER, "c1-m1-sup", "c1-m1-snoop", "c1-m2-sup"}
        bridges = {"c1-b": (CALLER,), "c1-m1-b": ("c1-m1-sup", "c1-m1-snoop")}
        kept = listen().objects()
        assert leftovers([record], channels, bridges, kept) == Leftovers(("c1-m2-sup",), ())
