"""What Redis replies with, as the stores use it: text from bytes, stream entries as (id, fields).

redis-py types its replies loosely (``bytes | str``, ``Any``); these few functions give the stores one typed way in.
"""

from __future__ import annotations

from typing import Any

StreamEntry = tuple[str, dict[bytes, bytes]]


def text(value: bytes | str) -> str:
    """A reply's bytes as text (a client made with ``decode_responses`` already gives text)."""
    return value.decode() if isinstance(value, bytes) else value


def entries(rows: Any) -> list[StreamEntry]:
    """XRANGE / XREVRANGE rows as (stream id, fields)."""
    return [(text(ident), fields) for ident, fields in rows or ()]


def read_entries(reply: Any) -> list[StreamEntry]:
    """An XREAD / XREADGROUP reply's entries, of every stream it names, in order."""
    return [entry for _, rows in reply or () for entry in entries(rows)]


def members(reply: Any) -> list[str]:
    """A set's or sorted set's members (SMEMBERS, ZRANGE) as text."""
    return [text(member) for member in reply]


def scored(reply: Any) -> list[tuple[str, float]]:
    """ZRANGE ... WITHSCORES as (member, score)."""
    return [(text(member), float(score)) for member, score in reply]
