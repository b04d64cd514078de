"""Statistics against a scripted day: service level, abandons (short ones apart), ASA, AHT, agent times."""

from __future__ import annotations

import pytest

from callcenter_ari.acd.stats import (
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallExited,
    CallHungUp,
    CallJoined,
    Stats,
    StatsEvent,
)

DAY: list[StatsEvent] = [
    AgentStateChanged(0, "a1", "available"),
    AgentStateChanged(0, "a2", "available"),
    CallJoined(0, "c1", "q"),
    CallJoined(5, "c2", "q"),
    CallAnswered(10, "c1", "q", "a1"),  # waited 10 s: within 20 s
    AgentStateChanged(10, "a1", "talking"),
    CallAnswered(35, "c2", "q", "a2"),  # waited 30 s
    AgentStateChanged(35, "a2", "talking"),
    CallJoined(40, "c3", "q"),
    CallAbandoned(43, "c3", "q"),  # 3 s: a short abandon
    AgentStateChanged(50, "a1", "on_hold"),
    CallJoined(50, "c4", "q"),
    AgentStateChanged(60, "a1", "talking"),
    CallAbandoned(80, "c4", "q"),  # 30 s: an abandon
    CallJoined(100, "c5", "q"),
    CallEnded(110, "c1", "a1"),
    AgentStateChanged(110, "a1", "wrapup"),
    AgentStateChanged(130, "a1", "available"),  # c1 handled: 100 s talk + 20 s wrap-up
    CallEnded(235, "c2", "a2"),
    AgentStateChanged(235, "a2", "wrapup"),
    AgentStateChanged(245, "a2", "available"),  # c2 handled: 200 s + 10 s
    CallExited(400, "c5", "q", "max_wait"),
    AgentStateChanged(400, "a1", "not_ready", "break"),
    AgentStateChanged(800, "a1", "available"),
    CallJoined(890, "c6", "q"),
    CallAnswered(905, "c6", "q", "a1"),  # waited 15 s, counted in the second interval
    AgentStateChanged(905, "a1", "talking"),
    CallEnded(1000, "c6", "a1"),
    AgentStateChanged(1000, "a1", "wrapup"),
    AgentStateChanged(1030, "a1", "available"),  # c6 handled: 95 s + 30 s
    CallJoined(1050, "c7", "q"),
    AgentStateChanged(1100, "a1", "logged_out"),
]


@pytest.fixture
def stats() -> Stats:
    s = Stats(interval=900.0, sla_seconds=20.0, short_abandon_seconds=5.0, members={"q": ["a1", "a2"]})
    for event in DAY:
        s.feed(event)
    return s


def test_first_interval_queue_figures(stats: Stats) -> None:
    q = stats.interval(0.0).queues["q"]
    assert (q.entered, q.answered, q.answered_in_sl, q.abandoned, q.short_abandoned, q.exited) == (6, 2, 1, 1, 1, 1)
    # N = answered + abandoned + exited = 4 (the short abandon is left out)
    assert q.service_level == 0.25
    assert q.abandon_rate == 0.25
    assert q.asa == 20.0
    assert q.aht == 165.0  # (120 + 210) / 2
    assert q.longest_wait == 300.0


def test_second_interval_counts_the_call_whose_wait_ended_there(stats: Stats) -> None:
    q = stats.interval(900.0).queues["q"]
    assert (q.entered, q.answered, q.service_level, q.asa, q.aht) == (1, 1, 1.0, 15.0, 125.0)
    assert stats.intervals() == [0.0, 900.0]


def test_live_figures_cover_the_day_and_the_calls_waiting_now(stats: Stats) -> None:
    live = stats.live(1100.0).queues["q"]
    assert (live.waiting, live.longest_wait) == (1, 50.0)
    assert live.agents == {"logged_out": 1, "available": 1}
    assert live.today.service_level == 2 / 5 and live.today.abandon_rate == 1 / 5
    assert live.today.asa == pytest.approx(55 / 3) and live.today.aht == pytest.approx(455 / 3)


def test_agent_times_are_split_at_interval_boundaries(stats: Stats) -> None:
    first = stats.interval(0.0).agents["a1"]
    assert (first.calls, first.available, first.talk, first.hold, first.wrapup) == (1, 380.0, 90.0, 10.0, 20.0)
    assert first.not_ready == {"break": 400.0} and first.logged_in == 900.0
    second = stats.interval(900.0).agents["a1"]
    assert (second.calls, second.available, second.talk, second.wrapup, second.logged_in) == (1, 75, 95, 30, 200)


def test_open_states_count_up_to_now(stats: Stats) -> None:
    a2 = stats.interval(0.0, now=500.0).agents["a2"]
    assert a2.talk == 200.0 and a2.wrapup == 10.0 and a2.available == 35.0 + 255.0
    assert stats.live(1100.0).agents["a2"].available == 35.0 + 855.0


def test_a_caller_hung_up_by_a_supervisor_is_counted_apart_from_abandons() -> None:
    """Neither the caller's abandon nor the queue's doing: its own count, outside N (service level, abandon rate),
    in the interval and in the live figures alike; the caller no longer waits."""
    s = Stats(sla_seconds=20.0, short_abandon_seconds=5.0)
    for event in (CallJoined(0, "c1", "q"), CallAnswered(10, "c1", "q", "a"), CallJoined(0, "c2", "q"),
                  CallHungUp(60, "c2", "q"), CallJoined(70, "c3", "q")):  # fmt: skip
        s.feed(event)
    for q in (s.interval(0.0).queues["q"], s.live(80.0).queues["q"].today):
        assert (q.answered, q.abandoned, q.short_abandoned, q.exited, q.hung_up_by_supervisor) == (1, 0, 0, 0, 1)
        assert (q.service_level, q.abandon_rate) == (1.0, 0.0)
    assert s.live(80.0).queues["q"].waiting == 1


def test_sla_and_short_abandon_thresholds_can_differ_per_queue() -> None:
    s = Stats(sla_seconds={"q": 60.0}, short_abandon_seconds={"q": 0.0})
    for event in (CallJoined(0, "c1", "q"), CallAnswered(45, "c1", "q", "a"), CallJoined(0, "c2", "q"),
                  CallAbandoned(2, "c2", "q")):  # fmt: skip
        s.feed(event)
    q = s.interval(0.0).queues["q"]
    assert (q.answered_in_sl, q.abandoned, q.short_abandoned) == (1, 1, 0)


def test_a_queue_reconfigured_counts_new_calls_by_its_new_threshold_and_members() -> None:
    """A queue whose SLA changes at run time: the calls so far keep their count, the next one uses the new SLA;
    a new queue and a new member show in the live figures."""
    s = Stats(sla_seconds={"q": 20.0}, members={"q": ["a1"]})
    s.feed(CallJoined(0, "c1", "q"))
    s.feed(CallAnswered(30, "c1", "q", "a1"))
    s.configure(sla_seconds={"q": 60.0, "new": 10.0}, short_abandon_seconds={}, members={"q": ["a1"], "new": ["a2"]})
    s.feed(CallJoined(40, "c2", "q"))
    s.feed(CallAnswered(80, "c2", "q", "a1"))
    live = s.live(100.0)
    assert live.queues["q"].today.answered_in_sl == 1 and live.queues["q"].today.answered == 2
    assert live.queues["new"].agents == {"logged_out": 1}
