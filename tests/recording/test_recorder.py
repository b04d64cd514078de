"""A call's recorder: segments follow the bridges, people's actions are checked, refusals change nothing."""

from __future__ import annotations

import pytest

from callcenter_ari.recording.recorder import ControlRecording, Recorder, RecorderState, StartRecording, refusal
from callcenter_ari.recording.settings import RecordingPolicy

ALL = RecordingPolicy(mode="all", format="gsm", beep=True)
NONE = RecordingPolicy(mode="none")


def recorder() -> Recorder:
    return Recorder(RecorderState(), "c1")


class TestPolicy:
    def test_first_bridge_starts_the_first_segment_in_the_policys_format(self) -> None:
        rec = recorder()
        assert rec.bridged("c1-b", ALL) == [StartRecording("c1-b", "c1-r1", False, 1, "gsm", True)]
        assert (rec.state.wanted, rec.state.live, rec.state.segments) == (True, "c1-r1", 1)

    def test_a_policy_of_none_records_nothing(self) -> None:
        rec = recorder()
        assert rec.bridged("c1-b", NONE) == []
        assert rec.state.wanted is False

    def test_the_decision_is_taken_once_and_kept_for_later_bridges(self) -> None:
        rec = recorder()
        rec.bridged("c1-b", NONE)
        rec.unbridged()
        assert rec.bridged("c1-b2", ALL) == []  # a transfer to a queue that records all does not change it

    def test_each_bridge_is_a_segment_of_its_own(self) -> None:
        rec = recorder()
        rec.bridged("c1-b", ALL)
        assert rec.unbridged() == [ControlRecording("c1-r1", "stop")]
        assert rec.bridged("c1-b", ALL)[0].name == "c1-r2"
        assert rec.unbridged() == [ControlRecording("c1-r2", "stop")]
        assert rec.unbridged() == []

    def test_sampled_policy_decides_by_call_id_reproducibly(self) -> None:
        sampled = RecordingPolicy(mode="sampled", percent=50.0)
        decisions = [bool(Recorder(RecorderState(), f"c{n}").bridged("b", sampled)) for n in range(400)]
        assert decisions == [bool(Recorder(RecorderState(), f"c{n}").bridged("b", sampled)) for n in range(400)]
        assert 150 < sum(decisions) < 250


class TestPeoplesActions:
    def test_pause_and_resume_the_live_segment(self) -> None:
        rec = recorder()
        rec.bridged("c1-b", ALL)
        assert rec.act("pause", "c1-b", ALL) == [ControlRecording("c1-r1", "pause")]
        assert rec.act("resume", "c1-b", ALL) == [ControlRecording("c1-r1", "unpause")]

    @pytest.mark.parametrize(
        ("setup", "action", "bridged", "reason"),
        [
            ("none", "pause", True, "not_recording"),
            ("none", "resume", True, "not_recording"),
            ("live", "resume", True, "not_paused"),
            ("paused", "pause", True, "already_paused"),
            ("live", "start", True, "already_recording"),
            ("stopped", "stop", True, "not_recording"),
            ("undecided", "pause", False, "not_recording"),
        ],
    )
    def test_an_action_that_does_not_apply_is_refused_and_changes_nothing(
        self, setup: str, action: str, bridged: bool, reason: str
    ) -> None:
        rec = recorder()
        if setup != "undecided":
            rec.bridged("c1-b", NONE if setup == "none" else ALL)
        if setup == "paused":
            rec.act("pause", "c1-b", ALL)
        if setup == "stopped":
            rec.act("stop", "c1-b", ALL)
        before = RecorderState(**{f: getattr(rec.state, f) for f in rec.state.__struct_fields__})
        assert refusal(rec.state, action, bridged=bridged) == reason  # type: ignore[arg-type]
        assert rec.act(action, "c1-b" if bridged else "", ALL) == []  # type: ignore[arg-type]
        assert rec.state == before

    def test_start_on_demand_records_a_call_the_policy_left_out(self) -> None:
        rec = recorder()
        rec.bridged("c1-b", NONE)
        assert rec.act("start", "c1-b", ALL) == [StartRecording("c1-b", "c1-r1", True, 1, "gsm", True)]
        assert rec.state.on_demand

    def test_start_before_the_bridge_records_from_the_first_bridge(self) -> None:
        rec = recorder()
        assert rec.act("start", "", NONE) == []
        assert rec.bridged("c1-b", NONE)[0] == StartRecording("c1-b", "c1-r1", True, 1, "wav", False)

    def test_stop_ends_the_segment_and_no_later_bridge_records(self) -> None:
        rec = recorder()
        rec.bridged("c1-b", ALL)
        assert rec.act("stop", "c1-b", ALL) == [ControlRecording("c1-r1", "stop")]
        rec.unbridged()
        assert rec.bridged("c1-b2", ALL) == []

    def test_a_segment_asterisk_ended_is_no_longer_live(self) -> None:
        rec = recorder()
        rec.bridged("c1-b", ALL)
        rec.lost("c1-r9")  # another segment's end changes nothing
        assert rec.state.live == "c1-r1"
        rec.lost("c1-r1")
        assert rec.state.live == "" and rec.unbridged() == []
