"""How the process reaches Redis: one server by URL, the primary of a Sentinel set, or a Redis Cluster.

The client is redis-py's own in each case: ``Redis.from_url``; ``redis.asyncio.sentinel.Sentinel.master_for``, whose
connection pool asks the sentinels for the primary's address at every new connection and drops its connections
when a server it took for the primary answers READONLY (it was demoted); ``redis.asyncio.cluster.RedisCluster``,
which follows MOVED and ASK and relearns the slot map after a failover. Nothing here retries: during a failover the
commands fail, the stores raise ``StoreUnavailable`` (store/errors.py), and the writes are kept and tried again as
through any outage (``Store._execute``); the next connection finds the new primary by itself.

In a cluster every key of a tenant carries the tenant as its hash tag (``Keys(..., hash_tag=True)``), so each
script and each transaction touches one slot, and the write-behind pipeline of a batch goes to one node. A single
server and a Sentinel set keep the untagged layout (a deployment moving to a cluster starts from empty keys, or
renames them: docs/DEPLOYMENT.md).

redis-py's asyncio connections pack each command in Python, argument by argument; its blocking ones hand the
arguments to hiredis's packer, in C. The store's batches are long commands (a batch script's keys and arguments,
a hundred and more), so the URL and Sentinel modes' connections pack with hiredis too (``HiredisPacking``): the
same bytes, about eight times less CPU (BENCHMARKS.md, issue 18, fourth pass). A cluster's connections are made by
its nodes, which take no connection class: they keep redis-py's packer.

``primary_of`` names the server that holds the tenant's keys now: the process compares it at every presence beat
(runtime/presence.py), and a change (a failover) makes it write back what it holds, since a primary lost with its
last writes not yet on the replica leaves the promoted one a little behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import hiredis
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool, SentinelManagedConnection

from callcenter_ari.config import RedisSection, parse_address
from callcenter_ari.store.keys import Keys

SENTINEL_TIMEOUT_SECONDS = 1.0  # a sentinel that does not answer this fast is skipped for the next one

C = TypeVar("C", bound=type[AbstractConnection])


class HiredisPacking(AbstractConnection):
    """Commands packed by hiredis (the bytes redis-py's own packer makes). An argument hiredis does not take (a
    memoryview, a wrong type) goes to redis-py's packer, which sends it or raises its ``DataError``."""

    def pack_command(self, *args: Any) -> list[bytes]:
        name = args[0].encode() if isinstance(args[0], str) else args[0]
        if b" " in name:  # "SCRIPT LOAD": the server wants the words apart
            args = (*name.split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except TypeError:
            return super().pack_command(*args)

    def pack_commands(self, commands: Any) -> list[bytes]:
        return [b"".join(chunk for command in commands for chunk in self.pack_command(*command))]


def hiredis_packing(connection_class: C) -> C:
    """``connection_class`` packing its commands with hiredis."""
    return type(connection_class.__name__, (HiredisPacking, connection_class), {})  # type: ignore[return-value]


def tenant_keys(section: RedisSection, tenant: str) -> Keys:
    """The tenant's key names in the layout the mode needs (hash-tagged in a cluster)."""
    return Keys(section.prefix, tenant, hash_tag=section.mode == "cluster")


@asynccontextmanager
async def connected(section: RedisSection) -> AsyncIterator[Redis]:
    """A client for the configured Redis (connections are made on first use), closed on the way out."""
    if section.mode == "url":
        client = client_for_url(section.url)
        try:
            yield client
        finally:
            await client.aclose()
        return
    if section.mode == "cluster":
        cluster = RedisCluster(
            startup_nodes=[ClusterNode(*_address(a)) for a in section.nodes],
            username=section.username or None,
            password=section.password or None,
            socket_timeout=section.socket_timeout_seconds,
            socket_connect_timeout=section.socket_timeout_seconds,
        )
        try:
            # The stores are written against Redis's API, which RedisCluster offers for every command they use.
            yield _as_redis(cluster)
        finally:
            await cluster.aclose()
        return
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        [_address(a) for a in section.sentinels],
        sentinel_kwargs={
            "password": section.sentinel_password or None,
            "socket_timeout": SENTINEL_TIMEOUT_SECONDS,
            "socket_connect_timeout": SENTINEL_TIMEOUT_SECONDS,
        },
        username=section.username or None,
        password=section.password or None,
        db=section.db,
        socket_timeout=section.socket_timeout_seconds,
        socket_connect_timeout=section.socket_timeout_seconds,
    )
    client = sentinel.master_for(section.service, connection_class=hiredis_packing(SentinelManagedConnection))
    try:
        yield client
    finally:
        await client.aclose()
        await sentinel.aclose()


def client_for_url(url: str) -> Redis:
    """A client for one server by URL (``redis://``, ``rediss://``, ``unix://``), its commands packed by hiredis."""
    pool = ConnectionPool.from_url(url)
    pool.connection_class = hiredis_packing(pool.connection_class)
    return Redis.from_pool(pool)


async def primary_of(redis: Redis, key: str) -> str | None:
    """The server that holds ``key`` now, as ``host:port``: the primary the sentinels name, or the cluster node
    serving the key's slot (as the client last learned it); None for a single server, which cannot change."""
    pool = redis.connection_pool if isinstance(redis, Redis) else None
    if isinstance(pool, SentinelConnectionPool):
        host, port = await pool.get_master_address()  # type: ignore[no-untyped-call]
        return f"{host}:{port}"
    if isinstance(redis, RedisCluster):
        node = redis.get_node_from_key(key)
        return f"{node.host}:{node.port}" if node is not None else None
    return None


def _address(address: str) -> tuple[str, int]:
    parsed = parse_address(address)
    if parsed is None:  # config.check_redis refused it already
        raise ValueError(f"not host:port: {address[:64]!r}")
    return parsed


def _as_redis(cluster: RedisCluster) -> Any:
    return cluster
