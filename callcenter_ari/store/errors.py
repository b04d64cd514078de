"""The store's one failure as the rest of the application sees it: Redis cannot be reached (or answered with an
error). Translated here, once, from redis-py's and the socket's exceptions, as ARI errors are in ari/errors.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import RedisError


class StoreUnavailable(Exception):
    """Redis did not do what was asked: it is down, unreachable, or refused the command."""


@contextmanager
def translated() -> Iterator[None]:
    """Raise ``StoreUnavailable`` for whatever Redis or the network raises inside."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise StoreUnavailable(repr(exc)) from exc
