"""The stores that write to Redis on their own (not through the call store's batches), fenced on the real Redis: a
write under a token that is no longer the node's is refused with ``Fenced`` and changes nothing, and the same
write under the node's current token goes through (the fenced scripts and transactions do work). One class per
store family: tickets, webhooks, seats, presence, callbacks, campaigns (leads, ledger), trunk lines."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from callcenter_ari.acd.records import AgentRecord
from callcenter_ari.callback.entry import Rules, claim, request
from callcenter_ari.campaigns.model import Campaign, Lead
from callcenter_ari.dialer.messages import Recorded
from callcenter_ari.fencing import Fence, Fenced
from callcenter_ari.store.agents import AgentStore
from callcenter_ari.store.callbacks import CallbackStore
from callcenter_ari.store.campaigns import CampaignStore
from callcenter_ari.store.dialer_ledger import DialerLedger
from callcenter_ari.store.instances import Instances
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.leads import LeadStore
from callcenter_ari.store.redis import Store
from callcenter_ari.store.tickets import TicketDesk
from callcenter_ari.store.trunk_lines import TrunkLines
from callcenter_ari.store.webhooks import Take, WebhookStore
from callcenter_ari.tickets import Contact, Roster
from callcenter_ari.webhooks.model import Delivery, DeliveryAttempt, Subscription
from tests.campaigns.conftest import SPEC
from tests.tickets.helpers import ENDED, facts, form

NODE = "n1"
NOW = 1_800_000_000.0
TOKEN = 7  # the node's token in Redis: another process took the node after this one's (6)

Write = Callable[[Fence], Awaitable[Any]]


class Fences:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self.key = keys.node_fence(NODE)
        self.stale = Fence(self.key, TOKEN - 1, holds=lambda: True)  # as far as it can tell it still holds the node
        self.current = Fence(self.key, TOKEN, holds=lambda: True)

    async def snapshot(self) -> dict[bytes, bytes | None]:
        """Every key of the test's prefix with its value (DUMP), but the fence's own."""
        found: dict[bytes, bytes | None] = {}
        async for key in self.redis.scan_iter(match=f"{self.keys.base.split(':')[0]}:*", count=1000):
            if key.decode() != self.key:
                found[key] = await self.redis.dump(key)
        return found

    async def refused(self, write: Write) -> None:
        """``write`` under the stale token raises Fenced and leaves Redis exactly as it was."""
        before = await self.snapshot()
        with pytest.raises(Fenced):
            await write(self.stale)
        assert await self.snapshot() == before

    async def refused_then_written(self, write: Write) -> Any:
        """Refused under the stale token, written under the current one: returns what the write returned."""
        await self.refused(write)
        before = await self.snapshot()
        result = await write(self.current)
        assert await self.snapshot() != before
        return result


@pytest.fixture
async def fences(redis: Redis, keys: Keys) -> Fences:
    await redis.set(keys.node_fence(NODE), TOKEN)
    return Fences(redis, keys)


def store(redis: Redis, keys: Keys, fence: Fence | None = None) -> Store:
    calls = Store(redis, keys, now=lambda: NOW, node=NODE)
    calls.fence = fence
    return calls


class TestTickets:
    def desk(self, redis: Redis, keys: Keys, fence: Fence | None) -> TicketDesk:
        roster = Roster(fallback=Contact(id="fallback", name="Desk", phone="+15550100", email="desk@example.org"))
        return TicketDesk(
            redis, keys, now=lambda: ENDED + 60, emit=lambda _k, _f: None, roster=roster, fence=lambda: fence
        )

    async def test_no_ticket_opened_completed_or_reported_under_a_stale_token(
        self, fences: Fences, redis: Redis, keys: Keys
    ) -> None:
        await self.desk(redis, keys, None).store.open_numbering(first=True)
        opened = await self.desk(redis, keys, None).open(facts("c1"))

        await fences.refused_then_written(lambda fence: self.desk(redis, keys, fence).open(facts("c2")))
        await fences.refused_then_written(lambda fence: self.desk(redis, keys, fence).complete(opened.number, form()))
        # The overdue notice's claim, and the numbering's guard that presence closes and opens after a failover.
        await redis.zadd(keys.tickets_due, {"T-2026-000099": 1.0})
        await fences.refused_then_written(lambda fence: self.desk(redis, keys, fence).store.take_due("T-2026-000099"))
        await fences.refused_then_written(lambda fence: self.desk(redis, keys, fence).store.close_numbering())
        await fences.refused_then_written(lambda fence: self.desk(redis, keys, fence).store.open_numbering())


class TestWebhooks:
    def delivery(self, ident: str, **fields: Any) -> Delivery:
        return Delivery(
            id=ident, subscription_id="sub_1", event_id="1-0", type="call.ended", body="{}", created_at=1.0, **fields
        )

    async def test_no_delivery_claimed_created_or_recorded_under_a_stale_token(
        self, fences: Fences, redis: Redis, keys: Keys
    ) -> None:
        def webhooks(fence: Fence | None) -> WebhookStore:
            return WebhookStore(redis, keys, fence=lambda: fence)

        await webhooks(None).create([self.delivery("d1"), self.delivery("d2")])

        held = await fences.refused_then_written(lambda fence: webhooks(fence).claim([("sub_1", "d1")], 10.0, 70.0))
        assert [d.id for d in held] == ["d1"]
        await fences.refused_then_written(lambda fence: webhooks(fence).create([self.delivery("d3")]))
        delivered = msgspec.structs.replace(held[0], status="delivered", attempts=1)
        line = DeliveryAttempt(delivery_id="d1", event_id="1-0", type="call.ended", attempt=1, at=11.0, outcome="ok")
        await fences.refused_then_written(lambda fence: webhooks(fence).record(delivered, line, log_size=10, ttl=60.0))
        # The claim that looks at the schedules, alone and with results to record in its transaction.
        take = Take(
            version="", limits={"sub_1": 4}, candidates={"sub_1": ["d2"]}, free=4, now=10.0, lease_until=70.0, listing=4
        )
        taken = await fences.refused_then_written(lambda fence: webhooks(fence).take(take))
        assert taken is not None and [d.id for d in taken.held] == ["d2"]
        await webhooks(None).create([self.delivery("d4")])
        again = msgspec.structs.replace(delivered, attempts=2)
        taken = await fences.refused_then_written(
            lambda fence: webhooks(fence).record_and_take(
                [(again, line)], msgspec.structs.replace(take, candidates={"sub_1": ["d4"]}), log_size=10, ttl=60.0
            )
        )
        assert taken is not None and [d.id for d in taken.held] == ["d4"]
        sub = Subscription(id="sub_1", url="https://crm.example/hook", secret="s" * 32, events=["call.ended"])
        await fences.refused_then_written(lambda fence: webhooks(fence).save_subscription(sub))
        await fences.refused_then_written(
            lambda fence: webhooks(fence).requeue(self.delivery("d2", next_attempt_at=99.0))
        )
        await fences.refused_then_written(lambda fence: webhooks(fence).delete_subscription("sub_1"))


class TestSeatsAndPresence:
    async def test_no_seat_renewed_and_no_presence_under_a_stale_token(
        self, fences: Fences, redis: Redis, keys: Keys
    ) -> None:
        def agents(fence: Fence | None) -> AgentStore:
            return AgentStore(store(redis, keys, fence), origin="p1", seat_limit=5)

        await agents(None).write([AgentRecord(agent_id="a1", state="available")])
        refused = await fences.refused_then_written(lambda fence: agents(fence).renew_seats(["a1"]))
        assert refused == []
        await fences.refused_then_written(lambda fence: Instances(store(redis, keys, fence)).renew("n1.p1", ttl=5.0))


class TestCallbacks:
    async def test_no_callback_created_or_claimed_under_a_stale_token(
        self, fences: Fences, redis: Redis, keys: Keys
    ) -> None:
        def callbacks(fence: Fence | None) -> CallbackStore:
            return CallbackStore(store(redis, keys, fence))

        def entry(callback_id: str, number: str) -> Any:
            return request(
                callback_id=callback_id, queue="support", number=number, origin="virtual_hold", rules=Rules(), now=NOW
            ).entry

        stored = await callbacks(None).create(entry("k1", "+12025550143"))
        await fences.refused_then_written(lambda fence: callbacks(fence).create(entry("k2", "+12025550144")))
        due = msgspec.structs.replace(stored.entry, state="due")
        stored = await callbacks(None).update(stored, due)
        dialing = claim(due, Rules(), NOW).entry
        claimed = await fences.refused_then_written(lambda fence: callbacks(fence).update(stored, dialing, owner="p"))
        assert claimed.owner == "p"


class TestCampaigns:
    async def test_no_lead_claimed_or_settled_and_no_ledger_entry_under_a_stale_token(
        self, fences: Fences, redis: Redis, keys: Keys
    ) -> None:
        def leads(fence: Fence | None) -> LeadStore:
            return LeadStore(redis, keys, fence=lambda: fence)

        campaign = Campaign(**msgspec.structs.asdict(SPEC), id="c1", state="running", created_at=0.0, updated_at=0.0)
        await CampaignStore(redis, keys).create(campaign)
        new = Lead(id="l1", number="+8613800138000")
        await fences.refused_then_written(lambda fence: leads(fence).add("c1", [new], NOW))
        dialing = msgspec.structs.replace(new, state="dialing", holder="p", lease_until=NOW + 60)
        day = keys.campaign_calls("c1", "2027-01-15")
        claimed = await fences.refused_then_written(
            lambda fence: leads(fence).claim("c1", [(new, dialing)], day_key=day, quota=None, abandoned_since=0.0)
        )
        assert claimed == ["ok"]
        done = msgspec.structs.replace(dialing, state="done", holder="", lease_until=0.0)
        assert await fences.refused_then_written(lambda fence: leads(fence).swap("c1", dialing, done, {"attempts": 1}))
        await fences.refused_then_written(lambda fence: leads(fence).give_back_call(day))
        entry = Recorded(NOW, "l1", "connected")
        await fences.refused_then_written(
            lambda fence: DialerLedger(redis, keys, fence=lambda: fence).append("c1", entry)
        )
        pause = lambda c: msgspec.structs.replace(c, state="paused")  # noqa: E731
        await fences.refused_then_written(
            lambda fence: CampaignStore(redis, keys, fence=lambda: fence).change("c1", pause)
        )


class TestTrunkLines:
    async def test_no_line_taken_under_a_stale_token(self, fences: Fences, redis: Redis, keys: Keys) -> None:
        taken = await fences.refused_then_written(
            lambda fence: TrunkLines(store(redis, keys, fence), {"t1": 2}).acquire("ch1", ["t1"])
        )
        assert taken == "t1"
