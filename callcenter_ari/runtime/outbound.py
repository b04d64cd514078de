"""Outbound legs at run time: take a trunk line, originate, tell the owner what became of the call, give the line
back when the channel is gone.

The line is taken first, from ``store/trunk_lines.py`` (across every process, inbound calls included), with the
leg's id as the lease and as the channel id, so that the hang-up that frees the channel frees the line, once. The
originate carries ``("outbound", <leg id>, *owner's args)``; the leg's channel is this service's in the channel
registry (``runtime/channels.py``), which hands it the leg's end with Asterisk's Dial status; the dispatcher hands
it the leg's StasisStart (answered). The owner is a plain function called with each
``LegEvent`` (``calls/outbound.py``): ``Answered``, then ``Ended``; or one of ``NoAnswer``, ``Busy``, ``Failed``. It
runs on the dispatcher's path, so it must not block: an owner with I/O to do spawns it.

After a restart the legs are not known any more: a leg that answers then has no owner, and is hung up and its
line (recovered by ``TrunkLines``) given back; its owner frees the line of one that may still ring
(``abandon``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import structlog

from callcenter_ari.ari.errors import AriError
from callcenter_ari.calls.outbound import Failed, LegEvent, OutboundLeg, OutboundRequest
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.trunks import TrunkConfig, dial_string
from callcenter_ari.trunks.phone import InvalidNumber

if TYPE_CHECKING:
    from callcenter_ari.runtime.app import Services

log = structlog.get_logger(__name__)

Owner = Callable[[LegEvent], None]


class OutboundLegs:
    def __init__(self, services: Services, trunks: Mapping[str, TrunkConfig]) -> None:
        self._services = services
        self._trunks = dict(trunks)
        self._legs: dict[str, tuple[OutboundLeg, Owner]] = {}

    def owns(self, channel_id: str) -> bool:
        return channel_id in self._legs

    def live(self) -> int:
        return len(self._legs)

    async def place(self, request: OutboundRequest, owner: Owner) -> bool:
        """Dial ``request``; True once the originate was accepted (the owner hears the rest), False when it was
        not placed (the owner has been told why, with ``Failed``). Raises InvalidRequest for a bad request."""
        request.check()
        services = self._services
        trunks = [name for name in request.trunks if name in self._trunks]
        if not trunks:
            return self._refused(request, owner, "no such trunk")
        try:
            trunk = await services.lines.acquire(request.leg_id, trunks)
        except StoreUnavailable:
            return self._refused(request, owner, "store unavailable")
        if trunk is None:
            for name in trunks:
                services.metrics.trunk_full.labels(name).inc()
            return self._refused(request, owner, "no free line")
        try:
            endpoint = dial_string(self._trunks[trunk], request.number)
        except InvalidNumber:
            self._give_back(request.leg_id)
            return self._refused(request, owner, "not dialable on the trunk")
        leg = OutboundLeg(request, trunk)
        self._legs[request.leg_id] = (leg, owner)
        services.channels.own(request.leg_id, self)
        try:
            await services.ari.originate(
                endpoint,
                app_args=request.stasis_args,
                caller_id=request.caller,
                ring_timeout=request.ring_seconds,
                variables=request.variables or None,
                channel_id=request.leg_id,
            )
        except AriError as exc:
            self._legs.pop(request.leg_id, None)
            services.channels.disown(request.leg_id, self)
            self._give_back(request.leg_id)
            log.warning("outbound.originate_failed", leg_id=request.leg_id, trunk=trunk, error=exc.message)
            event = leg.refused("refused")
            if event is not None:
                self._tell(owner, event)
            return False
        services.metrics.outbound_legs.labels("placed").inc()
        log.info("outbound.placed", leg_id=request.leg_id, trunk=trunk)
        return True

    async def hang_up(self, leg_id: str) -> None:
        found = self._legs.get(leg_id)
        if found is not None:
            found[0].cancel()
        try:
            await self._services.ari.hangup(leg_id)
        except AriError:
            pass  # gone already: its end frees the line

    # ---- from the dispatcher -------------------------------------------------------------------------------

    async def abandon(self, leg_id: str) -> None:
        """A leg placed before a restart, by an owner that is gone: hung up if it is still up, its line given back."""
        await self.hang_up(leg_id)
        self._give_back(leg_id)

    def entered(self, channel_id: str) -> bool:
        """The leg's StasisStart: it answered. False if no owner waits for it: then it is hung up and its line (if
        this process holds it, recovered after a restart) given back."""
        found = self._legs.get(channel_id)
        if found is None:
            self._services.spawn(self.abandon, channel_id)
            return False
        leg, owner = found
        event = leg.up()
        if event is not None:
            self._tell(owner, event)
        return True

    def channel_gone(self, channel_id: str, cause: int | None, dialstatus: str) -> None:
        """A leg ended (from the channel registry): its line is given back, its owner told."""
        found = self._legs.pop(channel_id, None)
        self._services.channels.disown(channel_id, self)
        if found is None:
            return
        leg, owner = found
        self._give_back(channel_id)
        leg.dial_status(dialstatus)
        event = leg.gone(cause)
        if event is not None:
            self._tell(owner, event)

    # ---- helpers -------------------------------------------------------------------------------------------

    def _give_back(self, leg_id: str) -> None:
        self._services.lines.release(leg_id)

    def _refused(self, request: OutboundRequest, owner: Owner, reason: str) -> bool:
        log.warning("outbound.not_placed", leg_id=request.leg_id, reason=reason)
        self._tell(owner, Failed(request.leg_id, reason))
        return False

    def _tell(self, owner: Owner, event: LegEvent) -> None:
        self._services.metrics.outbound_legs.labels(str(type(event).__struct_config__.tag)).inc()
        try:
            owner(event)
        except Exception:
            log.exception("outbound.owner_failed", leg_id=event.leg_id, event_type=type(event).__name__)
