"""Sampling profiles of the measured process with py-spy (attached from outside, so the overhead is small).

`Sampler` records collapsed stacks while a benchmark runs; `summarize` turns them into the two views that
point at a fix: self time by package (where the CPU goes: asyncio, websockets, redis, our code) and inclusive
time by function of our own code (which of our functions cost the most, callees included).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]+)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


class Sampler:
    """Context manager: py-spy samples this process while the block runs (a no-op if py-spy is missing)."""

    def __init__(self, rate: int = 250) -> None:
        self.rate = rate
        self.path = Path(tempfile.mkdtemp(prefix="bench-spy-")) / "stacks.txt"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Sampler:
        exe = py_spy()
        if exe is not None:
            self._process = subprocess.Popen(
                [
                    exe,
                    "record",
                    "--pid",
                    str(os.getpid()),
                    "--rate",
                    str(self.rate),
                    "--format",
                    "raw",
                    "--output",
                    str(self.path),
                    "--nonblocking",
                    "--full-filenames",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def summary(self, top: int = 15) -> Profile | None:
        return summarize(self.path.read_text(), top) if self.path.exists() else None


@dataclass
class Profile:
    samples: int
    by_package: list[tuple[str, float]]  # self time share
    own_inclusive: list[tuple[str, float]]  # our functions, inclusive share
    own_self: list[tuple[str, float]]  # our functions, self share


def _package(path: str) -> str:
    if "callcenter_ari/" in path:
        return "callcenter_ari/" + path.split("callcenter_ari/", 1)[1]
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/bench/" in path:
        return "bench (probes)"
    parent = Path(path).parent.name
    return f"stdlib {parent}" if parent in ("asyncio", "json", "re") else f"stdlib {Path(path).name}"


def summarize(text: str, top: int = 15) -> Profile:
    total = 0
    packages: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own_self: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_FRAME.match(frame) for frame in stack.split(";")]
        parsed = [(m.group("func"), m.group("file")) for m in frames if m is not None]
        if not parsed:
            continue
        func, path = parsed[-1]
        packages[_package(path)] += count
        if "callcenter_ari/" in path:
            own_self[f"{func} ({_package(path)})"] += count
        seen: set[str] = set()
        for func, path in parsed:
            if "callcenter_ari/" in path:
                name = f"{func} ({_package(path)})"
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += count
    share = 1.0 / total if total else 0.0

    def ranked(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, count * share) for name, count in counter.most_common(top)]

    merged: Counter[str] = Counter()
    for name, count in packages.items():
        merged[name.split("/")[0] + "/" + name.split("/")[1] if name.startswith("callcenter_ari/") else name] += count
    return Profile(total, ranked(merged), ranked(inclusive), ranked(own_self))
