"""Lua scripts called by their SHA1 inside pipelines, with no SCRIPT EXISTS round trip before each.

redis-py's ``Script`` asks Redis whether it knows the script before every pipeline that uses it. Here a script is
loaded once; a pipeline sends EVALSHA, and only an EVALSHA that Redis answers NOSCRIPT (Redis restarted, or its
script cache was flushed) is sent again as EVAL, on its own: a command that failed changed nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError


class Script:
    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    def queue(self, pipe: Pipeline, keys: list[str], args: list[Any], *, by_source: bool = False) -> None:
        """Queue this script in ``pipe`` (by SHA1; ``by_source``: as EVAL with its source, which Redis caches)."""
        if by_source:
            pipe.execute_command("EVAL", self.source, len(keys), *keys, *args)
        else:
            pipe.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)

    async def call(self, redis: Redis, keys: list[str], args: list[Any]) -> Any:
        """Run it now, on its own."""
        try:
            return await _execute(redis, "EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await _execute(redis, "EVAL", self.source, len(keys), *keys, *args)

    async def retry_if_unknown(self, redis: Redis, result: Any, keys: list[str], args: list[Any]) -> Any:
        """A pipeline's result for this script: if Redis did not know the script, run it again with its source."""
        if isinstance(result, NoScriptError):
            return await _execute(redis, "EVAL", self.source, len(keys), *keys, *args)
        if isinstance(result, Exception):
            raise result
        return result


async def _execute(redis: Redis, *command: Any) -> Any:
    return await redis.execute_command(*command)  # type: ignore[no-untyped-call]
