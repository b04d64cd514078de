"""Who owns each channel this process knows, recorded when the channel is made or adopted.

A channel's events (it hung up, it was destroyed, it left the application) go to its owner, found with one lookup:
a call (its caller and every leg it dials), a persistent agent's line (``standing.py``), a supervisor's session
(their phone and the snoop on the agent, ``monitor.py``), an agent phone dialling a feature code (``features.py``).
An owner records a channel before Asterisk can send anything about it (before the originate, or on adopting a
call) and gives it up when it no longer cares; an event for a channel nobody owns is somebody else's business (a
channel of another application, a leg whose call has ended) and is dropped.
"""

from __future__ import annotations

from typing import Protocol

from callcenter_ari.runtime.call import LiveCall


class Owner(Protocol):
    def channel_gone(self, channel_id: str, cause: int | None, dialstatus: str) -> None:
        """The channel hung up or left the application (told once per such event: owners are idempotent).
        ``dialstatus``: Asterisk's Dial outcome for a leg that never came up (BUSY, NOANSWER, ...), or ""."""


class Channels:
    def __init__(self) -> None:
        self._owners: dict[str, Owner] = {}

    def own(self, channel_id: str, owner: Owner) -> None:
        self._owners[channel_id] = owner

    def disown(self, channel_id: str, owner: Owner) -> None:
        """``owner`` no longer cares about the channel (a no-op if it is somebody else's by now)."""
        if self._owners.get(channel_id) is owner:
            del self._owners[channel_id]

    def owner(self, channel_id: str) -> Owner | None:
        return self._owners.get(channel_id)

    def call(self, channel_id: str) -> LiveCall | None:
        """The call that owns the channel, if a call does."""
        owner = self._owners.get(channel_id)
        return owner if isinstance(owner, LiveCall) else None

    def gone(self, channel_id: str, cause: int | None, dialstatus: str = "") -> bool:
        """Tell the channel's owner it is gone; False if nobody owns it."""
        owner = self._owners.get(channel_id)
        if owner is None:
            return False
        owner.channel_gone(channel_id, cause, dialstatus)
        return True

    def __contains__(self, channel_id: str) -> bool:
        return channel_id in self._owners

    def __len__(self) -> int:
        return len(self._owners)
