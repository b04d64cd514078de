"""genconf's output for the shipped hardware examples matches the reviewed golden files byte for byte.

After an intended change, regenerate with UPDATE_GOLDEN=1 and review the diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from callcenter_ari.dahdi.model import load
from callcenter_ari.dahdi.render import render_all
from callcenter_ari.dahdi.validate import Report, validate

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "dahdi" / "golden"
EXAMPLES = REPO / "hardware" / "dahdi" / "examples"


@pytest.mark.parametrize("example", ["e1-pri", "t1-pri", "fxo-4port", "fxs-8port"])
def test_example_renders_to_its_golden_files(example: str) -> None:
    """system.conf, the chan_dahdi include and the dialplan include are exactly as reviewed."""
    source = EXAMPLES / f"{example}.toml"
    cards = load(source)
    assert validate(cards).errors == ()
    rendered = render_all(cards, source.name)
    if os.environ.get("UPDATE_GOLDEN"):
        (GOLDEN / example).mkdir(parents=True, exist_ok=True)
        for name, text in rendered.items():
            (GOLDEN / example / name).write_text(text, encoding="utf-8")
    expected = {p.name: p.read_text(encoding="utf-8") for p in (GOLDEN / example).iterdir()}
    assert rendered == expected


def test_examples_produce_no_warnings() -> None:
    """The shipped examples are clean: every span grouped, a clock source where a carrier is connected."""
    for source in sorted(EXAMPLES.glob("*.toml")):
        assert validate(load(source)).warnings == (), source.name


def test_committed_generated_files_match_cards_toml() -> None:
    """hardware/dahdi/generated/ (copied into the Asterisk image) is up to date with cards.toml."""
    cards_toml = REPO / "hardware" / "dahdi" / "cards.toml"
    cards = load(cards_toml)
    assert validate(cards) == Report(errors=(), warnings=())
    generated = REPO / "hardware" / "dahdi" / "generated"
    committed = {p.name: p.read_text(encoding="utf-8") for p in generated.iterdir()}
    assert render_all(cards, cards_toml.name) == committed, (
        "run: callcenter-ari dahdi genconf --cards hardware/dahdi/cards.toml --out hardware/dahdi/generated"
    )
