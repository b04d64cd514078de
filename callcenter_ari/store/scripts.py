"""Lua scripts called by their SHA1 inside pipelines, with no SCRIPT EXISTS round trip before each.

redis-py's ``Script`` asks Redis whether it knows the script before every pipeline that uses it. Here a script is
loaded once; a pipeline sends EVALSHA, and only an EVALSHA that Redis answers NOSCRIPT (Redis restarted, or its
script cache was flushed) is sent again as EVAL, on its own: a command that failed changed nothing.

Under a hot standby's lease (``fencing.py``) a script runs fenced: the same script behind a preamble that reads the
node's fencing token and refuses (``FENCED``, raised here as ``Fenced``) unless it is this process's, in the same
atomic step as the writes, so no round trip and no WATCH is added. The fence's key and token travel as the last
key and the last argument; the preamble takes them off again, so the script's body sees the ``KEYS`` and ``ARGV``
it was written for. Without a fence (no standby) the script is sent as it is.
"""

from __future__ import annotations

import hashlib
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError, ResponseError

from callcenter_ari.fencing import Fence, Fenced

# The token check, then KEYS and ARGV rebound without the fence's key and token (locals shadow the globals for
# the rest of the chunk). ``Fence.matches``'s rule: no token at all (Redis lost its data, nobody took the node
# since) lets the write through.
_FENCE_PREAMBLE = """local fence_nk, fence_na = #KEYS, #ARGV
local fence_now = redis.call('GET', KEYS[fence_nk])
if fence_now and fence_now ~= ARGV[fence_na] then return redis.error_reply('FENCED token ' .. fence_now) end
local fence_keys, fence_args = {}, {}
for i = 1, fence_nk - 1 do fence_keys[i] = KEYS[i] end
for i = 1, fence_na - 1 do fence_args[i] = ARGV[i] end
local KEYS, ARGV = fence_keys, fence_args
"""


class Script:
    __slots__ = ("_fenced", "sha", "source")

    def __init__(self, source: str, *, fenced: bool = False) -> None:
        self.source = _FENCE_PREAMBLE + source if fenced else source
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()
        self._fenced: Script | None = None

    def fenced(self) -> Script:
        """This script behind the fencing token's check (built once)."""
        if self._fenced is None:
            self._fenced = Script(self.source, fenced=True)
        return self._fenced

    def queue(
        self, pipe: Pipeline, keys: list[str], args: list[Any], *, by_source: bool = False, fence: Fence | None = None
    ) -> None:
        """Queue this script in ``pipe`` (by SHA1; ``by_source``: as EVAL with its source, which Redis caches)."""
        script, keys, args = self._under(fence, keys, args)
        if by_source:
            pipe.execute_command("EVAL", script.source, len(keys), *keys, *args)
        else:
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)

    async def call(self, redis: Redis, keys: list[str], args: list[Any], *, fence: Fence | None = None) -> Any:
        """Run it now, on its own; with ``fence``, only while the node's token is this process's (else ``Fenced``)."""
        script, keys, args = self._under(fence, keys, args)
        try:
            try:
                return await _execute(redis, "EVALSHA", script.sha, len(keys), *keys, *args)
            except NoScriptError:
                return await _execute(redis, "EVAL", script.source, len(keys), *keys, *args)
        except ResponseError as exc:
            raise_if_fenced(exc)
            raise

    async def retry_if_unknown(
        self, redis: Redis, result: Any, keys: list[str], args: list[Any], *, fence: Fence | None = None
    ) -> Any:
        """A pipeline's result for this script (queued with the same ``fence``): if Redis did not know the script,
        run it again with its source. ``Fenced`` if the fence refused it."""
        if isinstance(result, NoScriptError):
            return await self.call(redis, keys, args, fence=fence)
        if isinstance(result, Exception):
            raise_if_fenced(result)
            raise result
        return result

    def _under(self, fence: Fence | None, keys: list[str], args: list[Any]) -> tuple[Script, list[str], list[Any]]:
        if fence is None:
            return self, keys, args
        fence.check()  # the lease may have run out: refused without asking Redis
        return self.fenced(), [*keys, fence.key], [*args, fence.token]


def raise_if_fenced(error: BaseException) -> None:
    """A script's error reply that is the fence's refusal becomes ``Fenced``."""
    if isinstance(error, ResponseError) and str(error).startswith("FENCED"):
        raise Fenced(f"another process holds the node ({error})") from error


async def _execute(redis: Redis, *command: Any) -> Any:
    return await redis.execute_command(*command)  # type: ignore[no-untyped-call]
