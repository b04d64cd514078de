"""Every recorded Asterisk transcript replays against the simulator with the same responses and events.

The transcripts are part of the repository (transcripts/README.md says where they come from): a clone without them
fails here rather than skipping the comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sim.replay import replay_file

TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"
FILES = sorted(TRANSCRIPTS.glob("*.json"))
RECORDED = 15  # the scenarios recorded from Asterisk 22.10.1


def test_every_recorded_transcript_is_in_the_repository() -> None:
    assert len(FILES) == RECORDED, f"{len(FILES)} of {RECORDED} transcripts in {TRANSCRIPTS}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
async def test_transcript_replays_identically(path: Path) -> None:
    """Status codes, bodies and per-object event sequences match the recording from Asterisk 22.10.1."""
    failures = await replay_file(path)
    assert not failures, "\n\n".join(failures)
