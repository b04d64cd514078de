"""What the pacer hears about the campaign's agents from the ACD board (``roster.Roster.agent_inputs``): plain
asserts, no I/O."""

from __future__ import annotations

from callcenter_ari.dialer.blend import BlendPolicy, Inbound
from callcenter_ari.dialer.messages import AgentAvailable, AgentAway, AgentWrapup
from callcenter_ari.dialer.roster import BoardAgent, Roster

UP = {"joinable": True}
CALM = Inbound(service_level=0.95, waiting=0, free_blended=3)
BUSY_HOTLINE = Inbound(service_level=0.6, waiting=4, longest_wait=45.0, free_blended=0)


def inputs(pacer: dict[str, str], board: dict[str, BoardAgent], spare: int = 10, roster: Roster | None = None):  # type: ignore[no-untyped-def]
    return (roster or Roster(BlendPolicy())).agent_inputs(pacer, board, spare)


class TestAgentsComeAndGo:
    def test_an_available_agent_with_a_line_is_offered_to_the_pacer(self) -> None:
        assert inputs({}, {"p1": BoardAgent(state="available", **UP)}) == [AgentAvailable("p1")]

    def test_an_agent_already_idle_in_the_pacer_is_not_offered_twice(self) -> None:
        assert inputs({"p1": "idle"}, {"p1": BoardAgent(state="available", **UP)}) == []

    def test_an_agent_without_a_standing_line_is_not_offered(self) -> None:
        """Campaign calls are joined into a persistent agent's bridge: no line, no campaign call."""
        assert inputs({}, {"p1": BoardAgent(state="available", joinable=False)}) == []

    def test_an_agent_whose_line_went_down_leaves_even_when_reserved(self) -> None:
        board = {"p1": BoardAgent(state="reserved", joinable=False, ours=True)}
        assert inputs({"p1": "reserved"}, board) == [AgentAway("p1", "line_down")]

    def test_an_agent_gone_not_ready_or_logged_out_leaves(self) -> None:
        board = {"p1": BoardAgent(state="not_ready", **UP), "p2": BoardAgent(state="logged_out", **UP)}
        expected = [AgentAway("p1", "not_ready"), AgentAway("p2", "logged_out")]
        assert inputs({"p1": "idle", "p2": "wrapup"}, board) == expected

    def test_an_idle_agent_taken_by_an_inbound_call_leaves(self) -> None:
        assert inputs({"p1": "idle"}, {"p1": BoardAgent(state="reserved", **UP)}) == [AgentAway("p1", "other_call")]

    def test_the_end_of_a_campaign_call_is_wrap_up_then_available(self) -> None:
        assert inputs({"p1": "talking"}, {"p1": BoardAgent(state="wrapup", ours=True, **UP)}) == [AgentWrapup("p1")]
        assert inputs({"p1": "wrapup"}, {"p1": BoardAgent(state="wrapup", ours=True, **UP)}) == []
        assert inputs({"p1": "wrapup"}, {"p1": BoardAgent(state="available", **UP)}) == [AgentAvailable("p1")]

    def test_an_agent_being_reserved_is_left_alone(self) -> None:
        """The ACD's answer is on its way: whatever the board shows now, the pacer waits for it."""
        assert inputs({"p1": "reserving"}, {"p1": BoardAgent(state="not_ready", **UP)}) == []

    def test_an_agent_no_longer_in_the_campaigns_queue_leaves(self) -> None:
        assert inputs({"p9": "idle"}, {}) == [AgentAway("p9", "not_in_campaign")]


class TestBlendedAgents:
    def test_a_blended_agent_works_the_campaign_while_the_hotline_is_calm(self) -> None:
        assert inputs({}, {"b1": BoardAgent(state="available", inbound=CALM, **UP)}) == [AgentAvailable("b1")]

    def test_a_blended_agent_goes_to_the_hotline_when_it_is_at_risk(self) -> None:
        roster = Roster(BlendPolicy())
        assert inputs({}, {"b1": BoardAgent(state="available", inbound=BUSY_HOTLINE, **UP)}, roster=roster) == []
        assert roster.lent == {"b1": "long_wait"}

    def test_idle_blended_agents_are_taken_back_only_as_far_as_the_calls_in_flight_allow(self) -> None:
        """Two idle blended agents, the hotline at risk, one spare: one leaves, the other covers the calls."""
        board = {a: BoardAgent(state="available", inbound=BUSY_HOTLINE, **UP) for a in ("b1", "b2")}
        assert inputs({"b1": "idle", "b2": "idle"}, board, spare=1) == [AgentAway("b1", "inbound")]

    def test_one_blended_agent_is_kept_free_for_the_hotline_however_calm_it_is(self) -> None:
        """keep_free = 1: of two free blended agents the campaign gets one; the other stays for inbound."""
        calm = Inbound(service_level=0.95, free_blended=2)  # both free, neither with the campaign
        board = {a: BoardAgent(state="available", inbound=calm, **UP) for a in ("b1", "b2")}
        roster = Roster(BlendPolicy(keep_free=1))
        assert inputs({}, board, roster=roster) == [AgentAvailable("b1")]
        assert roster.lent == {"b2": "keep_free"}

    def test_the_hysteresis_keeps_an_agent_inbound_until_the_level_is_back_above_resume(self) -> None:
        roster = Roster(BlendPolicy(service_level_floor=0.8, resume_above=0.85))
        low = Inbound(service_level=0.7, free_blended=3)
        between = Inbound(service_level=0.82, free_blended=3)
        high = Inbound(service_level=0.9, free_blended=3)
        for level, expected in ((low, []), (between, []), (high, [AgentAvailable("b1")])):
            assert inputs({}, {"b1": BoardAgent(state="available", inbound=level, **UP)}, roster=roster) == expected
