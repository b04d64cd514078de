"""The outbox's pure decisions: filters, URL checks, payloads, backoff and what an attempt's result leads to."""

from __future__ import annotations

import json
import random

import msgspec
import pytest

from callcenter_ari.webhooks.model import (
    Delivery,
    Subscription,
    SubscriptionError,
    WebhookSettings,
    check_filters,
    check_url,
    matches,
)
from callcenter_ari.webhooks.policy import after_attempt, backoff_delay, delivery_id, fan_out, payload

SECRET = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"


def sub(sub_id: str, events: tuple[str, ...] = (), enabled: bool = True) -> Subscription:
    return Subscription(id=sub_id, url="https://crm.example/hook", secret=SECRET, events=events, enabled=enabled)


class TestFilters:
    @pytest.mark.parametrize(
        ("filters", "kind", "wanted"),
        [
            ((), "call.answered", True),
            (("*",), "ticket.created", True),
            (("call.answered",), "call.answered", True),
            (("call.answered",), "call.ended", False),
            (("call.*",), "call.ended", True),
            (("call.*",), "callback.scheduled", False),  # a prefix stops at the dot
            (("call.*",), "call", False),
            (("ticket.*", "call.ended"), "call.ended", True),
            (("campaign.*",), "campaign.lead_result", True),
        ],
    )
    def test_matching(self, filters: tuple[str, ...], kind: str, wanted: bool) -> None:
        assert matches(filters, kind) is wanted

    def test_a_disabled_subscription_wants_nothing(self) -> None:
        assert not sub("sub_a", enabled=False).wants("call.answered")

    @pytest.mark.parametrize("bad", ["Call.Answered", "call.", "call..x", "call.*.x", "*.answered", "", "a b"])
    def test_malformed_filters_name_their_position(self, bad: str) -> None:
        with pytest.raises(SubscriptionError) as caught:
            check_filters(["call.ended", bad])
        assert caught.value.field == "events[1]"

    def test_duplicates_are_dropped(self) -> None:
        assert check_filters(["call.*", "call.*", "ticket.created"]) == ("call.*", "ticket.created")


class TestUrls:
    @pytest.mark.parametrize("good", ["https://crm.example/hooks/cc", "http://127.0.0.1:8080/x?tenant=a"])
    def test_accepted(self, good: str) -> None:
        assert check_url(good) == good

    @pytest.mark.parametrize(
        "bad",
        [
            "ftp://crm.example/x",
            "javascript:alert(1)",
            "https://",
            "https://user:pw@crm.example/x",
            "https://crm.example/x#frag",
            "https://crm.example:99999/x",
            "https://crm.example/a b",
            "crm.example/x",
            "https://crm.example/" + "x" * 3000,
        ],
    )
    def test_refused(self, bad: str) -> None:
        with pytest.raises(SubscriptionError) as caught:
            check_url(bad)
        assert caught.value.field == "url"


def test_a_subscription_repr_never_shows_its_secret() -> None:
    assert SECRET not in repr(sub("sub_a")) and SECRET[6:] not in str(sub("sub_a"))


def test_payload_is_type_timestamp_data_with_the_data_as_written() -> None:
    body = json.loads(payload("call.answered", 1767323045.5, b'{"call_id":"c1","wait":3.2}'))
    assert body == {
        "type": "call.answered",
        "timestamp": "2026-01-02T03:04:05.500Z",
        "data": {"call_id": "c1", "wait": 3.2},
    }


def test_fan_out_makes_one_delivery_per_wanting_subscription_with_stable_ids() -> None:
    subs = [sub("sub_a", ("call.*",)), sub("sub_b", ("ticket.*",)), sub("sub_c"), sub("sub_d", enabled=False)]
    deliveries = fan_out("1700000000000-3", "call.ended", 1.0, b"{}", subs, now=50.0)
    assert [d.subscription_id for d in deliveries] == ["sub_a", "sub_c"]
    assert [d.id for d in deliveries] == ["msg_1700000000000-3_sub_a", "msg_1700000000000-3_sub_c"]
    assert all(d.next_attempt_at == 50.0 and d.status == "pending" and "." not in d.id for d in deliveries)
    assert deliveries == fan_out("1700000000000-3", "call.ended", 1.0, b"{}", subs, now=50.0)


def test_replay_ids_differ_from_the_original() -> None:
    assert delivery_id("1-0", "sub_a", "ab12") != delivery_id("1-0", "sub_a")


class TestBackoff:
    settings = WebhookSettings(backoff=(5.0, 30.0, 120.0, 600.0), backoff_cap=300.0, jitter=0.0)

    def test_the_schedule_grows_then_is_capped_and_repeats(self) -> None:
        assert [backoff_delay(n, self.settings) for n in range(1, 7)] == [5.0, 30.0, 120.0, 300.0, 300.0, 300.0]

    def test_jitter_stays_within_its_fraction(self) -> None:
        settings = WebhookSettings(backoff=(100.0,), jitter=0.2)
        rng = random.Random(1)
        delays = [backoff_delay(1, settings, rng) for _ in range(500)]
        assert 80.0 <= min(delays) < 85.0 and 115.0 < max(delays) <= 120.0


class TestAfterAttempt:
    settings = WebhookSettings(backoff=(5.0, 30.0), jitter=0.0, max_attempts=3)
    delivery = Delivery(id="msg_1-0_sub_a", subscription_id="sub_a", event_id="1-0", type="t", body="{}", created_at=0)

    def test_2xx_is_delivered(self) -> None:
        done, outcome = after_attempt(self.delivery, now=10, status_code=204, error="", settings=self.settings)
        assert outcome == "delivered" and done.status == "delivered" and done.attempts == 1

    def test_a_failure_is_retried_after_the_backoff(self) -> None:
        again, outcome = after_attempt(self.delivery, now=10, status_code=500, error="HTTP 500", settings=self.settings)
        assert outcome == "retry" and again.next_attempt_at == 15 and again.last_error == "HTTP 500"
        again, _ = after_attempt(again, now=20, status_code=None, error="refused", settings=self.settings)
        assert again.next_attempt_at == 50 and again.attempts == 2 and again.last_status is None

    def test_the_last_attempt_dead_letters(self) -> None:
        tired = msgspec.structs.replace(self.delivery, attempts=2)
        dead, outcome = after_attempt(tired, now=10, status_code=503, error="HTTP 503", settings=self.settings)
        assert outcome == "dead" and dead.status == "dead" and dead.attempts == 3

    def test_410_gone_dead_letters_at_once(self) -> None:
        _, outcome = after_attempt(self.delivery, now=10, status_code=410, error="", settings=self.settings)
        assert outcome == "dead"

    def test_retry_after_lengthens_the_wait(self) -> None:
        again, _ = after_attempt(
            self.delivery, now=10, status_code=429, error="", settings=self.settings, retry_after=60
        )
        assert again.next_attempt_at == 70

    def test_the_same_delivery_id_is_kept_on_every_attempt(self) -> None:
        again, _ = after_attempt(self.delivery, now=10, status_code=500, error="", settings=self.settings)
        assert again.id == self.delivery.id and again.body == self.delivery.body


@pytest.mark.parametrize(
    "bad",
    [
        {"backoff": ()},
        {"max_attempts": 0},
        {"jitter": 1.5},
        {"lease_seconds": 10.0, "attempt_timeout": 30.0},
        {"read_count": 0},
        {"read_count": 8000},  # more ids than one acknowledgement script can pass on
    ],
)
def test_unusable_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WebhookSettings(**bad)  # type: ignore[arg-type]
