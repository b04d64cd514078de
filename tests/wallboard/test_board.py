"""The wallboard's reduction: a snapshot and the tenant's events give the facts and alerts on the wall."""

from __future__ import annotations

from typing import Any

from callcenter_ari.wallboard import HOLD_ALERT_SECONDS, alerts, apply, from_snapshot
from callcenter_ari.wallboard.board import with_figures

T0 = 1_800_000_000.0


def queue_view(queue: str = "support", **today: Any) -> dict[str, Any]:
    return {
        "id": queue,
        "name": queue.title(),
        "waiting": 2,
        "longest_wait_seconds": 12.5,
        "sla_seconds": 20,
        "agents": {"available": 1, "talking": 1, "wrapup": 0},
        "today": {"entered": 10, "answered": 8, "abandoned": 1, "service_level": 0.9, "abandon_rate": 0.1, **today},
    }


def agent_view(agent: str = "a1", state: str = "available", **extra: Any) -> dict[str, Any]:
    return {"id": agent, "name": "Ann", "state": state, "since": T0 - 60, "reason": "", "call_id": "", **extra}


def snapshot(**extra: Any) -> dict[str, Any]:
    return {"at": T0, "queues": [queue_view()], "agents": [agent_view()], **extra}


def kinds(board: Any) -> list[tuple[str, str]]:
    return [(a.kind, a.subject) for a in alerts(board)]


class TestSnapshot:
    def test_figures_are_the_apis_own(self) -> None:
        board = from_snapshot(snapshot())
        support = board.queues["support"]
        assert (support.waiting, support.service_level, support.abandon_rate) == (2, 0.9, 0.1)
        assert support.oldest_since == T0 - 12.5
        assert support.agents == {"available": 1, "talking": 1}
        assert board.agents["a1"].state == "available"
        assert alerts(board) == []

    def test_callbacks_pending_shown_when_the_statistics_carry_them(self) -> None:
        with_callbacks = {**queue_view(), "callbacks": {"pending": 3, "due": 1, "attempted": 0, "connected": 2}}
        assert from_snapshot(snapshot(queues=[with_callbacks])).queues["support"].callbacks_pending == 3
        assert from_snapshot(snapshot()).queues["support"].callbacks_pending == 0

    def test_an_overdue_ticket_in_the_snapshot_is_an_alert(self) -> None:
        board = from_snapshot(snapshot(overdue_tickets=[{"number": "T-2026-000001", "overdue_at": T0 - 5}]))
        assert kinds(board) == [("overdue_ticket", "T-2026-000001")]

    def test_an_agent_on_hold_in_the_snapshot_alerts_after_the_hold_threshold(self) -> None:
        held = agent_view(state="on_hold", call_id="c1", hold_since=T0 - 40)
        [alert] = alerts(from_snapshot(snapshot(agents=[held])))
        assert (alert.kind, alert.subject, alert.since) == ("hold", "a1", T0 - 40 + HOLD_ALERT_SECONDS)


class TestEvents:
    def test_agent_state_changes_are_applied_with_their_time(self) -> None:
        board = apply(from_snapshot(snapshot()), "agent.state", {"agent": "a1", "state": "wrapup"}, T0 + 3)
        a1 = board.agents["a1"]
        assert (a1.state, a1.since) == ("wrapup", T0 + 3)  # wrap-up is its own state, never available
        assert board.at == T0 + 3

    def test_the_board_given_is_never_changed(self) -> None:
        before = from_snapshot(snapshot())
        apply(before, "agent.state", {"agent": "a1", "state": "talking"}, T0 + 1)
        assert before.agents["a1"].state == "available"

    def test_hold_alert_stands_30_seconds_after_the_hold_and_ends_with_it(self) -> None:
        board = apply(from_snapshot(snapshot()), "call.held", {"call_id": "c1", "agent": "a1"}, T0 + 1)
        [alert] = alerts(board)
        assert (alert.kind, alert.subject, alert.since) == ("hold", "a1", T0 + 1 + HOLD_ALERT_SECONDS)
        assert alerts(apply(board, "call.unheld", {"call_id": "c1"}, T0 + 5)) == []

    def test_a_hold_alert_event_stands_at_once(self) -> None:
        board = apply(from_snapshot(snapshot()), "call.hold_alert", {"call_id": "c1", "agent": "a1", "held": 45}, T0)
        [alert] = alerts(board)
        assert (alert.kind, alert.since) == ("hold", T0 - 45)

    def test_break_overrun_from_the_deadline_and_from_the_acd_is_one_alert(self) -> None:
        on_break = agent_view(state="not_ready", reason="lunch", until=T0 + 600)
        board = from_snapshot(snapshot(agents=[on_break]))
        assert [(a.kind, a.since) for a in alerts(board)] == [("break_overrun", T0 + 600)]
        board = apply(board, "acd.alert", {"kind": "break_overrun", "agent_id": "a1", "detail": "lunch"}, T0 + 601)
        assert [(a.kind, a.since) for a in alerts(board)] == [("break_overrun", T0 + 600)]
        board = apply(board, "agent.state", {"agent": "a1", "state": "available"}, T0 + 700)
        assert alerts(board) == []

    def test_urgent_ticket_alerts_and_an_overdue_one_ends_when_completed(self) -> None:
        board = apply(from_snapshot(snapshot()), "ticket.overdue", {"ticket": "T-1", "queue": "support"}, T0)
        assert kinds(board) == [("overdue_ticket", "T-1")]
        board = apply(board, "ticket.completed", {"ticket": "T-1", "urgent": False}, T0 + 1)
        assert alerts(board) == []
        board = apply(board, "ticket.completed", {"ticket": "T-2", "urgent": True, "title": "Dark street"}, T0 + 2)
        [urgent] = alerts(board)
        assert (urgent.kind, urgent.subject, urgent.detail) == ("urgent_ticket", "T-2", "Dark street")

    def test_trunk_full_until_available_and_down_until_up(self) -> None:
        board = apply(from_snapshot(snapshot()), "trunk.full", {"trunk": "carrier"}, T0)
        board = apply(board, "trunk.down", {"trunk": "dahdi"}, T0 + 1)
        assert [(a.subject, a.detail) for a in alerts(board)] == [("carrier", "full"), ("dahdi", "down")]
        board = apply(board, "trunk.available", {"trunk": "carrier"}, T0 + 2)
        board = apply(board, "trunk.up", {"trunk": "dahdi"}, T0 + 3)
        assert alerts(board) == []

    def test_overload_shedding_stands_from_its_first_event_until_it_ends(self) -> None:
        board = apply(from_snapshot(snapshot()), "overload.shedding", {"reason": "max_calls"}, T0)
        board = apply(board, "overload.shedding", {"reason": "max_calls"}, T0 + 1)
        assert [(a.kind, a.since) for a in alerts(board)] == [("overload", T0)]
        assert alerts(apply(board, "overload.ended", {}, T0 + 2)) == []

    def test_an_event_the_board_does_not_follow_changes_only_its_time(self) -> None:
        before = from_snapshot(snapshot())
        after = apply(before, "ivr.key", {"digit": "1"}, T0 + 9)
        assert (after.queues, after.agents, after.at) == (before.queues, before.agents, T0 + 9)


class TestFigures:
    def test_service_level_below_target_is_an_alert(self) -> None:
        board = with_figures(from_snapshot(snapshot()), [queue_view(service_level=0.5)], [agent_view()], T0 + 1)
        [alert] = alerts(board)
        assert (alert.kind, alert.subject) == ("service_level", "support")
        assert "50%" in alert.detail and "20 s" in alert.detail

    def test_fresh_figures_replace_the_old_ones_callbacks_included(self) -> None:
        fresh = {**queue_view(entered=11), "waiting": 0, "longest_wait_seconds": None, "callbacks": {"pending": 4}}
        board = with_figures(from_snapshot(snapshot()), [fresh], [], T0 + 1)
        support = board.queues["support"]
        assert (support.entered, support.waiting, support.oldest_since, support.callbacks_pending) == (
            11,
            0,
            None,
            4,
        )
        assert board.agents == {}
