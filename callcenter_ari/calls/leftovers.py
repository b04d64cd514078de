"""What a restart finds in Asterisk that no call owns any more: recovery's last comparison.

Every channel and bridge a call makes has an id that starts with the call's id (``<call>-a<n>`` agent legs,
``-t<n>`` transfers, ``-c<n>`` consultations and ``-c<n>-b`` their bridges, ``-b`` the call's bridge,
``-m<n>-sup``, ``-m<n>-snoop`` and ``-m<n>-b`` a supervisor's monitoring session). After a restart each call's
machine settles the legs its record names (``Resume``, ``EndedWhileAway``); what is left is what no record names:
a supervisor's session that recovery does not adopt (calls/monitoring.py), an earlier offer's leg, a bridge whose
call ended while the process was down. ``leftovers`` says which to hang up and destroy; ids of other tenants' and other
processes' objects never match, because only calls whose records this tenant holds are considered.

The other way round, a caller in this application's Stasis with no record at all (the process died between taking
the call and its first write) is a call to serve: ``unrecorded_callers`` finds them, from the application each
channel's dialplan location names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from callcenter_ari.calls.records import CallRecord


class Leftovers(msgspec.Struct, frozen=True):
    channels: tuple[str, ...] = ()  # to hang up
    bridges: tuple[str, ...] = ()  # to destroy

    def __bool__(self) -> bool:
        return bool(self.channels or self.bridges)


def owner(object_id: str) -> str:
    """The call id an object's id starts with ("" for one that names no call: a persistent agent's line)."""
    head, dash, _ = object_id.partition("-")
    return head if dash else ""


def named(record: CallRecord) -> tuple[set[str], set[str]]:
    """The channels and bridges the call's record names, which its machine settles itself."""
    channels = {record.channel_id, *record.dialled_legs()}
    bridges = {record.bridge_id} if record.bridge_id else set()
    if record.consult_channel:
        bridges.add(f"{record.consult_channel}-b")
    return channels, bridges


def leftovers(
    records: Iterable[CallRecord],
    channels: Iterable[str],
    bridges: Mapping[str, Iterable[str]],
    kept: tuple[Iterable[str], Iterable[str]] = ((), ()),
) -> Leftovers:
    """``records``: the calls of this tenant and node whose objects may be in Asterisk (live, or ended while the
    process was down), as recovery loaded them; ``channels`` and ``bridges`` (id -> members) as Asterisk lists
    them. A call's objects that its record does not name are left over, but for ``kept`` (channels, bridges: the
    supervisors' sessions recovery adopts)."""
    by_call = {record.call_id: record for record in records}
    names = {call_id: named(record) for call_id, record in by_call.items()}
    kept_channels, kept_bridges = set(kept[0]), set(kept[1])
    hang_up = sorted(
        c for c in channels if owner(c) in names and c not in names[owner(c)][0] and c not in kept_channels
    )
    destroy = sorted(b for b in bridges if owner(b) in names and b not in names[owner(b)][1] and b not in kept_bridges)
    return Leftovers(tuple(hang_up), tuple(destroy))


def ended_calls_objects(
    ended: Iterable[str], channels: Iterable[str], bridges: Mapping[str, Iterable[str]]
) -> Leftovers:
    """Objects of calls that ended (their records say so) but are still in Asterisk: all of them go."""
    gone = set(ended)
    return Leftovers(
        tuple(sorted(c for c in channels if owner(c) in gone)), tuple(sorted(b for b in bridges if owner(b) in gone))
    )


def unrecorded_callers(
    channels: Iterable[tuple[str, str, str]], app: str, records: Iterable[CallRecord]
) -> list[tuple[str, tuple[str, ...]]]:
    """``channels`` as (id, dialplan application, its data): those in ``Stasis(<app>,inbound,...)`` that no record
    names, with the arguments their ``StasisStart`` carried."""
    named_callers = {record.channel_id for record in records}
    found = []
    for channel_id, app_name, app_data in channels:
        args = tuple(part.strip() for part in app_data.split(","))
        if app_name == "Stasis" and len(args) > 1 and args[0] == app and args[1] == "inbound":
            if channel_id not in named_callers:
                found.append((channel_id, args[1:]))
    return found
