"""The outbox's decider: what the loop claims, sends, records and disables, from what it read and the time given.

Plain asserts, no Redis, no HTTP; and a check that the package stays free of I/O.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from callcenter_ari import webhooks
from callcenter_ari.webhooks.model import Delivery, StreamEntry, Subscription, WebhookSettings
from callcenter_ari.webhooks.outbox import AttemptResult, Outbox

SECRET = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"
SETTINGS = WebhookSettings(backoff=(5.0, 30.0), jitter=0.0, max_attempts=3, concurrency=4, per_subscription=2)


def sub(sub_id: str, events: tuple[str, ...] = (), enabled: bool = True) -> Subscription:
    return Subscription(id=sub_id, url="https://crm.example/hook", secret=SECRET, events=events, enabled=enabled)


def delivery(attempts: int = 0) -> Delivery:
    return Delivery(
        id="msg_1-0_sub_a",
        subscription_id="sub_a",
        event_id="1-0",
        type="t",
        body="{}",
        created_at=0,
        attempts=attempts,
    )


class TestDispatching:
    def test_slots_are_shared_and_capped_per_subscription(self) -> None:
        outbox = Outbox(SETTINGS)
        for _ in range(2):
            outbox.started("sub_a")
        outbox.started("sub_b")
        assert outbox.free() == 1
        assert outbox.limits([sub("sub_a"), sub("sub_b"), sub("sub_c")]) == {"sub_b": 1, "sub_c": 2}
        outbox.finished("sub_a")
        outbox.finished("sub_b")
        assert outbox.in_flight == {"sub_a": 1} and outbox.free() == 3

    def test_a_disabled_subscription_is_paused(self) -> None:
        assert Outbox(SETTINGS).limits([sub("sub_a", enabled=False), sub("sub_b")]) == {"sub_b": 2}

    def test_due_deliveries_are_picked_one_subscription_at_a_time(self) -> None:
        """A backlog on one receiver does not take every free slot."""
        due = {"sub_a": ["a1", "a2", "a3"], "sub_b": ["b1"], "sub_c": ["c1", "c2"]}
        picked = Outbox(SETTINGS).pick(due, 4)
        assert picked == [("sub_a", "a1"), ("sub_b", "b1"), ("sub_c", "c1"), ("sub_a", "a2")]
        assert Outbox(SETTINGS).pick(due, 0) == [] and Outbox(SETTINGS).pick({}, 4) == []

    def test_the_next_look_is_the_next_due_time_within_the_poll_interval(self) -> None:
        outbox = Outbox(WebhookSettings(poll_interval=1.0))
        assert outbox.next_look(None, 100.0) == 1.0
        assert outbox.next_look(100.25, 100.0) == 0.25
        assert outbox.next_look(150.0, 100.0) == 1.0
        assert outbox.next_look(99.0, 100.0) == 0.0

    def test_a_claim_holds_for_the_lease(self) -> None:
        assert Outbox(WebhookSettings(lease_seconds=60.0)).lease_until(100.0) == 160.0


class TestKnownDeliveries:
    def test_the_due_ones_are_offered_earliest_first_up_to_the_limit_and_then_forgotten(self) -> None:
        outbox = Outbox(SETTINGS)
        for ident, at in (("d3", 3.0), ("d1", 1.0), ("d2", 2.0), ("d9", 9.0)):
            outbox.expect("sub_a", ident, at)
        outbox.expect("sub_b", "e1", 1.0)
        assert outbox.candidates({"sub_a": 2}, now=5.0) == {"sub_a": ["d1", "d2"]}
        # Offered once: what the claim does not take, it names again (and is expected again from that).
        assert outbox.candidates({"sub_a": 2, "sub_b": 2}, now=5.0) == {"sub_a": ["d3"], "sub_b": ["e1"]}
        assert outbox.candidates({"sub_a": 2}, now=5.0) == {}
        assert outbox.candidates({"sub_a": 2}, now=9.0) == {"sub_a": ["d9"]}

    def test_a_subscription_without_room_or_gone_is_offered_nothing(self) -> None:
        outbox = Outbox(SETTINGS)
        outbox.expect("sub_a", "d1", 1.0)
        outbox.expect("sub_b", "e1", 1.0)
        assert outbox.candidates({"sub_a": 0}, now=5.0) == {}
        outbox.forget_all_but({"sub_a"})
        assert outbox.candidates({"sub_a": 1, "sub_b": 1}, now=5.0) == {"sub_a": ["d1"]}

    def test_a_delivery_expected_again_comes_due_at_its_new_time_once(self) -> None:
        outbox = Outbox(SETTINGS)
        outbox.expect("sub_a", "d1", 1.0)
        outbox.expect("sub_a", "d1", 8.0)  # retried: due later
        assert outbox.candidates({"sub_a": 5}, now=5.0) == {}
        for n in range(500):  # rescheduled over and over: what is kept stays bounded, the last time holds
            outbox.expect("sub_a", "d2", 100.0 + n)
        assert len(outbox._known["sub_a"].heap) <= 2 * 2 + 64
        assert outbox.candidates({"sub_a": 5}, now=9.0) == {"sub_a": ["d1"]}
        assert outbox.candidates({"sub_a": 5}, now=598.0) == {}
        assert outbox.candidates({"sub_a": 5}, now=599.0) == {"sub_a": ["d2"]}
        assert outbox.candidates({"sub_a": 5}, now=10.0**6) == {}

    def test_what_is_kept_is_bounded(self) -> None:
        from callcenter_ari.webhooks.outbox import KNOWN_PER_SUBSCRIPTION

        outbox = Outbox(SETTINGS)
        for n in range(KNOWN_PER_SUBSCRIPTION + 5):
            outbox.expect("sub_a", f"d{n}", float(n))
        outbox.expect("sub_a", "d0", 0.5)  # one already known is updated
        offered = outbox.candidates({"sub_a": 10**6}, now=10.0**6)["sub_a"]
        assert len(offered) == KNOWN_PER_SUBSCRIPTION and offered[0] == "d0"

    def test_another_take_only_for_due_deliveries_of_a_subscription_with_room(self) -> None:
        outbox = Outbox(SETTINGS)  # per_subscription 2, concurrency 4
        subs = [sub("sub_a"), sub("sub_b")]
        assert outbox.another_take({"sub_a": ["d1"]}, subs)
        assert not outbox.another_take({}, subs)
        outbox.started("sub_a")
        outbox.started("sub_a")
        assert not outbox.another_take({"sub_a": ["d1"]}, subs)  # its slots are taken
        assert outbox.another_take({"sub_a": ["d1"], "sub_b": ["e1"]}, subs)
        outbox.started("sub_b")
        outbox.started("sub_b")
        assert not outbox.another_take({"sub_b": ["e1"]}, subs)  # no slot at all


class TestSettling:
    def test_a_2xx_is_delivered_and_logged(self) -> None:
        settled = Outbox(SETTINGS).settle(delivery(), AttemptResult(204, "", None, 12.5), 10.0)
        assert settled.outcome == "delivered" and settled.delivery.status == "delivered" and not settled.disable
        line = settled.line
        assert (line.attempt, line.status_code, line.duration_ms, line.next_attempt_at) == (1, 204, 12.5, None)

    def test_a_failure_is_rescheduled_after_its_backoff(self) -> None:
        settled = Outbox(SETTINGS).settle(delivery(), AttemptResult(None, "ConnectError", None, 3.0), 10.0)
        assert settled.outcome == "retry" and settled.delivery.next_attempt_at == 15.0
        assert settled.line.next_attempt_at == 15.0 and settled.line.error == "ConnectError"

    def test_the_last_attempt_is_dead_lettered(self) -> None:
        settled = Outbox(SETTINGS).settle(delivery(attempts=2), AttemptResult(500, "HTTP 500", None, 1.0), 10.0)
        assert settled.outcome == "dead" and settled.delivery.status == "dead" and not settled.disable

    def test_410_gone_dead_letters_and_disables_the_subscription(self) -> None:
        settled = Outbox(SETTINGS).settle(delivery(), AttemptResult(410, "HTTP 410", None, 1.0), 10.0)
        assert settled.outcome == "dead" and "410" in settled.disable

    def test_a_dead_letter_comes_back_with_fresh_attempts_and_its_id(self) -> None:
        dead = Outbox(SETTINGS).settle(delivery(attempts=2), AttemptResult(500, "HTTP 500", None, 1.0), 10.0).delivery
        fresh = Outbox(SETTINGS).requeued(dead, 20.0)
        assert (fresh.id, fresh.status, fresh.attempts, fresh.next_attempt_at) == (dead.id, "pending", 0, 20.0)
        assert fresh.last_status is None and fresh.last_error == ""


class TestConsuming:
    def test_every_entry_read_is_acknowledged_and_the_trimmed_ones_send_nothing(self) -> None:
        entries = [StreamEntry("1-0", "call.started", 1.0, b'{"call_id":"c1"}'), StreamEntry("2-0", "", 0.0, b"{}")]
        decided = Outbox(SETTINGS).fan_out(entries, [sub("sub_a"), sub("sub_b", ("ticket.*",))], 5.0)
        assert [d.id for d in decided.deliveries] == ["msg_1-0_sub_a"]
        assert decided.acknowledge == ["1-0", "2-0"] and decided.malformed == []

    def test_data_that_is_not_json_is_sent_as_an_empty_object_and_reported(self) -> None:
        decided = Outbox(SETTINGS).fan_out([StreamEntry("1-0", "call.started", 1.0, b"{nope")], [sub("sub_a")], 5.0)
        assert decided.malformed == ["1-0"] and '"data":{}' in decided.deliveries[0].body

    def test_a_replayed_event_gets_new_ids_and_acknowledges_nothing(self) -> None:
        entry = StreamEntry("1-0", "call.started", 1.0, b"{}")
        decided = Outbox(SETTINGS).replayed(entry, [sub("sub_a")], 5.0, "ab12")
        assert [(d.id, d.replay_of) for d in decided.deliveries] == [("msg_1-0_sub_a_rab12", "1-0")]
        assert decided.acknowledge == []

    def test_abandoned_entries_are_looked_for_at_start_then_every_claim_idle(self) -> None:
        outbox = Outbox(WebhookSettings(claim_idle=60.0))
        assert [outbox.reclaim_due(t) for t in (0.0, 30.0, 60.0, 60.5, 100.0, 121.0)] == [
            True,
            False,
            False,
            True,
            False,
            True,
        ]


def test_backoff_jitter_comes_from_the_given_random_source() -> None:
    settings = WebhookSettings(backoff=(100.0,), jitter=0.2)
    first = Outbox(settings, random.Random(7)).settle(delivery(), AttemptResult(500, "", None, 0.0), 0.0)
    again = Outbox(settings, random.Random(7)).settle(delivery(), AttemptResult(500, "", None, 0.0), 0.0)
    assert first.delivery.next_attempt_at == again.delivery.next_attempt_at != 100.0


_IO = (
    "anyio",
    "asyncio",
    "httpx",
    "httpcore",
    "aiohttp",
    "redis",
    "socket",
    "time",
    "callcenter_ari.store",
    "callcenter_ari.runtime",
)


@pytest.mark.parametrize("module", sorted(Path(webhooks.__file__).parent.glob("*.py")), ids=lambda p: p.name)
def test_the_webhooks_package_does_no_io(module: Path) -> None:
    """The decisions import no I/O library, no clock and nothing of the store or the runtime."""
    imported: list[str] = []
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    assert [name for name in imported if name in _IO or name.startswith(tuple(f"{io}." for io in _IO))] == []
