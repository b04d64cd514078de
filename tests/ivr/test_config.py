"""The TOML shape decodes strictly into frozen Structs; typos are refused, not ignored."""

from __future__ import annotations

import tomllib

import msgspec
import pytest

from callcenter_ari.ivr import CollectNode, IvrConfig, MenuNode

TOML = """
[flows.main]
start = "m"

[flows.main.nodes.m]
kind = "menu"
prompt = ["main-menu"]
options = { "1" = "q" }
fallback = "q"

[flows.main.nodes.c]
kind = "collect"
prompt = ["enter"]
variable = "account"
next = "q"
fallback = "q"

[flows.main.nodes.q]
kind = "queue"
queue = "general"
"""


def decode(text: str) -> IvrConfig:
    return msgspec.convert(tomllib.loads(text), IvrConfig, strict=True)


def test_nodes_decode_by_kind_with_defaults() -> None:
    ivr = decode(TOML)
    menu = ivr.flows["main"].nodes["m"]
    assert isinstance(menu, MenuNode)
    assert (menu.timeout, menu.max_retries, menu.interruptible) == (5.0, 2, True)
    collect = ivr.flows["main"].nodes["c"]
    assert isinstance(collect, CollectNode)
    assert (collect.terminator, collect.min_length, collect.max_length, collect.confirm) == ("#", 1, 16, False)


def test_structs_are_frozen() -> None:
    ivr = decode(TOML)
    with pytest.raises(AttributeError):
        ivr.flows["main"].start = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (('kind = "menu"', 'kind = "menuu"'), "Invalid value 'menuu'"),
        (('fallback = "q"\n\n[flows.main.nodes.c]', 'fallbak = "q"\n\n[flows.main.nodes.c]'), "unknown field"),
        (('variable = "account"', "variable = 3"), "Expected `str`, got `int`"),
        (('queue = "general"', 'queue = "general"\npriority = 1000'), "Expected `int` <= 100"),
        (('variable = "account"', 'variable = "account"\nmax_length = 0'), "Expected `int` >= 1"),
        (('variable = "account"', 'variable = "account"\nterminator = "5"'), "Invalid enum value '5'"),
    ],
)
def test_bad_values_are_refused(replace: tuple[str, str], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        decode(TOML.replace(*replace, 1))
