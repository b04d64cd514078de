"""Campaigns in Redis: one JSON string per campaign and a set of their ids.

Changes are optimistic (WATCH the campaign's key): a state change and a spec change made at the same time by two
supervisors, or a dialer finishing a campaign a supervisor pauses, never overwrite each other; the loser reads
again and the transition table decides. Under a hot standby's lease a change is fenced too (the node's token
watched with the campaign's key): a process that lost the node pauses or finishes no campaign.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from redis.asyncio import Redis
from redis.exceptions import WatchError

from callcenter_ari.campaigns.model import Campaign, CampaignError
from callcenter_ari.store.codec import text
from callcenter_ari.store.errors import translating
from callcenter_ari.store.fenced import FenceSource, guard, unfenced
from callcenter_ari.store.keys import Keys, checked

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Campaign).decode
_ATTEMPTS = 5


class CampaignNotFound(CampaignError):
    pass


class CampaignExists(CampaignError):
    pass


@translating
class CampaignStore:
    def __init__(self, redis: Redis, keys: Keys, *, fence: FenceSource = unfenced) -> None:
        self.redis = redis
        self.keys = keys
        self._fence = fence

    async def create(self, campaign: Campaign) -> None:
        """Store a new campaign; CampaignExists if the id is taken."""
        created = await self.redis.set(self.keys.campaign(campaign.id), _encode(campaign), nx=True)
        if not created:
            raise CampaignExists(f"campaign {campaign.id} exists already")
        await self.redis.sadd(self.keys.campaigns, campaign.id)

    async def restore(self, campaign: Campaign) -> bool:
        """Write a campaign back where Redis holds none of that id (it lost its data); False when it holds one
        (written back first by another process, or changed since: that one stands)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.campaign(checked(campaign.id, "campaign id")), _encode(campaign), nx=True)
            pipe.sadd(self.keys.campaigns, campaign.id)
            created, _ = await pipe.execute()
        return bool(created)

    async def get(self, campaign_id: str) -> Campaign | None:
        blob = await self.redis.get(self.keys.campaign(campaign_id))
        return _decode(blob) if blob is not None else None

    async def require(self, campaign_id: str) -> Campaign:
        campaign = await self.get(campaign_id)
        if campaign is None:
            raise CampaignNotFound(f"no campaign {campaign_id[:64]!r}")
        return campaign

    async def all(self) -> list[Campaign]:
        ids = sorted(text(i) for i in await self.redis.smembers(self.keys.campaigns))
        if not ids:
            return []
        blobs = await self.redis.mget([self.keys.campaign(i) for i in ids])
        return sorted((_decode(b) for b in blobs if b is not None), key=lambda c: (c.created_at, c.id))

    async def change(self, campaign_id: str, change: Callable[[Campaign], Campaign]) -> Campaign:
        """Apply ``change`` to the campaign as stored, retrying when someone else changed it meanwhile; whatever
        ``change`` raises (an illegal transition) leaves the campaign as it was."""
        key = self.keys.campaign(checked(campaign_id, "campaign id"))
        for _ in range(_ATTEMPTS):
            async with self.redis.pipeline(transaction=True) as pipe:
                await guard(pipe, self._fence())  # a token that moves meanwhile fails the EXEC: read again
                await pipe.watch(key)
                blob = await pipe.get(key)
                if blob is None:
                    raise CampaignNotFound(f"no campaign {campaign_id[:64]!r}")
                changed = change(_decode(blob))
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.set(key, _encode(changed))
                try:
                    await pipe.execute()
                except WatchError:
                    continue
                return changed
        raise CampaignError(f"campaign {campaign_id} keeps changing; try again")

    async def delete(self, campaign_id: str, parts: list[str]) -> None:
        """Remove a campaign and the given keys of its leads (UNLINK: Redis frees a big hash in the background)."""
        await self.redis.unlink(self.keys.campaign(campaign_id), *parts)
        await self.redis.srem(self.keys.campaigns, campaign_id)
