"""The outbox's decisions, as pure functions: which subscriptions get an event, what is sent, when to try again.

The service performs them; tests check them with plain asserts.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec

from callcenter_ari.webhooks.model import AttemptOutcome, Delivery, Subscription, WebhookSettings

_encode = msgspec.json.Encoder().encode


def delivery_id(event_id: str, subscription_id: str, replay: str = "") -> str:
    """Deterministic for a first delivery, so a fan-out repeated after a crash finds the delivery already there.

    No '.' (the signature's separator) can appear: stream ids are ``<ms>-<seq>`` and ids are checked identifiers.
    """
    suffix = f"_r{replay}" if replay else ""
    return f"msg_{event_id}_{subscription_id}{suffix}"


def iso_timestamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def payload(kind: str, at: float, data_json: bytes) -> str:
    """The body: ``{"type", "timestamp", "data"}``; the event's data JSON is embedded as it was written."""
    body = {"type": kind, "timestamp": iso_timestamp(at), "data": msgspec.Raw(data_json)}
    return _encode(body).decode("utf-8")


def fan_out(
    event_id: str, kind: str, at: float, data_json: bytes, subscriptions: Iterable[Subscription], now: float
) -> list[Delivery]:
    """One delivery per enabled subscription whose filters take the event, due at once."""
    wanted = [sub for sub in subscriptions if sub.wants(kind)]
    if not wanted:
        return []
    body = payload(kind, at, data_json)
    return [
        Delivery(
            id=delivery_id(event_id, sub.id),
            subscription_id=sub.id,
            event_id=event_id,
            type=kind,
            body=body,
            created_at=now,
            next_attempt_at=now,
        )
        for sub in wanted
    ]


def backoff_delay(attempts: int, settings: WebhookSettings, rng: random.Random | None = None) -> float:
    """Delay after the ``attempts``-th failed attempt, with jitter so that receivers back up are not hit in step."""
    schedule = settings.backoff
    base = min(schedule[min(attempts, len(schedule)) - 1], settings.backoff_cap)
    spread = (rng or random).uniform(-settings.jitter, settings.jitter)
    return max(0.0, base * (1.0 + spread))


def after_attempt(
    delivery: Delivery,
    *,
    now: float,
    status_code: int | None,
    error: str,
    settings: WebhookSettings,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> tuple[Delivery, AttemptOutcome]:
    """The delivery once an attempt ended: delivered on 2xx, dead after the last attempt or a 410, else rescheduled."""
    attempts = delivery.attempts + 1
    common = {"attempts": attempts, "last_attempt_at": now, "last_status": status_code, "last_error": error[:300]}
    if status_code is not None and 200 <= status_code < 300:
        return msgspec.structs.replace(delivery, status="delivered", **common), "delivered"
    # 410 Gone: the receiver says it wants nothing more (the spec's advice is to stop sending).
    if attempts >= settings.max_attempts or status_code == 410:
        return msgspec.structs.replace(delivery, status="dead", **common), "dead"
    delay = backoff_delay(attempts, settings, rng)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.backoff_cap))
    return msgspec.structs.replace(delivery, status="pending", next_attempt_at=now + delay, **common), "retry"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header; the HTTP-date form is ignored (backoff covers it)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
