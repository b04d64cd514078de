"""A batch of the store's writes as one command: a Lua script that runs them in order, each as Redis runs it.

The call store's batches (records, the live-call set, queue mirrors, events, what other stores stage with them)
were a pipeline of one command per write: at 100 calls/s, 25 commands a call for redis-py to pack and Redis to
parse, and a flush whose writes could be seen half done by another client. As one script the batch is one command
(1,000 writes at most per script, so that a burst does not hold Redis for long), atomic towards every other client,
and the writes inside are the same commands, with the same keys, as before: Redis's own statistics
(``INFO commandstats``) count them as they counted the pipeline's.

Each write runs under ``redis.pcall``: one that Redis refuses (a wrong type, a replica that takes no writes) is
reported with its position and the others stand, as they would in a pipeline. Every key is passed as a key, so the
script runs on a cluster too (a tenant's keys share one slot, ``store/keys.py``).

The commands are spelled by redis-py's own command methods (``set``, ``zadd``, ``xadd`` ...), not sent: a store
stages ``("zadd", key, {member: score})`` as it would call the pipeline's method.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from redis.asyncio.client import Pipeline
from redis.commands.core import CoreCommands
from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    MasterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TryAgainError,
)

from callcenter_ari.store.scripts import Script

# KEYS: the key of each write, in order. ARGV: for each write, how many arguments follow its key, its command, then
# those arguments. Returns the refused writes as position, error pairs (empty: all written). A refusal that means the
# server takes no writes now (out of memory, a replica, a primary cut off, loading) ends the script there: Redis
# refuses for memory only before a script's first change, and every write after such a change would go through, so
# going on could write a batch's events without the records before them.
_COMMIT = Script("""
local refused, a = {}, 1
for k = 1, #KEYS do
  local n = tonumber(ARGV[a])
  local reply = redis.pcall(ARGV[a + 1], KEYS[k], unpack(ARGV, a + 2, a + 1 + n))
  if type(reply) == 'table' and reply.err then
    refused[#refused + 1] = k
    refused[#refused + 1] = reply.err
    for _, word in ipairs({'OOM', 'READONLY', 'MASTERDOWN', 'LOADING'}) do
      if string.find(reply.err, word, 1, true) == 1 or string.find(reply.err, '-' .. word, 1, true) then
        return refused
      end
    end
  end
  a = a + 2 + n
end
return refused
""")

CHUNK = 1000  # writes per script call
# A write with more arguments than this goes as itself, in its place: Lua's ``unpack`` takes about 8,000 values.
LONG_WRITE = 1000

Command = tuple[Any, ...]  # name, key, the other arguments


class _Spelling(CoreCommands):
    """redis-py's command methods, returning the command they would send instead of sending it."""

    _event_dispatcher: Any = None  # a client's attribute in redis-py's command protocol; nothing is sent here

    def execute_command(self, *args: Any, **options: Any) -> Command:
        return args


_SPELLING = _Spelling()


def spelled(op: str, args: Sequence[Any]) -> Command:
    """``("zadd", (key, {member: score}))`` as the command redis-py sends: ``("ZADD", key, score, member)``."""
    command: Command = getattr(_SPELLING, op)(*args)
    return command


class Commit:
    """A batch's writes queued in a pipeline as script calls, in order (a single write, or one too long for the
    script, goes as itself)."""

    def __init__(self, commands: list[Command]) -> None:
        self.commands = commands
        self.parts: list[list[Command]] = _parts(commands)
        self.calls = len(self.parts)  # pipeline commands ``queue`` queues

    def queue(self, pipe: Pipeline) -> int:
        """Queue the batch: the script by its source (EVAL), always. A script sent by SHA1 that Redis no longer
        knows (a restart, a flushed cache) would fail while the steps queued after it in the pipeline ran, ahead of
        the records and events they must follow; the source is 0.5 KB more a batch, and Redis runs the script it
        compiled before (its cache is keyed by the source's SHA1)."""
        for part in self.parts:
            if len(part) == 1:
                pipe.execute_command(*part[0])
            else:
                keys, args = _arguments(part)
                _COMMIT.queue(pipe, keys, args, by_source=True)
        return self.calls

    def refusals(self, results: Sequence[Any]) -> list[object]:
        """What Redis refused among the batch's results (``queue``'s calls, in order): a script's refused writes
        as the exceptions redis-py would have given them in a pipeline, a command refused whole as it is."""
        out: list[object] = []
        for part, result in zip(self.parts, results, strict=True):
            if isinstance(result, BaseException):
                out.append(result)
            elif len(part) > 1 and isinstance(result, list):
                out += [refused_as(_text(message)) for message in result[1::2]]
        return out


def _parts(commands: list[Command]) -> list[list[Command]]:
    """Runs of at most ``CHUNK`` writes for the script, a long write alone between them, the order kept."""
    parts: list[list[Command]] = []
    run: list[Command] = []
    for command in commands:
        if len(command) > LONG_WRITE:
            if run:
                parts.append(run)
                run = []
            parts.append([command])
            continue
        run.append(command)
        if len(run) == CHUNK:
            parts.append(run)
            run = []
    if run:
        parts.append(run)
    return parts


def _arguments(commands: Iterable[Command]) -> tuple[list[Any], list[Any]]:
    keys: list[Any] = []
    args: list[Any] = []
    for name, key, *rest in commands:
        keys.append(key)
        args += [len(rest), name, *rest]
    return keys, args


# The refusals a pipeline would have raised as these classes (redis-py reads the reply's first word the same way);
# the store retries a batch that met one of the first kinds (``errors.NOT_WRITABLE_NOW``).
_KINDS: dict[str, type[RedisError]] = {
    "READONLY": ReadOnlyError,
    "TRYAGAIN": TryAgainError,
    "CLUSTERDOWN": ClusterDownError,
    "MASTERDOWN": MasterDownError,
    "LOADING": BusyLoadingError,
    "OOM": OutOfMemoryError,
}


# Redis 7 may put where in the script a write was refused before the reply ("@user_script: 5: -READONLY ...").
_WHERE = re.compile(r"^@user_\w+:\s*\d+:\s*-?")


def refused_as(message: str) -> RedisError:
    """A refusal the script reported, as the exception redis-py would have raised for it in a pipeline."""
    message = _WHERE.sub("", message).strip()
    kind = _KINDS.get(message.split(" ", 1)[0], ResponseError)
    return kind(message)


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
