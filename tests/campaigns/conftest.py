"""Campaign fixtures: a desk on the real Redis (random key prefix per test) with one SIP trunk and two queues, on a
clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from callcenter_ari.campaigns.model import CampaignSpec
from callcenter_ari.campaigns.reader import ReadOptions
from callcenter_ari.campaigns.settings import CampaignSettings
from callcenter_ari.store.campaign_desk import CampaignDesk
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.lead_imports import ImportRecord
from callcenter_ari.trunks import PjsipTrunk

SHANGHAI = ZoneInfo("Asia/Shanghai")
TRUNKS = {"provider1": PjsipTrunk(region="CN", endpoint="provider1", capacity=30, caller_id="+862161234567")}
SPEC = CampaignSpec(
    name="Loan reminders",
    queue="support",
    trunk="provider1",
    time_zone="Asia/Shanghai",
    calling_hours=["08:00-11:00", "13:00-15:00"],
    calling_days=["mon", "tue", "wed", "thu", "fri"],
)


def at(text: str, zone: ZoneInfo = SHANGHAI) -> float:
    """An instant given as local wall-clock time, e.g. at('2026-12-07 09:30') (a Monday)."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


class ManualClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at("2026-12-07 09:30"))


@pytest.fixture
def desk(redis: Redis, keys: Keys, clock: ManualClock) -> CampaignDesk:
    return CampaignDesk(
        redis,
        keys,
        trunks=TRUNKS,
        queues={"support": "Support", "billing": "Billing"},
        settings=CampaignSettings(keep_rejects=1000),
        now=clock,
    )


async def chunks(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def load(
    desk: CampaignDesk,
    campaign_id: str,
    text: str | bytes,
    *,
    write_as: str = "utf-8",
    dry_run: bool = False,
    **opts: str,
) -> ImportRecord:
    data = text if isinstance(text, bytes) else text.encode(write_as)
    return await desk.import_leads(campaign_id, chunks(data), ReadOptions(**opts), dry_run=dry_run, by="test")


def csv_of(rows: Iterable[str], header: str = "姓名,手机,备注") -> str:
    return "\n".join([header, *rows]) + "\n"
