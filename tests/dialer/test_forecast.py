"""The predictive decision: the worst-case abandon budget, the controller's test, and the estimates behind them."""

from __future__ import annotations

import pytest

from callcenter_ari.dialer import forecast
from callcenter_ari.dialer.controller import AbandonController
from callcenter_ari.dialer.estimate import TRUSTED, DialOutcomes, HandleTimes, Samples
from callcenter_ari.dialer.forecast import Picture


def picture(idle: int = 0, unsecured: int = 0, supply: float = 0.0, demand: float = 0.0, p: float = 0.3) -> Picture:
    return Picture(
        idle=idle,
        supply_mean=idle + supply,
        supply_var=supply * 0.25,
        demand_mean=demand,
        demand_var=demand * 0.7,
        unsecured=unsecured,
        person_rate=p,
    )


class TestBudget:
    def test_with_no_headroom_only_calls_for_idle_agents_are_dialed(self) -> None:
        """Progressive by another name: every call that could be answered has an agent."""
        assert forecast.dials(picture(idle=5, supply=20.0), theta=1.0, headroom=0.0, cap=100).calls == 5

    def test_headroom_buys_that_many_calls_beyond_the_idle_agents(self) -> None:
        assert forecast.dials(picture(idle=5, unsecured=2, supply=20.0), theta=1.0, headroom=4.5, cap=100).calls == 7

    def test_calls_that_cannot_abandon_are_allowed_even_over_the_limit(self) -> None:
        assert forecast.within_budget(picture(idle=3, unsecured=1), 2, headroom=-0.5)
        assert not forecast.within_budget(picture(idle=3, unsecured=1), 3, headroom=-0.5)

    def test_the_worst_case_counts_every_unreserved_call_answered_at_once(self) -> None:
        assert forecast.worst_abandons(picture(idle=4, unsecured=10), more=2) == 8


class TestController:
    def test_fewer_calls_as_theta_falls(self) -> None:
        """Busy agents about to finish and calls ringing: the controller's test sets the count."""
        scene = picture(idle=2, unsecured=8, supply=6.0, demand=3.0, p=0.25)
        counts = [forecast.dials(scene, theta=theta, headroom=1e9, cap=200).calls for theta in (0.2, 0.05, 0.01)]
        assert counts[0] > counts[1] > counts[2] >= 0

    def test_the_answer_says_whether_the_controller_set_it(self) -> None:
        scene = picture(idle=2, unsecured=8, supply=6.0, demand=3.0, p=0.25)
        assert forecast.dials(scene, theta=0.02, headroom=1e9, cap=200).steering
        assert not forecast.dials(scene, theta=0.5, headroom=0.0, cap=200).steering  # the budget did

    def test_abandons_at_the_target_rate_leave_theta_where_it_was(self) -> None:
        """Integral action: theta stops moving exactly when abandons are the target share (1 in 50 here)."""
        controller = AbandonController(0.02, gain=0.01)
        start = controller.theta
        for _ in range(3):
            for _ in range(49):
                controller.observe(False)
            controller.observe(True)
        assert controller.theta == pytest.approx(start)

    def test_below_the_target_it_grows_bolder_above_it_more_careful(self) -> None:
        bold, careful = AbandonController(0.02), AbandonController(0.02)
        for n in range(1_000):
            bold.observe(n % 100 == 0)  # 1 %
            careful.observe(n % 25 == 0)  # 4 %
        assert bold.theta > 0.02 > careful.theta

    def test_theta_does_not_wind_up_while_something_else_limits_the_dialing(self) -> None:
        controller = AbandonController(0.02)
        for _ in range(1_000):
            controller.observe(False, steering=False)
        assert controller.theta == pytest.approx(0.02)
        controller.observe(True, steering=False)
        assert controller.theta < 0.02

    def test_theta_stays_within_its_bounds(self) -> None:
        controller = AbandonController(0.02, span=10.0)
        for _ in range(10_000):
            controller.observe(True)
        assert controller.theta == pytest.approx(0.002)


class TestEstimates:
    def test_samples_keep_a_window_in_order_and_sorted(self) -> None:
        samples = Samples(3)
        for value in (5.0, 1.0, 3.0, 2.0):
            samples.add(value)
        assert samples.sorted == [1.0, 2.0, 3.0]
        assert samples.mean() == pytest.approx(2.0)

    def test_the_person_rate_leans_on_a_high_prior_until_dials_come_back(self) -> None:
        outcomes = DialOutcomes(prior_rate=0.5, prior_weight=10)
        assert outcomes.person_rate() == 0.5
        for n in range(390):
            outcomes.add(n % 10 < 2, 10.0)
        assert outcomes.person_rate() == pytest.approx((78 + 5) / 400)

    def test_the_window_holds_the_last_dials_of_both_kinds_together(self) -> None:
        outcomes = DialOutcomes(size=10, prior_weight=0.0)
        for _ in range(10):
            outcomes.add(True, 8.0)
        for _ in range(10):
            outcomes.add(False, 25.0)
        assert len(outcomes) == 10 and outcomes.person_rate() == 0.0

    def test_a_call_ringing_past_the_usual_answer_time_is_less_likely_a_person(self) -> None:
        outcomes = DialOutcomes(prior_weight=0.0)
        for n in range(300):
            outcomes.add(n % 3 == 0, 5.0 + n % 10 if n % 3 == 0 else 25.0)
        fresh, _ = outcomes.expected_persons([0.0])
        late, _ = outcomes.expected_persons([20.0])
        assert fresh == pytest.approx(1 / 3, abs=0.02)
        assert late < 0.05

    def test_an_agent_near_the_usual_end_of_a_call_is_likely_free_soon(self) -> None:
        times = HandleTimes()
        for n in range(100):
            times.talk.add(100.0 + n)  # talks of 100 to 199 s
            times.wrapup.add(0.0)
        early, _ = times.expected_free([10.0], [], horizon=10.0)
        late, _ = times.expected_free([180.0], [], horizon=10.0)
        beyond, _ = times.expected_free([500.0], [], horizon=10.0)
        assert early == 0.0 and late == pytest.approx(10 / 19) and beyond == 0.0

    def test_nothing_is_promised_from_too_few_calls(self) -> None:
        """The first calls to end are the short ones."""
        times = HandleTimes()
        for _ in range(TRUSTED - 1):
            times.talk.add(20.0)
            times.wrapup.add(5.0)
        assert times.expected_free([19.0], [4.0], horizon=30.0) == (0.0, 0.0)
