"""The global order of a queue across processes: callers waiting in other processes, as this process's board sees
them.

Theory of operation
-------------------
Each process's board holds only the calls that came in on its own Asterisk; their places in line are also in
Redis (``store/waiters.py``), with what it takes to judge who could serve them. When more than one process runs,
the runtime hands the board the callers waiting elsewhere (``Board.set_foreign``) before each round of decisions.

An agent who becomes free here takes this process's best waiting call, unless a caller of another process is
*ahead* of it: a higher priority, or the same priority and an earlier place (a callback keeps the place it had
when it left the line), and one that this agent could take (queue membership, language, skills at the stage its
wait has reached). Then the agent is *held back*: written available, so the other process, which sees every write
to an agent, takes them for its caller; here they wait out of the pools for at most ``DEFER`` seconds. A hold ends
when the agent changes elsewhere (taken), when the callers ahead are gone from Redis (served by someone else), or
when its time runs out: then the callers it waited for are *passed* (their process did not take a free agent: dead,
stalled or refusing) and no agent is held for them again while they wait, so a sick process never blocks agents
for the others for more than ``DEFER`` seconds once.

With one process running the board has no foreign callers and this costs nothing.
"""

from __future__ import annotations

import msgspec

from callcenter_ari.acd.skills import Requirement

DEFER = 2.0  # seconds an agent is held back for an earlier caller of another process before serving one here


class Waiter(msgspec.Struct, frozen=True):
    """A caller waiting in line, as written to Redis for the other processes."""

    call_id: str
    queue: str
    priority: int
    enqueued_at: float
    instance: str = ""  # the process it waits in
    language: str = ""
    needs: Requirement | None = None

    @property
    def place(self) -> tuple[int, float]:
        """Its place in line: higher priority first, then earlier arrival (the board's call key, without seq)."""
        return (-self.priority, self.enqueued_at)


def ahead(place: tuple[int, float], other: tuple[int, float]) -> bool:
    """Whether a caller at ``other`` is served before one at ``place`` (ties go to the caller here)."""
    return other < place


encode = msgspec.json.Encoder().encode
decode = msgspec.json.Decoder(Waiter).decode
