"""The URL mode's client packs commands with hiredis: the bytes redis-py's own packer makes, for every kind of
argument the stores send, and a real server takes them."""

from __future__ import annotations

import hiredis
import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from callcenter_ari.store.connection import HiredisPacking, client_for_url, hiredis_packing

ARGS = [
    ("SET", "k", "v"),
    ("EVAL", "return 1", 2, "a", b"b", 1.5, 10**20, -3, 0.1, 1e-7, "caf\u00e9", b"\x00\xff"),
    ("XADD", "s", "MAXLEN", "~", 1000, "*", "kind", "call.queued", "data", b'{"call_id":"c1"}'),
]


@pytest.mark.parametrize("args", ARGS)
def test_hiredis_packs_the_bytes_redis_py_packs(args: tuple[object, ...]) -> None:
    ours = hiredis_packing(Connection)()
    assert isinstance(ours, HiredisPacking)
    assert b"".join(ours.pack_command(*args)) == b"".join(Connection().pack_command(*args))
    assert b"".join(ours.pack_commands(ARGS)) == b"".join(Connection().pack_commands(ARGS))


def test_a_command_name_of_two_words_is_sent_as_two_arguments() -> None:
    packed = b"".join(hiredis_packing(Connection)().pack_command("SCRIPT LOAD", "return 1"))
    assert packed == hiredis.pack_command(("SCRIPT", "LOAD", "return 1"))


def test_what_hiredis_refuses_goes_to_redis_pys_packer() -> None:
    ours = hiredis_packing(Connection)()
    view = memoryview(b"value")
    assert b"".join(ours.pack_command("SET", "k", view)) == b"".join(Connection().pack_command("SET", "k", view))
    with pytest.raises(DataError):
        ours.pack_command("SET", "k", None)


async def test_a_client_by_url_speaks_to_redis_through_hiredis(redis_url: str, key_prefix: str) -> None:
    client: Redis = client_for_url(redis_url)
    try:
        key = f"{key_prefix}:packed"
        sha = await client.script_load("return redis.call('SET', KEYS[1], ARGV[1])")
        await client.evalsha(sha, 1, key, "caf\u00e9")
        async with client.pipeline(transaction=True) as pipe:
            pipe.append(key, b"\x00")
            pipe.get(key)
            _, value = await pipe.execute()
        assert value == "caf\u00e9".encode() + b"\x00"
        connection = await client.connection_pool.get_connection()
        try:
            assert isinstance(connection, HiredisPacking)
        finally:
            await client.connection_pool.release(connection)
        await client.delete(key)
    finally:
        await client.aclose()
