"""A supervisor's monitoring session as Redis keeps it, and what recovery does with each after a restart.

A session (listen, whisper or barge: ``runtime/monitor.py``) is recorded before any of its parts is made in
Asterisk, again after each change of mode, and dropped when it ends. After a restart or a takeover, recovery
compares every recorded session with what Asterisk lists: one whose parts all survive (the supervisor's leg; for
listen and whisper the snoop channel and the session's bridge holding both; for barge the leg in the call's own
bridge) on a call that goes on is adopted and keeps going; any other is ended, hanging up and destroying what is
left of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import msgspec

from callcenter_ari.calls.leftovers import Leftovers

Mode = Literal["listen", "whisper", "barge"]


class SessionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A session as recorded: its objects in Asterisk, by id."""

    id: str  # "<call id>-m<n>": every object's id starts with it
    call_id: str
    supervisor: str  # the configured supervisor's id
    endpoint: str  # their phone, from the configuration
    mode: Mode
    leg: str  # the supervisor's channel
    snoop: str = ""  # the snoop channel on the agent's leg (listen, whisper)
    bridge: str = ""  # the bridge of the supervisor and the snoop (listen, whisper)
    generation: int = 1  # the snoop and bridge ids are new at each change of mode (the old ones may not be gone yet)

    def objects(self) -> tuple[set[str], set[str]]:
        """The channels and bridges of this session (not the call's bridge, which a barging supervisor is in)."""
        return {c for c in (self.leg, self.snoop) if c}, {self.bridge} if self.bridge else set()


class Settled(msgspec.Struct, frozen=True):
    adopted: tuple[SessionRecord, ...] = ()  # whole, on a call that goes on: they keep going
    ended: tuple[SessionRecord, ...] = ()  # partly gone, or on a call that is not going on: dropped
    leftovers: Leftovers = Leftovers()  # what is left of the ended ones in Asterisk: hang up, destroy


def settle_sessions(
    sessions: Iterable[SessionRecord],
    call_bridges: Mapping[str, str],
    channels: Iterable[str],
    bridges: Mapping[str, Iterable[str]],
) -> Settled:
    """``call_bridges``: the calls that go on after the restart, call id -> the call's bridge id; ``channels`` and
    ``bridges`` (id -> members) as Asterisk lists them."""
    present = set(channels)
    members = {bridge: set(inside) for bridge, inside in bridges.items()}
    adopted: list[SessionRecord] = []
    ended: list[SessionRecord] = []
    hang_up: list[str] = []
    destroy: list[str] = []
    for session in sessions:
        call_bridge = call_bridges.get(session.call_id)
        if call_bridge is not None and _whole(session, call_bridge, present, members):
            adopted.append(session)
            continue
        ended.append(session)
        own_channels, own_bridges = session.objects()
        hang_up += sorted(c for c in own_channels if c in present)
        destroy += sorted(b for b in own_bridges if b in members)
    return Settled(tuple(adopted), tuple(ended), Leftovers(tuple(hang_up), tuple(destroy)))


def _whole(session: SessionRecord, call_bridge: str, present: set[str], members: Mapping[str, set[str]]) -> bool:
    if session.leg not in present:
        return False
    if session.mode == "barge":
        return session.leg in members.get(call_bridge, set())
    return session.snoop in present and {session.leg, session.snoop} <= members.get(session.bridge, set())
