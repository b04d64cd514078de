"""A batch of the store's writes as one command: a Lua script that runs them in order, each as Redis runs it.

The call store's batches (records, the live-call set, queue mirrors, events, what other stores stage with them)
were a pipeline of one command per write: at 100 calls/s, 25 commands a call for redis-py to pack and Redis to
parse, and a flush whose writes could be seen half done by another client. As one script the batch is one command
(1,000 writes at most per script, so that a burst does not hold Redis for long), atomic towards every other client,
and the writes inside are the same commands, with the same keys, as before: Redis's own statistics
(``INFO commandstats``) count them as they counted the pipeline's.

Each write runs under ``redis.pcall``: one that Redis refuses (a wrong type) is reported with its position and the
others stand, as they would in a pipeline. A server that takes no writes now (a replica, out of memory) refuses the
script's first write, its marker, and so the whole script before any change. The marker makes a batch sent again
after its answer was lost a no-op. Every key is passed as a key, so the script runs on a cluster too (a tenant's
keys share one slot, ``store/keys.py``).

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

# KEYS: the batch's marker, then the key of each write, in order. ARGV: the marker's lifetime in seconds, then for
# each write how many arguments follow its key, its command, then those arguments. Returns 0 if the marker was there
# (the batch was written before: its answer was lost, and it is sent again), else the refused writes as position,
# error pairs (empty: all written). The marker is the script's first write, so a refusal that means the server
# takes no writes now (out of memory, a replica, a primary cut off, loading) fails the whole script before any
# change: Redis refuses for memory only until a script's first change, and going on could have written a batch's
# events without the records before them.
_COMMIT = Script("""
if not redis.call('SET', KEYS[1], '', 'NX', 'EX', ARGV[1]) then return 0 end
local refused, a = {}, 2
for k = 2, #KEYS do
  local n = tonumber(ARGV[a])
  local reply = redis.pcall(ARGV[a + 1], KEYS[k], unpack(ARGV, a + 2, a + 1 + n))
  if type(reply) == 'table' and reply.err then
    refused[#refused + 1] = k - 1
    refused[#refused + 1] = reply.err
  end
  a = a + 2 + n
end
return refused
""")

# How long a batch's marker says it was written: longer than a batch is retried for in any outage but a long one.
MARKER_SECONDS = 120
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
    """A batch's writes queued in a pipeline as script calls, in order (a write too long for the script goes as
    itself). Each script call has a marker (``marker`` and its position), so a batch sent again after its answer
    was lost (a time-out, a connection cut after the send) is not written twice: its events not appended again."""

    def __init__(self, commands: list[Command], marker: str) -> None:
        self.commands = commands
        self.marker = marker
        self.parts: list[list[Command]] = _parts(commands)
        self.calls = len(self.parts)  # pipeline commands ``queue`` queues

    def queue(self, pipe: Pipeline) -> int:
        """Queue the batch: the script by its source (EVAL), always. A script sent by SHA1 that Redis no longer
        knows (a restart, a flushed cache) would fail while the steps queued after it in the pipeline ran, ahead of
        the records and events they must follow; the source is 0.6 KB more a batch, and Redis runs the script it
        compiled before (its cache is keyed by the source's SHA1)."""
        for number, part in enumerate(self.parts):
            if len(part) == 1 and len(part[0]) > LONG_WRITE:
                pipe.execute_command(*part[0])
            else:
                keys, args = _arguments(part)
                _COMMIT.queue(pipe, [f"{self.marker}:{number}", *keys], [MARKER_SECONDS, *args], by_source=True)
        return self.calls

    def refusals(self, results: Sequence[Any]) -> list[object]:
        """What Redis refused among the batch's results (``queue``'s calls, in order): a script's refused writes
        as the exceptions redis-py would have given them in a pipeline, a command refused whole as it is."""
        out: list[object] = []
        for result in results:
            if type(result) is ResponseError:  # a script that failed whole comes back as a plain error: read it
                out.append(refused_as(str(result)))
            elif isinstance(result, BaseException):
                out.append(result)
            elif isinstance(result, list):
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


# Redis may put where in the script a write was refused before the reply ("@user_script: 5: -READONLY ...", and
# older servers "Error running script (call to f_<sha>): @user_script:2: @user_script: 2: -OOM ..." for the whole).
_WHERE = re.compile(r"^(?:Error running script \(call to [^)]*\): )?(?:@user_\w+:\s*\d+:\s*)*-?")


def refused_as(message: str) -> RedisError:
    """A refusal the script reported, as the exception redis-py would have raised for it in a pipeline."""
    message = _WHERE.sub("", message).strip()
    kind = _KINDS.get(message.split(" ", 1)[0], ResponseError)
    return kind(message)


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
