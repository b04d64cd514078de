"""Signed webhooks to the customers' systems: a durable outbox fed by the event stream.

``signing`` is the Standard Webhooks scheme, ``model`` and ``policy`` the pure data and decisions, ``service`` the
consumer and dispatcher the runtime starts; the Redis side lives in ``callcenter_ari.store.webhooks``.
"""

from callcenter_ari.webhooks.model import (
    Delivery,
    DeliveryAttempt,
    Subscription,
    SubscriptionError,
    WebhookSettings,
)
from callcenter_ari.webhooks.service import OutboxStatus, WebhookNotFound, WebhookService
from callcenter_ari.webhooks.signing import SignatureError, generate_secret, sign, signature_headers, verify

__all__ = [
    "Delivery",
    "DeliveryAttempt",
    "OutboxStatus",
    "SignatureError",
    "Subscription",
    "SubscriptionError",
    "WebhookNotFound",
    "WebhookService",
    "WebhookSettings",
    "generate_secret",
    "sign",
    "signature_headers",
    "verify",
]
