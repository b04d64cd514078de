"""Recovery's last comparison (calls/leftovers.py): what Asterisk still has of a call that its record no longer
names is left over; what the record names is its machine's to settle; other calls' objects are never touched."""

from __future__ import annotations

from callcenter_ari.calls.leftovers import Leftovers, ended_calls_objects, leftovers, owner, unrecorded_callers
from callcenter_ari.calls.records import CallRecord


def talking(call_id: str = "c1") -> CallRecord:
    return CallRecord(
        call_id=call_id,
        channel_id="1700000000.1",
        started_at=1.0,
        phase="talking",
        agent_id="a1",
        agent_channel=f"{call_id}-a2",
        bridge_id=f"{call_id}-b",
        offers=2,
    )


def test_owner_is_the_call_id_an_object_starts_with() -> None:
    assert (owner("c1-m1-sup"), owner("c1-b"), owner("1700000000.1"), owner("")) == ("c1", "c1", "", "")


def test_a_supervisors_session_and_an_earlier_offer_are_left_over() -> None:
    channels = {"1700000000.1", "c1-a2", "c1-a1", "c1-m1-sup", "c1-m2-snoop"}
    bridges = {"c1-b": ("1700000000.1", "c1-a2"), "c1-m2-b": ("c1-m2-snoop",)}
    assert leftovers([talking()], channels, bridges) == Leftovers(("c1-a1", "c1-m1-sup", "c1-m2-snoop"), ("c1-m2-b",))


def test_what_the_record_names_is_not_left_over() -> None:
    record = talking()
    record.consult_channel = "c1-c3"
    channels = {"1700000000.1", "c1-a2", "c1-c3"}
    bridges = {"c1-b": ("1700000000.1",), "c1-c3-b": ("c1-a2", "c1-c3")}
    assert not leftovers([record], channels, bridges)


def test_objects_of_calls_without_a_record_here_are_never_touched() -> None:
    """Another tenant's or node's call, a persistent agent's line: no record of ours names their call."""
    channels = {"c9-a1", "line-agent1", "1700000000.5"}
    bridges = {"c9-b": ("c9-a1",), "line-agent1-b": ("line-agent1",)}
    assert not leftovers([talking()], channels, bridges)


def test_every_object_of_a_call_that_ended_goes() -> None:
    channels = {"c7-a1", "c7-m1-sup", "c8-a1"}
    bridges = {"c7-b": (), "c8-b": ("c8-a1",)}
    assert ended_calls_objects(["c7"], channels, bridges) == Leftovers(("c7-a1", "c7-m1-sup"), ("c7-b",))


def test_a_caller_in_stasis_with_no_record_is_found_with_its_arguments() -> None:
    """The process died between taking the call and its first write: Asterisk still has the caller in our Stasis
    application; a caller a record names, another application's, or an agent leg are not such callers."""
    channels = [
        ("1700000000.9", "Stasis", "cc1,inbound,provider,5552001"),
        ("1700000000.1", "Stasis", "cc1,inbound,provider,5552000"),  # talking(): its record names it
        ("1700000000.7", "Stasis", "other,inbound,provider,5552000"),
        ("c1-a2", "Stasis", "cc1,agent,a1,c1"),
        ("1700000000.8", "Dial", "PJSIP/x"),
    ]
    assert unrecorded_callers(channels, "cc1", [talking()]) == [("1700000000.9", ("inbound", "provider", "5552001"))]
