"""`callcenter-ari dahdi genconf` validates, summarises and writes the three generated files."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from callcenter_ari.dahdi import cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "hardware" / "dahdi" / "examples" / "e1-pri.toml"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="callcenter-ari")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["dahdi", "genconf", *argv])
    return int(args.func(args))


def test_genconf_writes_the_generated_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--out gets system.conf and both includes, identical to the golden files."""
    assert run("--cards", str(EXAMPLE), "--out", str(tmp_path)) == 0
    golden = REPO / "tests" / "dahdi" / "golden" / "e1-pri"
    for expected in golden.iterdir():
        assert (tmp_path / expected.name).read_text() == expected.read_text()
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'system.conf'}" in out


def test_check_only_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--check writes nothing and reports OK."""
    assert run("--cards", str(EXAMPLE), "--check") == 0
    assert "OK" in capsys.readouterr().out


def test_refused_description_exits_1_with_reasons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Errors go to stderr, each naming its key; nothing is written."""
    bad = tmp_path / "cards.toml"
    bad.write_text(EXAMPLE.read_text().replace('coding = "hdb3"', 'coding = "b8zs"', 1))
    out_dir = tmp_path / "out"
    assert run("--cards", str(bad), "--out", str(out_dir)) == 1
    err = capsys.readouterr().err
    assert "refused" in err and "span[0] (span 1, E1).coding: b8zs is T1 line coding" in err
    assert not out_dir.exists()


def test_missing_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--cards", str(tmp_path / "nope.toml"), "--check") == 1
    assert "cannot read" in capsys.readouterr().err


def test_out_or_check_is_required() -> None:
    with pytest.raises(SystemExit):
        run("--cards", str(EXAMPLE))
