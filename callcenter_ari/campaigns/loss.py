"""What becomes of a campaign when Redis lost its data: decided from what a process held in memory (the campaign as
last read, its counters as last read, the leads it holds, the do-not-call list's size as last read), with no I/O.

A process holds only the leads it claimed; every other lead (new, scheduled, closed) was in Redis alone and is gone
with a Redis that ran without persistence. The counters say how many. A running campaign that lost leads still to
dial, or whose do-not-call list was lost (or whose list or counters the process never read), is written back
paused: dialing on would call numbers the tenant asked not to call, or finish the campaign over leads that were
never dialed. A supervisor resumes it once the lists are imported again (docs/DIALER.md, "When Redis loses its
data").
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from callcenter_ari.campaigns.model import Campaign

_UNDIALED = ("new", "scheduled")
_CLOSED = ("done", "exhausted", "do_not_call")


class Loss(msgspec.Struct, frozen=True, kw_only=True):
    """The campaign to write back, and what is known lost with the data."""

    campaign: Campaign  # as last read, paused if dialing on is not safe
    paused: bool  # paused here (it was running)
    reasons: tuple[str, ...]  # why paused: "leads_lost", "do_not_call_list_lost", "counters_unknown"
    known: bool  # the campaign's counters were read before the loss (the counts below mean something)
    undialed: int  # new and scheduled leads: gone, never to be dialed unless imported again
    closed: int  # done, exhausted and do-not-call leads: their records and attempts gone
    elsewhere: int  # leads being dialed by other processes (each writes back its own; a dead one's are gone)
    held: int  # leads this process holds, written back with their attempts
    do_not_call_lost: int | None  # entries of the tenant's do-not-call list lost (None: never read)

    def fields(self) -> dict[str, object]:
        """For the log line and the ``campaign.leads_lost`` event."""
        return {
            "campaign": self.campaign.id,
            "state": self.campaign.state,
            "counts_known": self.known,
            "undialed": self.undialed,
            "closed": self.closed,
            "dialing_elsewhere": self.elsewhere,
            "written_back": self.held,
            "do_not_call_lost": self.do_not_call_lost,
        }


def after_loss(
    campaign: Campaign,
    counters: Mapping[str, int] | None,
    *,
    held: int,
    claimed_since: int = 0,
    do_not_call: int | None,
    now: float,
) -> Loss:
    """The campaign as it goes back into an empty Redis. ``counters``: its lead counters as last read (None: never
    read); ``held``: the leads this process holds, ``claimed_since`` of them claimed after the counters were read
    (counted there as still to dial); ``do_not_call``: the list's size as last read (None: never)."""
    known = counters is not None
    counts = counters or {}
    undialed = max(0, sum(counts.get(f"state:{state}", 0) for state in _UNDIALED) - claimed_since)
    closed = sum(counts.get(f"state:{state}", 0) for state in _CLOSED)
    elsewhere = max(0, counts.get("state:dialing", 0) + claimed_since - held)
    reasons: list[str] = []
    if not known:
        reasons.append("counters_unknown")
    elif undialed:
        reasons.append("leads_lost")
    if do_not_call is None or do_not_call > 0:
        reasons.append("do_not_call_list_lost")
    paused = campaign.state == "running" and bool(reasons)
    written = msgspec.structs.replace(campaign, state="paused", updated_at=now) if paused else campaign
    return Loss(
        campaign=written,
        paused=paused,
        reasons=tuple(reasons) if paused else (),
        known=known,
        undialed=undialed,
        closed=closed,
        elsewhere=elsewhere,
        held=held,
        do_not_call_lost=do_not_call,
    )
