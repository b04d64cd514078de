"""A redis-server of a test's own, which the test can stop and start again on the same port (without persistence:
started again, it is empty, as a Redis that lost its data)."""

from __future__ import annotations

import socket
import subprocess
import time

from callcenter_ari.demo.redis_server import redis_binary


class PrivateRedis:
    """A redis-server of the test's own, which it can stop and start again on the same port."""

    def __init__(self, workdir: str, *, persistent: bool = False) -> None:
        """``persistent``: an append-only file written at every command, so that a restart keeps everything."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.workdir = workdir
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else []
        command = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", self.workdir]
        self.process = subprocess.Popen([*command, *persistence], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)
