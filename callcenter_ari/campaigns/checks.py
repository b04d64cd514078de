"""What is wrong with a campaign spec, every field at once, named as the API body and the TOML have it.

Checked against the tenant: its trunks (the caller id must be a number the trunk's region can read), its queues,
and the skills, media and recording rules the rest of the application uses.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Mapping

from callcenter_ari.acd.skills import RequirementSyntaxError
from callcenter_ari.acd.skills import parse as parse_skills
from callcenter_ari.campaigns.model import CampaignSpec
from callcenter_ari.campaigns.settings import valid_zone
from callcenter_ari.ivr.config import parse_range
from callcenter_ari.ivr.media import check_item
from callcenter_ari.recording.settings import validate_policy
from callcenter_ari.trunks import InvalidNumber, TrunkConfig, parse_number
from callcenter_ari.trunks.phone import check_region

Problem = tuple[str, str]  # (field path in the body, what is wrong)

_DATE = re.compile(r"(?:\d{4}-)?(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])")


# How many items each list of a spec may have.
LENGTHS = {"calling_hours": (1, 12), "calling_days": (1, 7), "holidays": (0, 400), "no_agent_message": (1, 10),
           "machine_message": (0, 10), "dispositions": (1, 50)}  # fmt: skip


def check_spec(spec: CampaignSpec, *, trunks: Mapping[str, TrunkConfig], queues: Collection[str]) -> list[Problem]:
    found: list[Problem] = []
    for field, (low, high) in LENGTHS.items():
        if not low <= len(getattr(spec, field)) <= high:
            found.append((field, f"from {low} to {high} items"))
    if found:
        return found
    if spec.queue not in queues:
        found.append(("queue", f"unknown queue {spec.queue[:64]!r}"))
    try:
        parse_skills(spec.skills)
    except RequirementSyntaxError as exc:
        found.append(("skills", str(exc)))
    found += _check_trunk(spec, trunks)
    if spec.time_zone and not valid_zone(spec.time_zone):
        found.append(("time_zone", f"unknown time zone {spec.time_zone[:64]!r} (an IANA name such as Asia/Shanghai)"))
    found += _check_hours(spec)
    found += [
        (f"no_agent_message[{n}]", why) for n, item in enumerate(spec.no_agent_message) if (why := check_item(item))
    ]
    found += [
        (f"machine_message[{n}]", why) for n, item in enumerate(spec.machine_message) if (why := check_item(item))
    ]
    if spec.on_machine == "message" and not spec.machine_message:
        found.append(("machine_message", "on_machine = message needs a message to leave"))
    if spec.recording is not None:
        found += [_split(problem) for problem in validate_policy("recording", spec.recording)]
    found += _check_dispositions(spec)
    return found


def _check_trunk(spec: CampaignSpec, trunks: Mapping[str, TrunkConfig]) -> list[Problem]:
    found: list[Problem] = []
    if spec.region:
        try:
            check_region(spec.region)
        except InvalidNumber as exc:
            found.append(("region", str(exc)))
    trunk = trunks.get(spec.trunk)
    if trunk is None:
        known = ", ".join(sorted(trunks)) or "none is configured"
        return [*found, ("trunk", f"unknown trunk {spec.trunk[:64]!r} (configured: {known})")]
    if spec.caller_id:
        try:
            parse_number(spec.caller_id, trunk.region)
        except InvalidNumber as exc:
            found.append(("caller_id", str(exc)))
    return found


def _check_hours(spec: CampaignSpec) -> list[Problem]:
    found: list[Problem] = []
    spans: list[tuple[int, int]] = []
    for n, text in enumerate(spec.calling_hours):
        span = parse_range(text)
        if span is None:
            found.append((f"calling_hours[{n}]", f"{text[:20]!r} is not a range like '08:00-11:00' (end after start)"))
        else:
            spans.append(span)
    spans.sort()
    if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans)):
        found.append(("calling_hours", "ranges overlap"))
    if len(set(spec.calling_days)) != len(spec.calling_days):
        found.append(("calling_days", "a day is named twice"))
    for n, text in enumerate(spec.holidays):
        if not _DATE.fullmatch(text):
            found.append((f"holidays[{n}]", f"{text[:20]!r} is not a date like '2026-10-01' or '10-01'"))
    return found


def _check_dispositions(spec: CampaignSpec) -> list[Problem]:
    found: list[Problem] = []
    seen: set[str] = set()
    for n, disposition in enumerate(spec.dispositions):
        if disposition.code in seen:
            found.append((f"dispositions[{n}].code", f"{disposition.code!r} is used twice"))
        seen.add(disposition.code)
    return found


def _split(problem: str) -> Problem:
    path, _, message = problem.partition(": ")
    return path, message
