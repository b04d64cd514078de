"""The pacer's decisions in each mode, driven input by input with a controlled clock."""

from __future__ import annotations

from callcenter_ari.dialer.messages import (
    AgentAvailable,
    AgentAway,
    AgentReserved,
    AgentWrapup,
    AnsweredByMachine,
    AnsweredByPerson,
    CallPlaced,
    Connect,
    Connected,
    ConnectFailed,
    CustomerHungUp,
    Dial,
    EndCall,
    Lead,
    LeadsReady,
    LinesFree,
    NotAnswered,
    Pause,
    PauseCampaign,
    Preview,
    PreviewSkip,
    PreviewStart,
    Recorded,
    ReleaseAgent,
    ReservationRefused,
    ReserveAgent,
    Resume,
    ReturnLead,
    SafeHarbour,
    Tick,
    WantLeads,
)
from tests.dialer.helpers import Run, history, leads, of

L0 = Lead("l0", "+15550000000")
L1 = Lead("l1", "+15550000001")


class TestPreview:
    def test_the_agent_is_reserved_shown_the_lead_and_starts_the_call(self) -> None:
        run = Run("preview")
        assert run.feed(AgentAvailable("a1")) == [ReserveAgent("a1", "c-1")]
        assert run.feed(AgentReserved("a1", "c-1")) == [Preview("a1", "c-1", L0)]
        assert run.feed(PreviewStart("c-1"), at=6.0) == [Dial("c-1", L0, 25, "a1")]

    def test_a_skipped_lead_goes_back_and_the_next_one_is_shown(self) -> None:
        run = Run("preview")
        run.feed(AgentAvailable("a1"))
        run.feed(AgentReserved("a1", "c-1"))
        assert run.feed(PreviewSkip("c-1")) == [ReturnLead("l0", "skipped"), Preview("a1", "c-2", L1)]

    def test_the_call_starts_by_itself_after_the_preview_time(self) -> None:
        run = Run("preview", preview_seconds=10.0)
        run.feed(AgentAvailable("a1"), at=1.0)
        run.feed(AgentReserved("a1", "c-1"))
        assert run.pacer.next_deadline() == 11.0
        assert run.feed(Tick(), at=11.0) == [Dial("c-1", L0, 25, "a1")]

    def test_after_nobody_answers_the_agent_previews_the_next_lead(self) -> None:
        run = Run("preview")
        run.feed(AgentAvailable("a1"))
        run.feed(AgentReserved("a1", "c-1"))
        run.feed(PreviewStart("c-1"))
        assert run.feed(NotAnswered("c-1", "busy"), at=5.0) == [Preview("a1", "c-2", L1)]


class TestProgressive:
    def test_the_agent_is_reserved_before_the_dial_and_joined_at_the_answer(self) -> None:
        run = Run("progressive")
        assert run.feed(AgentAvailable("a1")) == [ReserveAgent("a1", "c-1")]
        assert run.feed(AgentReserved("a1", "c-1")) == [Dial("c-1", L0, 25, "a1")]
        run.feed(CallPlaced("c-1"))
        assert run.feed(AnsweredByPerson("c-1"), at=9.0) == [Connect("c-1", "a1")]
        assert run.feed(Connected("c-1"), at=9.1) == [Recorded(9.1, "c-1", "connected")]
        assert run.pacer.agents() == {"a1": "talking"}

    def test_the_agent_stays_reserved_from_one_lead_to_the_next(self) -> None:
        run = Run("progressive")
        run.feed(AgentAvailable("a1"))
        run.feed(AgentReserved("a1", "c-1"))
        assert run.feed(NotAnswered("c-1", "no_answer"), at=25.0) == [Dial("c-2", L1, 25, "a1")]

    def test_a_machine_is_ended_recorded_and_the_agent_goes_on(self) -> None:
        run = Run("progressive")
        run.feed(AgentAvailable("a1"))
        run.feed(AgentReserved("a1", "c-1"))
        assert run.feed(AnsweredByMachine("c-1"), at=12.0) == [
            EndCall("c-1", "machine"),
            Recorded(12.0, "c-1", "machine"),
            Dial("c-2", L1, 25, "a1"),
        ]

    def test_no_reservation_without_a_free_line(self) -> None:
        run = Run("progressive", lines=0)
        assert run.feed(AgentAvailable("a1")) == []
        assert run.feed(LinesFree(1)) == [ReserveAgent("a1", "c-1")]

    def test_an_agent_with_no_lead_left_is_released(self) -> None:
        run = Run("progressive", hopper=1)
        run.feed(AgentAvailable("a1"))
        run.feed(AgentReserved("a1", "c-1"))
        decisions = run.feed(NotAnswered("c-1", "failed"), at=2.0)
        assert of(decisions, ReleaseAgent) == [ReleaseAgent("a1", "c-1", "failed")]
        assert run.pacer.agents() == {"a1": "idle"}

    def test_a_refused_dial_says_nothing_about_the_answer_rate(self) -> None:
        run = Run("progressive")
        run.feed(AgentAvailable("a1"))
        run.feed(AgentReserved("a1", "c-1"))
        run.feed(NotAnswered("c-1", "refused"))
        assert len(run.pacer.outcomes) == 0

    def test_a_ratio_above_one_adds_unreserved_calls_only_within_the_budget(self) -> None:
        fresh = Run("progressive", ratio=2.0)
        assert fresh.feed(AgentAvailable("a1")) == [ReserveAgent("a1", "c-1")]
        assert fresh.feed(AgentReserved("a1", "c-1")) == [Dial("c-1", L0, 25, "a1")]
        seasoned = Run("progressive", ratio=2.0, ledger_entries=history(connected=200))
        assert seasoned.feed(AgentAvailable("a1")) == [ReserveAgent("a1", "c-1"), Dial("c-2", L1, 25)]
        assert seasoned.feed(AgentReserved("a1", "c-1")) == [Dial("c-1", L0, 25, "a1")]

    def test_an_extra_call_answered_takes_an_agent_whose_own_call_still_rings(self) -> None:
        run = Run("progressive", ratio=2.0, ledger_entries=history(connected=200))
        run.feed(AgentAvailable("a1"))
        run.feed(AgentReserved("a1", "c-1"))
        assert run.feed(AnsweredByPerson("c-2"), at=7.0) == [Connect("c-2", "a1")]
        assert run.pacer.calls() == {"c-1": "dialing", "c-2": "connecting"}
        run.feed(Connected("c-2"))
        # c-1 rings on with nobody reserved: answered now, it has no agent and abandons at the deadline.
        run.feed(AnsweredByPerson("c-1"), at=8.0)
        assert of(run.feed(Tick(), at=10.0), SafeHarbour) == [SafeHarbour("c-1")]


class TestPredictive:
    def test_a_new_campaign_dials_no_more_calls_than_idle_agents(self) -> None:
        """No headroom yet: every call that could be answered has an agent waiting."""
        run = Run("predictive", hopper=20)
        run.feed(AgentAvailable("a1"))
        run.feed(AgentAvailable("a2"))
        assert len(of(run.feed(AgentAvailable("a3")), Dial)) == 1
        assert run.pacer.calls() == {"c-1": "dialing", "c-2": "dialing", "c-3": "dialing"}
        assert of(run.feed(Tick(), at=1.0), Dial) == []

    def test_a_person_who_answers_takes_the_longest_idle_agent(self) -> None:
        run = Run("predictive", hopper=20)
        run.feed(AgentAvailable("a1"), at=1.0)
        run.feed(AgentAvailable("a2"), at=2.0)
        assert of(run.feed(AnsweredByPerson("c-2"), at=9.0), ReserveAgent) == [ReserveAgent("a1", "c-2")]
        assert run.feed(AgentReserved("a1", "c-2")) == [Connect("c-2", "a1")]

    def test_a_person_waits_for_the_next_agent_until_the_connect_deadline(self) -> None:
        run = Run("predictive", hopper=20, ledger_entries=history(connected=100))
        run.feed(AgentAvailable("a1"))
        run.feed(AnsweredByPerson("c-1"), at=8.0)
        run.feed(AgentReserved("a1", "c-1"))
        run.feed(Connected("c-1"))
        run.feed(AgentAvailable("a2"), at=8.5)
        run.feed(AgentReserved("a2", "c-2"))
        run.feed(AnsweredByPerson("c-2"), at=9.0)  # a2 is reserved for nobody yet: c-2 went to them
        run.feed(AgentAway("a2"), at=9.0)
        assert run.pacer.calls()["c-2"] == "waiting"
        assert of(run.feed(AgentWrapup("a1"), at=10.0), ReserveAgent) == []
        assert of(run.feed(AgentAvailable("a1"), at=10.5), ReserveAgent) == [ReserveAgent("a1", "c-2")]

    def test_nobody_free_by_the_deadline_means_the_safe_harbour_message(self) -> None:
        run = Run("predictive", hopper=20)
        run.feed(AgentAvailable("a1"))
        run.feed(AgentAvailable("a2"))
        run.feed(AgentAway("a2", "not_ready"), at=1.0)  # c-2 was dialed for them
        run.feed(AnsweredByPerson("c-1"), at=8.0)
        run.feed(AgentReserved("a1", "c-1"))
        run.feed(Connected("c-1"))
        run.feed(CallPlaced("c-2"))
        run.feed(AnsweredByPerson("c-2"), at=9.0)
        assert of(run.feed(Tick(), at=10.9), SafeHarbour) == []
        assert run.feed(Tick(), at=11.0)[:2] == [SafeHarbour("c-2"), Recorded(11.0, "c-2", "abandoned", True)]
        (figures,) = run.pacer.ledger.figures(11.0)
        assert (figures.answered, figures.abandoned, figures.messages) == (2, 1, 1)

    def test_a_customer_who_hangs_up_before_an_agent_comes_is_abandoned_with_no_message(self) -> None:
        run = Run("predictive", hopper=20)
        run.feed(AgentAvailable("a1"))
        run.feed(AgentAway("a1"))
        run.feed(AnsweredByPerson("c-1"), at=8.0)
        decisions = run.feed(CustomerHungUp("c-1"), at=9.0)
        assert of(decisions, SafeHarbour) == []
        assert of(decisions, Recorded) == [Recorded(9.0, "c-1", "abandoned", False)]

    def test_a_refused_reservation_tries_the_next_idle_agent(self) -> None:
        run = Run("predictive", hopper=20)
        run.feed(AgentAvailable("a1"), at=1.0)
        run.feed(AgentAvailable("a2"), at=2.0)
        run.feed(AnsweredByPerson("c-1"), at=8.0)
        assert of(run.feed(ReservationRefused("a1", "c-1")), ReserveAgent) == [ReserveAgent("a2", "c-1")]
        assert "a1" not in run.pacer.agents()

    def test_a_failed_join_after_the_deadline_plays_the_message(self) -> None:
        run = Run("predictive", hopper=20)
        run.feed(AgentAvailable("a1"))
        run.feed(AnsweredByPerson("c-1"), at=8.0)
        run.feed(AgentReserved("a1", "c-1"))
        run.feed(Tick(), at=10.5)  # the deadline passes while the join is on its way
        assert of(run.feed(ConnectFailed("c-1"), at=10.6), SafeHarbour) == [SafeHarbour("c-1")]

    def test_a_confirmation_that_comes_after_the_customer_left_releases_the_agent(self) -> None:
        run = Run("predictive", hopper=20)
        run.feed(AgentAvailable("a1"))
        run.feed(AnsweredByPerson("c-1"), at=8.0)
        run.feed(CustomerHungUp("c-1"), at=8.2)
        assert of(run.feed(AgentReserved("a1", "c-1")), ReleaseAgent) == [ReleaseAgent("a1", "c-1", "call_gone")]

    def test_an_agent_reserved_by_an_inbound_call_leaves_the_campaign(self) -> None:
        run = Run("predictive", hopper=20)
        run.feed(AgentAvailable("a1"))
        run.feed(AgentReserved("a1", "inbound-77"))
        assert run.pacer.agents() == {}

    def test_the_trunk_s_free_lines_bound_the_calls(self) -> None:
        run = Run("predictive", hopper=20, lines=2)
        for agent in ("a1", "a2", "a3"):
            run.feed(AgentAvailable(agent))
        assert len(run.pacer.calls()) == 2
        run.feed(LinesFree(1))
        assert of(run.feed(Tick(), at=1.0), Dial) == [Dial("c-3", Lead("l2", "+15550000002"), 25)]

    def test_the_pacer_asks_for_leads_and_waits_before_asking_again_when_none_came(self) -> None:
        run = Run("predictive", hopper=0, refills=True)
        assert run.feed(AgentAvailable("a1")) == []  # asked when the lines came; not again
        run.feed(LeadsReady(()), at=1.0)
        assert run.pacer.next_deadline() == 2.0  # the pacing tick; the leads retry is at 6
        assert of(run.feed(Tick(), at=6.0), WantLeads) == [WantLeads(10)]

    def test_it_ticks_while_agents_are_on_the_campaign(self) -> None:
        run = Run("predictive")
        assert run.pacer.next_deadline() is None or run.pacer.next_deadline() == 5.0
        run.feed(AgentAvailable("a1"), at=1.0)
        assert run.pacer.next_deadline() == 2.0

    def test_inputs_about_unknown_calls_change_nothing(self) -> None:
        run = Run("predictive")
        for message in (Connected("x"), AnsweredByPerson("x"), NotAnswered("x", "busy"), CustomerHungUp("x")):
            assert run.feed(message) == []


class TestPause:
    def test_a_breach_pauses_the_campaign_and_returns_its_leads(self) -> None:
        """97 connected and 3 abandoned: one more abandon is over 3 %."""
        run = Run("predictive", hopper=20, ledger_entries=history(connected=97, abandoned=3))
        run.feed(AgentAvailable("a1"))
        run.feed(AgentAway("a1"))
        run.feed(AnsweredByPerson("c-1"), at=8.0)
        decisions = run.feed(Tick(), at=10.0)
        (pause,) = of(decisions, PauseCampaign)
        assert (pause.rule, pause.answered, pause.abandoned) == ("us_tsr", 101, 4)
        assert len(of(decisions, ReturnLead)) == 19
        assert run.pacer.paused and run.pacer.hopper() == 0
        assert run.feed(AgentAvailable("a2"), at=11.0) == []

    def test_a_supervisor_pauses_and_resumes(self) -> None:
        run = Run("progressive", refills=True)
        run.feed(AgentAvailable("a1"))
        decisions = run.feed(Pause())
        assert ReleaseAgent("a1", "c-1", "paused") in decisions
        assert [d.lead_id for d in of(decisions, ReturnLead)] == ["l0", "l1", "l2", "l3", "l4"]
        assert of(run.feed(Resume()), WantLeads) == [WantLeads(5)]
        assert run.feed(leads(5, first=10)) == [ReserveAgent("a1", "c-2")]


class TestAgentsLeaving:
    def test_an_agent_leaving_during_a_preview_puts_the_lead_back_first_in_line(self) -> None:
        run = Run("preview")
        run.feed(AgentAvailable("a1"))
        run.feed(AgentReserved("a1", "c-1"))
        run.feed(AgentAway("a1", "break"))
        assert run.pacer.calls() == {} and run.pacer.hopper() == 5
        run.feed(AgentAvailable("a2"))
        assert run.feed(AgentReserved("a2", "c-2")) == [Preview("a2", "c-2", L0)]

    def test_a_call_in_flight_goes_on_unreserved_when_its_agent_leaves(self) -> None:
        run = Run("progressive")
        run.feed(AgentAvailable("a1"))
        run.feed(AgentReserved("a1", "c-1"))
        run.feed(AgentAway("a1", "logged_out"))
        run.feed(AgentAvailable("a2"))
        run.feed(AgentReserved("a2", "c-2"))
        # c-1 is answered with nobody reserved for it: a2's own call still rings, so a2 takes the person.
        assert run.feed(AnsweredByPerson("c-1"), at=9.0) == [Connect("c-1", "a2")]

    def test_only_agents_not_covering_calls_in_flight_are_spare(self) -> None:
        """A new campaign has no headroom: each unreserved call in flight holds an idle agent."""
        run = Run("predictive", hopper=20, lines=2)
        for agent in ("a1", "a2", "a3"):
            run.feed(AgentAvailable(agent))
        assert len(run.pacer.calls()) == 2
        assert run.pacer.spare_agents(run.now) == 1

    def test_an_agent_said_available_twice_keeps_their_place_among_the_idle(self) -> None:
        run = Run("predictive", hopper=20)
        run.feed(AgentAvailable("a1"), at=1.0)
        run.feed(AgentAvailable("a2"), at=2.0)
        run.feed(AgentAvailable("a1"), at=3.0)
        assert of(run.feed(AnsweredByPerson("c-2"), at=9.0), ReserveAgent) == [ReserveAgent("a1", "c-2")]
