"""The store's one failure as the rest of the application sees it: Redis cannot be reached (or answered with an
error). Translated here, once, from redis-py's and the socket's exceptions, as ARI errors are in ari/errors.py."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from redis import exceptions as redis_errors
from redis.exceptions import (
    ClusterDownError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TryAgainError,
)

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class StoreUnavailable(Exception):
    """Redis did not do what was asked: it is down, unreachable, or refused the command."""


class NoConsumerGroup(StoreUnavailable):
    """A stream's consumer group is gone (the stream was deleted, or Redis lost its data): make it again."""


@contextmanager
def translated() -> Iterator[None]:
    """Raise ``StoreUnavailable`` for whatever Redis or the network raises inside."""
    try:
        yield
    except ResponseError as exc:
        kind = NoConsumerGroup if str(exc).startswith("NOGROUP") else StoreUnavailable
        raise kind(repr(exc)) from exc
    except (RedisError, RedisClusterException, OSError) as exc:
        raise StoreUnavailable(repr(exc)) from exc


# Answers of a server that cannot take writes now but will (a replica not yet promoted or a demoted primary, a
# cluster without a primary for the slot, a server loading its data), and a cluster node that could not be reached
# (a cluster pipeline puts a node's connection error among the results): inside a pipeline read with
# raise_on_error=False they come back as results, and the batch is tried again as through an outage.
NOT_WRITABLE_NOW = (
    ReadOnlyError,
    ClusterDownError,
    TryAgainError,
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
)


def not_writable_now(results: list[object]) -> BaseException | None:
    """The first result that says the server cannot take writes now, if any."""
    return next((r for r in results if isinstance(r, NOT_WRITABLE_NOW)), None)


def translating(cls: type[T]) -> type[T]:
    """A store class whose public coroutines raise ``StoreUnavailable`` for whatever Redis or the network raises:
    the one place the store's failures are translated, for every store."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(cls, name, _translating(member))
    return cls


def _translating(method: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with translated():
            return await method(*args, **kwargs)

    return call
