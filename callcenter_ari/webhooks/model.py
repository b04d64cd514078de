"""What the outbox keeps: subscriptions, deliveries and their attempts, and the settings; plus their validation.

All frozen msgspec Structs. New persisted fields get defaults so that records written by an older version decode.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from callcenter_ari.webhooks.egress import EgressPolicy
from callcenter_ari.webhooks.signing import secret_key

DeliveryStatus = Literal["pending", "delivered", "dead"]
AttemptOutcome = Literal["delivered", "retry", "dead"]

# Event kinds are dotted lower-case words (``call.answered``); a filter is a kind, a prefix ``call.*`` or ``*``.
_KIND = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
FILTER_PATTERN = r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$(?!\n)"  # the same rule, for the API's document
_MAX_URL = 2048


class WebhookNotFound(LookupError):
    """No such subscription, delivery, dead letter or event."""


class SubscriptionError(ValueError):
    """A subscription field that cannot be accepted; ``field`` names it for the API's error body."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Subscription(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    url: str
    secret: str
    events: tuple[str, ...] = ()  # empty: every event
    enabled: bool = True
    description: str = ""
    created_at: float = 0.0
    disabled_reason: str = ""  # set when we disable it ourselves (a 410 Gone from the receiver)

    def __repr__(self) -> str:
        # The secret must never reach a log line or a traceback.
        return f"Subscription(id={self.id!r}, url={self.url!r}, events={self.events!r}, enabled={self.enabled})"

    def wants(self, kind: str) -> bool:
        return self.enabled and matches(self.events, kind)


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """One event on its way to one subscription. ``id`` is the ``webhook-id`` of every attempt."""

    id: str
    subscription_id: str
    event_id: str  # the event's stream id
    type: str
    body: str  # signed and sent as is on every attempt, so retries are byte-identical
    created_at: float
    status: DeliveryStatus = "pending"
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_attempt_at: float | None = None
    last_status: int | None = None
    last_error: str = ""
    replay_of: str = ""  # the delivery or event this one re-sends, if any


class DeliveryAttempt(msgspec.Struct, frozen=True, kw_only=True):
    """A line of a subscription's delivery log."""

    delivery_id: str
    event_id: str
    type: str
    attempt: int
    at: float
    outcome: AttemptOutcome
    status_code: int | None = None
    error: str = ""
    duration_ms: float = 0.0
    next_attempt_at: float | None = None


class StreamEntry(msgspec.Struct, frozen=True):
    """An entry of the tenant's event stream as the outbox reads it; ``kind`` is empty for one trimmed away."""

    id: str
    kind: str
    at: float
    data: bytes  # the event's JSON, as written


class OutboxStatus(msgspec.Struct, frozen=True):
    unread: int  # stream entries the consumer group has not read yet
    unacknowledged: int  # read but not yet turned into deliveries
    scheduled: int  # deliveries waiting for an attempt (or in flight)
    dead: int


class WebhookSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # Delay before attempt n+1 is backoff[n-1] (the last value repeats), capped, then spread by +/- jitter.
    backoff: tuple[float, ...] = (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0)
    backoff_cap: float = 6 * 3600.0
    jitter: float = 0.2
    max_attempts: int = 10
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    attempt_timeout: float = 30.0  # the whole attempt, whatever a receiver trickles
    concurrency: int = 32  # attempts in flight, all subscriptions together
    per_subscription: int = 4  # so one slow receiver holds at most this many of them
    lease_seconds: float = 60.0  # a claimed delivery is retried after this if its worker vanished
    poll_interval: float = 1.0  # look for due deliveries at least this often (other processes schedule too)
    read_block: float = 1.0  # XREADGROUP block time
    read_count: int = 200
    claim_idle: float = 60.0  # take over stream entries another consumer read but never acknowledged
    log_size: int = 500
    delivered_ttl: float = 7 * 86400.0
    consumer: str = "outbox-1"
    start_at: Literal["$", "0"] = "$"  # where a new consumer group starts: new events only, or the whole stream
    # Destinations reachable although internal (loopback, private, ...): networks and host names (egress.py).
    egress_allow: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.backoff or any(delay < 0 for delay in self.backoff):
            raise ValueError("backoff: a non-empty list of non-negative delays")
        if self.max_attempts < 1 or self.concurrency < 1 or self.per_subscription < 1:
            raise ValueError("max_attempts, concurrency and per_subscription are at least 1")
        if not 1 <= self.read_count <= 5000:
            # One acknowledgement script takes a read's ids as arguments; Lua passes on about 8,000 at most.
            raise ValueError("read_count: from 1 to 5000 events per read")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter: a fraction in [0, 1)")
        if self.lease_seconds <= self.attempt_timeout:
            raise ValueError("lease_seconds must exceed attempt_timeout, or a slow attempt is sent twice at once")
        EgressPolicy.from_allow(self.egress_allow)  # raises ValueError naming a bad entry

    def egress(self) -> EgressPolicy:
        return EgressPolicy.from_allow(self.egress_allow)


def matches(filters: tuple[str, ...], kind: str) -> bool:
    """Empty filters take everything; ``call.*`` takes ``call.answered`` and ``call.x.y`` but not ``callback.x``."""
    if not filters:
        return True
    for pattern in filters:
        if pattern == "*" or pattern == kind:
            return True
        if pattern.endswith(".*") and kind.startswith(pattern[:-1]):
            return True
    return False


def check_filters(events: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for index, pattern in enumerate(events):
        base = pattern[:-2] if pattern.endswith(".*") else pattern
        if pattern != "*" and not _KIND.fullmatch(base):
            raise SubscriptionError(f"events[{index}]", f"{pattern[:60]!r} is not an event kind or 'kind.*' prefix")
        if pattern not in out:
            out.append(pattern)
    return tuple(out)


def check_url(url: str) -> str:
    if len(url) > _MAX_URL or any(c.isspace() for c in url):
        raise SubscriptionError("url", "too long or contains whitespace")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SubscriptionError("url", "not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise SubscriptionError("url", "must be http or https")
    if not parts.hostname:
        raise SubscriptionError("url", "has no host")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs; receivers authenticate us by the signature instead.
        raise SubscriptionError("url", "must not carry credentials")
    if parts.fragment:
        raise SubscriptionError("url", "must not have a fragment")
    if port == 0:
        raise SubscriptionError("url", "port 0")
    return url


def check_secret(secret: str) -> str:
    try:
        secret_key(secret)
    except ValueError as exc:
        raise SubscriptionError("secret", str(exc)) from None
    return secret


def check_description(description: str) -> str:
    if len(description) > 500:
        raise SubscriptionError("description", "at most 500 characters")
    return description
