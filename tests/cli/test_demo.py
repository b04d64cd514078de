"""`callcenter-ari demo` and `scripts/demo` as a person meets them: in a terminal, stopped with Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).parents[2]
CLI = [sys.executable, "-m", "callcenter_ari"]
NO_REDIS_URL = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # the demo starts a private Redis


def read_until(fd: int, done: Callable[[bytes], bool], timeout: float) -> tuple[bytes, bool]:
    """Read a pseudo-terminal's output until ``done(output)`` or its end (the process is gone); (output, done)."""
    output = b""
    deadline = time.monotonic() + timeout
    while not done(output) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side closed, the process has ended
            return output, done(output)
        if not chunk:
            return output, done(output)
        output += chunk
    return output, done(output)


def test_demo_finishes_by_itself_with_a_summary() -> None:
    """`demo --calls N` runs the whole call center on a private Redis and prints a summary."""
    result = subprocess.run(
        [*CLI, "demo", "--calls", "6", "--rate", "30", "--speed", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        env=NO_REDIS_URL,
    )
    assert result.returncode == 0, result.stderr
    assert "demo summary" in result.stdout
    assert "calls offered            6" in result.stdout
    assert "wallboard: http://127.0.0.1:" in result.stdout and "/pages/wallboard.html" in result.stdout
    assert result.stderr == ""  # the application's log went to its file, not over the view


@pytest.mark.slow
def test_ctrl_c_in_a_terminal_stops_the_demo_quickly_with_a_summary() -> None:
    """The demo in a terminal of its own, the foreground process group: the interrupt character, typed as a person
    presses Ctrl-C, reaches the demo and not its private Redis, which outlives the application's last writes; the
    demo prints its summary and exits 0 within seconds, and Redis is gone after it."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: session leader, the pseudo-terminal its controlling terminal
        os.execvpe(sys.executable, [*CLI, "demo", "--speed", "10"], NO_REDIS_URL)
    try:
        termios.tcsetwinsize(terminal, (40, 120))
        shown, live = read_until(terminal, lambda out: b"callcenter-ari demo" in out, timeout=60)
        assert live, shown.decode(errors="replace")
        demo = psutil.Process(pid)
        redis = [child for child in demo.children() if "redis" in child.name()]
        apart = [os.getpgid(r.pid) != os.getpgid(pid) for r in redis]  # not in the terminal's foreground group
        interrupt = termios.tcgetattr(terminal)[6][termios.VINTR]
        pressed = time.monotonic()
        os.write(terminal, interrupt)
        shown, ended = read_until(terminal, lambda out: b"the application's log" in out, timeout=30)
        _, status = os.waitpid(pid, 0)
        took = time.monotonic() - pressed
    finally:
        with contextlib.suppress(ChildProcessError):  # reaped already: the test got as far as waitpid
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        os.close(terminal)
    text = shown.decode(errors="replace")
    assert ended and "demo summary" in text, text[-2000:]
    assert os.waitstatus_to_exitcode(status) == 0
    assert took < 15  # the drain's grace (3 s) and the stop, not a minute of retries against a dead Redis
    assert "in Redis" in text and "flush_failed" not in text
    assert apart == [True]
    for r in redis:
        assert not r.is_running() or r.status() == psutil.STATUS_ZOMBIE


@pytest.mark.slow
def test_scripts_demo_says_what_it_does_while_it_installs() -> None:
    """`./scripts/demo` installs into .venv before the demo starts (a minute or two the first time): its first
    line comes while pip still runs, not after a blank screen."""
    process = subprocess.Popen(
        [str(REPO / "scripts" / "demo"), "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        still_installing = process.poll() is None
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert first.startswith("installing callcenter-ari") and still_installing
    assert process.returncode == 0, err
    assert "usage: callcenter-ari demo" in out
