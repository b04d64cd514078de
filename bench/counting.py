"""Redis traffic counted where it leaves the process: at redis-py's connection, for every client in it.

Every command is packed by a connection's `pack_command` (`AbstractConnection`'s, or a subclass's own: the
project's hiredis packer; a pipeline packs each of its commands through it) and every write to the socket goes
through `AbstractConnection.send_packed_command`, which is followed by the replies being read: one call is one
round trip. Wrapping these methods counts all Redis traffic of the measured process (the call store, tickets,
webhooks, statistics, recovery markers), not only what one store chooses to count, and works on any commit of the
project because it touches only redis-py's classes.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from redis.asyncio.connection import AbstractConnection


class RedisTraffic:
    def __init__(self) -> None:
        self.commands: Counter[str] = Counter()
        self.round_trips = 0
        self.sources: Counter[str] = Counter()  # round trips by the project's function that sent them

    @property
    def total_commands(self) -> int:
        return sum(self.commands.values())

    def reset(self) -> None:
        self.commands.clear()
        self.round_trips = 0
        self.sources.clear()

    def snapshot(self) -> tuple[Counter[str], int]:
        return Counter(self.commands), self.round_trips


@contextmanager
def counting_redis() -> Iterator[RedisTraffic]:
    """Count commands (by name) and round trips of every redis-py asyncio connection while the block runs."""
    traffic = RedisTraffic()
    packers = [cls for cls in _with_subclasses(AbstractConnection) if "pack_command" in vars(cls)]
    packs = {cls: cls.pack_command for cls in packers}
    send = AbstractConnection.send_packed_command

    def counting(pack: Any) -> Any:
        def counted_pack(self: AbstractConnection, *args: Any) -> list[bytes]:
            name = args[0]
            if isinstance(name, bytes):
                name = name.decode()
            traffic.commands[str(name).split(" ", 1)[0].upper()] += 1
            return pack(self, *args)  # type: ignore[no-any-return]

        return counted_pack

    async def counted_send(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        traffic.round_trips += 1
        traffic.sources[_sender()] += 1
        await send(self, command, check_health)

    for cls, pack in packs.items():
        cls.pack_command = counting(pack)  # type: ignore[method-assign]
    AbstractConnection.send_packed_command = counted_send  # type: ignore[method-assign]
    try:
        yield traffic
    finally:
        for cls, pack in packs.items():
            cls.pack_command = pack  # type: ignore[method-assign]
        AbstractConnection.send_packed_command = send  # type: ignore[method-assign]


def _with_subclasses(cls: type) -> list[type]:
    """``cls`` and every class derived from it so far (a packer of the project's is one once its module is
    imported: the harness builds the application before counting starts)."""
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_with_subclasses(sub))
    return found


_PLUMBING = ("/store/errors.py", "/store/scripts.py", "/store/fenced.py")
# Carry another part's writes (a step riding the flusher's batch is counted as the flusher's round trip).
_PASSING = {"Store._execute", "Store._write", "Store.execute", "Store.execute_later", "Store._write_fenced"}


def _sender() -> str:
    """The innermost function of the project's own (outside the stores' plumbing) up the awaiting chain: the part
    that asked for the round trip (the store's flusher, the ACD's round, a ticket number, the webhook outbox)."""
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if "callcenter_ari" in path and not path.endswith(_PLUMBING) and frame.f_code.co_qualname not in _PASSING:
            return f"{frame.f_code.co_qualname} ({path.rsplit('callcenter_ari/', 1)[-1]})"
        frame = frame.f_back  # type: ignore[assignment]
    return "other"
