"""Who may act for a node: the ownership a hot standby takes over, as the adapters see it.

With ``[standby]`` enabled, a process acts for its node (writes agent and call state to Redis, sends requests to
Asterisk) only while it holds the node's lease in Redis (``store/lease.py``, ``runtime/standby.py``). Each taking
of the lease increments a fencing token. The store writes under the token it was given: a write is refused when
the node's token in Redis is another one (another process took over), and the store and the ARI client refuse
everything at once, without asking Redis, once the lease may have run out (``Fence.check``). A refusal is
``Fenced``: a ``BaseException``, so that no handler of ordinary errors (a call failing safe, a guarded side task)
acts on it; it ends the task tree, and the process exits with ``EXIT_STEPPED_DOWN``.
"""

from __future__ import annotations

from collections.abc import Callable

EXIT_STEPPED_DOWN = 3  # the process's exit status when it gave up its node (fenced, replaced, lease lost)


class SteppedDown(BaseException):  # a stop, not an error: no ``except Exception`` handler catches it
    """The process no longer acts for its node: it ends, and says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Fenced(SteppedDown):
    """A write or a request refused: another process holds the node now (or may, the lease having run out)."""


class Fence:
    """The fencing token a store writes under, and the local check of the lease behind it."""

    def __init__(self, key: str, token: int, holds: Callable[[], bool]) -> None:
        self.key = key  # where Redis keeps the node's current token
        self.token = token
        self._holds = holds

    def check(self) -> None:
        """Raise ``Fenced`` unless the lease is still held as far as this process can tell without asking."""
        if not self._holds():
            raise Fenced("the node's lease may have run out: no more writes or requests")

    def matches(self, current: bytes | str | None) -> bool:
        """Redis's token allows this process's write. None: the key is gone with Redis's data, and nobody took the
        lease since (taking it sets the key), so the writes of the process that held it go on."""
        return current is None or int(current) == self.token
