"""Signed webhooks to the customers' systems: what a durable outbox fed by the event stream decides and sends.

Pure, no I/O: ``signing`` is the Standard Webhooks scheme, ``model`` the records, settings and validation,
``policy`` and ``outbox`` the decisions (which subscriptions get an event, what is claimed and sent next, backoff,
dead letters). The loop that performs them is ``callcenter_ari.runtime.webhooks``; the Redis side is
``callcenter_ari.store.webhooks``.
"""

from callcenter_ari.webhooks.model import (
    Delivery,
    DeliveryAttempt,
    OutboxStatus,
    StreamEntry,
    Subscription,
    SubscriptionError,
    WebhookNotFound,
    WebhookSettings,
)
from callcenter_ari.webhooks.signing import SignatureError, generate_secret, sign, signature_headers, verify

__all__ = [
    "Delivery",
    "DeliveryAttempt",
    "OutboxStatus",
    "SignatureError",
    "StreamEntry",
    "Subscription",
    "SubscriptionError",
    "WebhookNotFound",
    "WebhookSettings",
    "generate_secret",
    "sign",
    "signature_headers",
    "verify",
]
