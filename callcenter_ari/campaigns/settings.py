"""The ``[campaigns]`` section of a tenant's configuration: defaults for new campaigns and the limits of an import."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from callcenter_ari.dialer.blend import BlendPolicy
from callcenter_ari.trunks.phone import InvalidNumber, check_region


class CampaignSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    # Where national numbers are read when neither the upload nor the campaign names a region; empty: the
    # campaign's trunk's region (the do-not-call list then needs E.164 numbers or a region per request).
    default_region: str = ""
    default_time_zone: str = "UTC"  # a campaign's zone when its spec names none
    max_upload_mb: int = 512  # a larger file is refused before anything is read
    max_import_rows: int = 2_000_000  # rows of one file
    keep_rejects: int = 100_000  # rejected rows kept per import for download; the rest are only counted
    # The dialer: running campaigns are dialed by every process of the tenant (false: this one dials none).
    dial: bool = True
    # A claimed lead is the dialer's this long, renewed while its call lasts; a dialer that died gives its leads
    # back this long after (as failed attempts, retried by the campaign's rules).
    lease_seconds: float = 120.0
    blend: BlendPolicy = BlendPolicy()  # where a free agent of both inbound and campaign queues goes

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


def valid_zone(name: str) -> bool:
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def validate(section: CampaignSettings, prefix: str = "campaigns") -> list[str]:
    found: list[str] = []
    if section.default_region:
        try:
            check_region(section.default_region)
        except InvalidNumber as exc:
            found.append(f"{prefix}.default_region: {exc}")
    if not valid_zone(section.default_time_zone):
        found.append(f"{prefix}.default_time_zone: unknown time zone {section.default_time_zone!r}")
    for field, low, high in (
        ("max_upload_mb", 1, 1 << 20),
        ("max_import_rows", 1, 100_000_000),
        ("keep_rejects", 0, 10_000_000),
        ("lease_seconds", 5, 86_400),
    ):
        if not low <= getattr(section, field) <= high:
            found.append(f"{prefix}.{field}: from {low} to {high}")
    return found
