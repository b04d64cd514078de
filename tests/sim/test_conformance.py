"""Every recorded Asterisk transcript replays against the simulator with the same responses and events."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sim.replay import replay_file

TRANSCRIPTS = Path(__file__).resolve().parents[2] / ".." / "shared" / "asterisk-transcripts"
FILES = sorted(TRANSCRIPTS.glob("*.json")) if TRANSCRIPTS.is_dir() else []


@pytest.mark.skipif(not FILES, reason="asterisk-transcripts not present")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
async def test_transcript_replays_identically(path: Path) -> None:
    """Status codes, bodies and per-object event sequences match the recording from Asterisk 22.10.1."""
    failures = await replay_file(path)
    assert not failures, "\n\n".join(failures)
