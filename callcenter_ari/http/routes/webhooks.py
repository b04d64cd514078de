"""Webhook subscriptions, their delivery log, dead letters, replays and the outbox backlog.

A subscription's secret appears in two answers only: when it is created and when it is rotated.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.http.errors import NotFound, documented
from callcenter_ari.http.params import Caller, Deps, Id
from callcenter_ari.webhooks import Delivery, DeliveryAttempt, OutboxStatus, Subscription
from callcenter_ari.webhooks.model import FILTER_PATTERN

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2048, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://")]
Filter = Annotated[str, msgspec.Meta(max_length=100, pattern=FILTER_PATTERN, description="call.answered, call.*, *")]
Filters = Annotated[list[Filter], msgspec.Meta(max_length=100)]
Description = Annotated[str, msgspec.Meta(max_length=500)]
StreamId = Annotated[str, msgspec.Meta(pattern=r"^\d{1,19}-\d{1,19}$(?!\n)", description="an event's stream id")]
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class SubscriptionView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    url: str
    events: list[str]  # empty: every event
    enabled: bool
    description: str
    created_at: float
    disabled_reason: str


class SubscriptionWithSecret(SubscriptionView, frozen=True, kw_only=True):
    secret: str  # whsec_...: keep it; it is not shown again


class SubscriptionList(msgspec.Struct, frozen=True):
    subscriptions: list[SubscriptionView]


class NewSubscription(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    url: Url
    events: Filters = []
    secret: str | None = None  # whsec_ + base64 of 24-64 bytes; generated when absent
    enabled: bool = True
    description: Description = ""


class SubscriptionChanges(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    url: Url | None = None
    events: Filters | None = None
    enabled: bool | None = None
    description: Description | None = None


class AttemptList(msgspec.Struct, frozen=True):
    attempts: list[DeliveryAttempt]


class DeliveryList(msgspec.Struct, frozen=True):
    deliveries: list[Delivery]


class EventReplay(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    event_id: StreamId
    subscription_id: Ident | None = None  # None: every subscription that takes the event


def public(sub: Subscription) -> SubscriptionView:
    return SubscriptionView(
        id=sub.id,
        url=sub.url,
        events=list(sub.events),
        enabled=sub.enabled,
        description=sub.description,
        created_at=sub.created_at,
        disabled_reason=sub.disabled_reason,
    )


def with_secret(sub: Subscription) -> SubscriptionWithSecret:
    return SubscriptionWithSecret(**msgspec.structs.asdict(public(sub)), secret=sub.secret)


def _home(principal: Principal) -> None:
    """Another tenant's token reaches nothing here, not even to create."""
    if not principal.home:
        raise NotFound("no webhooks for this token's tenant here")


async def _existing(deps: ApiDeps, principal: Principal, subscription_id: str) -> Subscription:
    _home(principal)
    sub = await deps.webhooks.subscription(subscription_id)
    if sub is None:
        raise NotFound(f"no subscription {subscription_id[:64]!r}")
    return sub


Limit = Annotated[int, QueryParameter(ge=1, le=500)]


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]
    guards = [requires("webhooks.manage")]

    @get("/subscriptions", responses=documented())
    async def list_subscriptions(self, deps: Deps, principal: Caller) -> SubscriptionList:
        if not principal.home:
            return SubscriptionList([])
        return SubscriptionList([public(s) for s in await deps.webhooks.subscriptions()])

    @post("/subscriptions", status_code=HTTP_201_CREATED, responses=documented())
    async def create_subscription(
        self, deps: Deps, principal: Caller, data: JSONBody[NewSubscription]
    ) -> SubscriptionWithSecret:
        """Create a subscription; the answer is the only one that shows a generated secret."""
        _home(principal)
        sub = await deps.webhooks.create_subscription(
            data.url, events=data.events, secret=data.secret, enabled=data.enabled, description=data.description
        )
        return with_secret(sub)

    @get("/subscriptions/{subscription_id:str}", responses=documented())
    async def get_subscription(self, deps: Deps, principal: Caller, subscription_id: Id) -> SubscriptionView:
        return public(await _existing(deps, principal, subscription_id))

    @patch("/subscriptions/{subscription_id:str}", responses=documented())
    async def update_subscription(
        self, deps: Deps, principal: Caller, subscription_id: Id, data: JSONBody[SubscriptionChanges]
    ) -> SubscriptionView:
        """Change the given fields; enabling again clears a disabled reason."""
        await _existing(deps, principal, subscription_id)
        sub = await deps.webhooks.update_subscription(
            subscription_id, url=data.url, events=data.events, enabled=data.enabled, description=data.description
        )
        return public(sub)

    @post("/subscriptions/{subscription_id:str}/rotate-secret", status_code=HTTP_200_OK, responses=documented())
    async def rotate_secret(self, deps: Deps, principal: Caller, subscription_id: Id) -> SubscriptionWithSecret:
        """A new generated secret, effective for the next attempt; shown in this answer only."""
        await _existing(deps, principal, subscription_id)
        return with_secret(await deps.webhooks.update_subscription(subscription_id, secret=""))

    @delete("/subscriptions/{subscription_id:str}", status_code=HTTP_204_NO_CONTENT, responses=documented())
    async def delete_subscription(self, deps: Deps, principal: Caller, subscription_id: Id) -> None:
        """Delete it with its pending deliveries and its log."""
        await _existing(deps, principal, subscription_id)
        await deps.webhooks.delete_subscription(subscription_id)

    @get("/subscriptions/{subscription_id:str}/log", responses=documented())
    async def delivery_log(self, deps: Deps, principal: Caller, subscription_id: Id, limit: Limit = 50) -> AttemptList:
        """The subscription's latest delivery attempts, newest first."""
        await _existing(deps, principal, subscription_id)
        return AttemptList(await deps.webhooks.delivery_log(subscription_id, limit))

    @get("/dead-letters", responses=documented())
    async def dead_letters(self, deps: Deps, principal: Caller, limit: Limit = 100) -> DeliveryList:
        """Deliveries that used up their attempts, most recent first."""
        if not principal.home:
            return DeliveryList([])
        return DeliveryList(await deps.webhooks.dead_letters(limit))

    @post("/dead-letters/{delivery_id:str}/replay", status_code=HTTP_202_ACCEPTED, responses=documented())
    async def replay_dead(self, deps: Deps, principal: Caller, delivery_id: Id) -> Delivery:
        """Send a dead-lettered delivery again with a fresh set of attempts and the same webhook-id."""
        _home(principal)
        return await deps.webhooks.replay_dead(delivery_id)

    @post("/replay", status_code=HTTP_202_ACCEPTED, responses=documented())
    async def replay_event(self, deps: Deps, principal: Caller, data: JSONBody[EventReplay]) -> DeliveryList:
        """Send a past event of the stream again (new deliveries with new ids), to one subscription or to all."""
        _home(principal)
        return DeliveryList(await deps.webhooks.replay_event(data.event_id, data.subscription_id))

    @get("/outbox", responses=documented())
    async def outbox(self, deps: Deps, principal: Caller) -> OutboxStatus:
        """The backlog: stream entries unread, read but not fanned out, deliveries scheduled, dead letters."""
        _home(principal)
        return await deps.webhooks.status()
