"""Line accounting: which trunk lines are busy, by lease.

A lease is the caller's own identifier for one use of one line (a channel id, an originate id). Keying by lease
makes `release` idempotent: a hangup seen twice frees one line, not two, so the count can never drift below the
truth and let the dialer overbook the trunk. Decide-then-act: the dialer acquires before it originates and releases
when the channel is gone, or when the originate failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class LineLedger:
    def __init__(self, capacities: Mapping[str, int]) -> None:
        for name, lines in capacities.items():
            if lines < 0:
                raise ValueError(f"trunk {name!r}: capacity {lines} is negative")
        self._capacity = dict(capacities)
        self._busy = dict.fromkeys(capacities, 0)
        self._leases: dict[str, str] = {}

    def acquire(self, lease: str, trunks: Sequence[str]) -> str | None:
        """Take one line on the first of `trunks` (in preference order) that has one free; None if all are full."""
        if lease in self._leases:
            raise ValueError(f"lease {lease!r} already holds a line on {self._leases[lease]!r}")
        for trunk in trunks:
            if self.free(trunk) > 0:
                self._busy[trunk] += 1
                self._leases[lease] = trunk
                return trunk
        return None

    def release(self, lease: str) -> str | None:
        """Give back the line held by `lease`; returns its trunk, or None if the lease holds nothing (any more)."""
        trunk = self._leases.pop(lease, None)
        if trunk is not None:
            self._busy[trunk] -= 1
        return trunk

    def free(self, trunk: str) -> int:
        return self._known(trunk) - self._busy[trunk]

    def busy(self, trunk: str) -> int:
        self._known(trunk)
        return self._busy[trunk]

    def holder(self, lease: str) -> str | None:
        return self._leases.get(lease)

    def _known(self, trunk: str) -> int:
        """The trunk's capacity; an unknown name is a configuration bug, not a full trunk."""
        try:
            return self._capacity[trunk]
        except KeyError:
            raise KeyError(f"unknown trunk {trunk!r}") from None
