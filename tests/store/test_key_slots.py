"""Redis Cluster layout: every script and every transaction of a tenant touches one hash slot.

Two facts make it so, each checked here without a server (slots computed with redis-py's own ``key_slot``):

- every key name ``Keys`` can build for a tenant (each of its methods and properties, found by introspection, so a
  new kind of key is checked the day it is added) hashes to the tenant's slot when the layout is hash-tagged;
- no key is built anywhere else: outside store/keys.py no code reads a ``Keys`` object's ``base`` or the key
  prefix to make a name, ``Keys`` is made only by ``store.connection.tenant_keys`` (the layout the mode needs), and
  every script the stores run takes its keys as ``KEYS`` (none builds a name inside Lua).

A script or a transaction can therefore only be given keys of one tenant, which share one slot. The real cluster
checks the same at run time (tests/processes/test_redis_cluster.py): a cross-slot script or transaction fails there.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from redis.crc import key_slot

from callcenter_ari.config import RedisSection
from callcenter_ari.store.connection import tenant_keys
from callcenter_ari.store.keys import _CAMPAIGN_PARTS, Keys

PACKAGE = Path(__file__).resolve().parents[2] / "callcenter_ari"

# Arguments that are not plain ids, with every value they may take.
CHOICES: dict[tuple[str, str], list[object]] = {
    ("directory", "kind"): ["agents", "queues"],
    ("campaign_part", "part"): sorted(_CAMPAIGN_PARTS),
    ("lead_import", "part"): ["", "rejects", "seen"],
    ("campaign_calls", "day"): ["2026-12-06"],
    ("ticket_sequence", "year"): [2026],
}


def every_key(keys: Keys) -> dict[str, list[str]]:
    """Each member of ``Keys`` with every key name it builds (the glob ``pattern`` aside: it names no key)."""
    found: dict[str, list[str]] = {}
    for name, member in inspect.getmembers(Keys):
        if name.startswith("_") or name in ("base", "pattern"):
            continue
        if isinstance(member, property):
            found[name] = [getattr(keys, name)]
            continue
        parameters = [p for p in inspect.signature(member).parameters if p != "self"]
        combinations: list[list[object]] = [[]]
        for parameter in parameters:
            values = CHOICES.get((name, parameter), ["x1", "Agent-7.b"])
            combinations = [[*combo, value] for combo in combinations for value in values]
        found[name] = [getattr(keys, name)(*combo) for combo in combinations]
    return found


@pytest.mark.parametrize("tenant", ["t1", "default", "hotline-north.2"])
def test_every_key_of_a_tenant_hashes_to_its_slot_in_a_cluster(tenant: str) -> None:
    keys = tenant_keys(RedisSection(mode="cluster", nodes=("127.0.0.1:7000",)), tenant)
    slot = key_slot(f"{{{tenant}}}".encode())
    built = every_key(keys)
    assert len(built) >= 40  # the introspection sees Keys' members
    strays = {name: names for name, names in built.items() if any(key_slot(k.encode()) != slot for k in names)}
    assert strays == {}


def test_without_a_cluster_the_layout_is_unchanged() -> None:
    """A single server and a Sentinel set keep ``<prefix>:<tenant>:...``: an upgrade finds its keys."""
    for section in (RedisSection(url="redis://127.0.0.1:6379/0"), RedisSection(mode="sentinel", service="s")):
        assert tenant_keys(section, "t1").agent("a1") == "cc:t1:agent:a1"
    assert tenant_keys(RedisSection(mode="cluster"), "t1").agent("a1") == "cc:{t1}:agent:a1"


def test_tenants_of_a_cluster_spread_over_its_slots() -> None:
    slots = {key_slot(tenant_keys(RedisSection(mode="cluster"), f"t{n}").events.encode()) for n in range(50)}
    assert len(slots) > 40


def sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "keys.py" or p.parent.name != "store")


# Reads of the prefix that build no key: the demo's glob that counts its records, and its closing message.
ALLOWED_PREFIX_READS = {
    ("demo/cli.py", 'f"{config.redis.prefix}:*:call:*"'),
    ("demo/cli.py", "the demo's keys stay in"),
}


def test_no_key_is_built_outside_keys() -> None:
    """Nothing outside store/keys.py reads ``.base`` or the key prefix to make a name, and ``Keys`` is made only
    where the layout follows the mode."""
    problems = []
    for path in sources():
        relative = str(path.relative_to(PACKAGE))
        tree = ast.parse(path.read_text(), relative)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "base":
                problems.append(f"{relative}:{node.lineno}: reads .base")
            if isinstance(node, ast.Attribute) and node.attr == "prefix" and relative != "store/connection.py":
                line = path.read_text().splitlines()[node.lineno - 1]
                if not any(relative == where and text in line for where, text in ALLOWED_PREFIX_READS):
                    problems.append(f"{relative}:{node.lineno}: reads the key prefix")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Keys":
                if relative != "store/connection.py":
                    problems.append(f"{relative}:{node.lineno}: makes Keys (store.connection.tenant_keys does)")
    assert problems == []


SCRIPT_KEY = re.compile(r"redis\.call\(\s*'[A-Za-z]+'\s*,\s*([^,)]+)")
# A command with a subcommand (XGROUP SETID): its key comes after the subcommand.
SUBCOMMAND_KEY = re.compile(r"redis\.call\(\s*'(?:XGROUP|XINFO)'\s*,\s*'[A-Za-z]+'\s*,\s*([^,)]+)")


def test_every_script_takes_its_keys_as_keys() -> None:
    """In every Lua script of the package, the first argument of each command is ``KEYS[...]``: a name built inside
    a script (from ARGV or by concatenation) would be invisible to the cluster's routing."""
    scripts = 0
    problems = []
    for path in sources():
        for constant in _lua_sources(path):
            scripts += 1
            for match in [*SCRIPT_KEY.finditer(constant), *SUBCOMMAND_KEY.finditer(constant)]:
                command, first = match.group(0).split("'")[1].upper(), match.group(1).strip()
                if command in ("TIME",) or (command in ("XGROUP", "XINFO") and match.re is SCRIPT_KEY):
                    continue
                if not first.startswith("KEYS["):
                    problems.append(f"{path.relative_to(PACKAGE)}: {command} {first}")
    assert scripts >= 12  # every script of the stores was found
    assert problems == []


def _lua_sources(path: Path) -> list[str]:
    """String constants that are Lua scripts (they call redis.call)."""
    tree = ast.parse(path.read_text())
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "redis.call(" in node.value
    ]
