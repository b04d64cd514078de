"""`--against REV`: the project at another commit, checked out in a temporary git worktree for the run.

The worktree is detached (no branch is created or moved) and removed afterwards, with `git worktree prune`;
the surge then runs the same load on it and on this tree, each in a child process (bench/surge.py).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def other_tree(rev: str) -> Iterator[Path]:
    """A checkout of ``rev`` (any git revision: a commit, a tag, a branch) in a temporary directory."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if commit.returncode != 0:
        raise ValueError(f"--against {rev!r}: not a commit of this repository ({commit.stderr.strip()})")
    parent = Path(tempfile.mkdtemp(prefix="bench-against-"))
    path = parent / commit.stdout.strip()[:12]
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(path), commit.stdout.strip()],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False, capture_output=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False, capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)
