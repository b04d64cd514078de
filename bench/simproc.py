"""The ARI simulator as a separate process (`callcenter-ari sim`), and a small client for its /sim control API."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psutil

SIM_USER = "asterisk"
SIM_PASSWORD = "bench-secret"
_LISTENING = re.compile(r"listening on (http://\S+)/ari")


@dataclass
class SimProcess:
    base_url: str
    process: subprocess.Popen[str]

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.process.pid)

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)


def measured_tree_lists_replies() -> bool:
    """Whether the measured tree's ARI client puts RESTResponse in its event filter, read from its file (as the
    harness reads which modules a tree has): one that does not would get no reply from this simulator, as from a
    real Asterisk 22, and is measured with the replies unfiltered instead."""
    import callcenter_ari

    client = Path(callcenter_ari.__file__).resolve().parent / "ari" / "client.py"
    return '"RESTResponse"' in client.read_text()


@contextlib.contextmanager
def simulator(seed: int = 1, *, filter_replies: bool = True) -> Iterator[SimProcess]:
    """Start `callcenter-ari sim` on a free loopback port and stop it (by its pid) on exit. ``filter_replies``:
    False for a measured commit whose event filter does not list RESTResponse (see ``measured_tree_lists_replies``)."""
    exe = Path(sys.executable).with_name("callcenter-ari")
    env = {**os.environ, "SIM_ARI_PASSWORD": SIM_PASSWORD}
    extra = [] if filter_replies else ["--replies-unfiltered"]
    process = subprocess.Popen(
        [str(exe), "sim", "--host", "127.0.0.1", "--port", "0", "--seed", str(seed), "--username", SIM_USER, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = _LISTENING.search(line)
        if match is None:
            raise RuntimeError(f"simulator did not start: {line!r}")
        yield SimProcess(match.group(1), process)
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class SimControl:
    """The simulator's control API (/sim/...), over one aiohttp session."""

    def __init__(self, base_url: str) -> None:
        self._base = base_url
        self._session = aiohttp.ClientSession(auth=aiohttp.BasicAuth(SIM_USER, SIM_PASSWORD))

    async def __aenter__(self) -> SimControl:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._session.close()

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        async with self._session.request(method, f"{self._base}{path}", json=body) as reply:
            reply.raise_for_status()
            return await reply.json()

    async def add_phone(self, endpoint: str, answer_after: float, talk: float | None) -> None:
        await self._call("POST", "/sim/phones", {"endpoint": endpoint, "answer_after": answer_after, "talk": talk})

    async def traffic(self, calls: int, rate: float | None, script: dict[str, Any], did: str = "5551000") -> None:
        body = {"calls": calls, "rate": rate, "dids": [did], "mix": [{"script": script, "weight": 1.0}]}
        await self._call("POST", "/sim/traffic", body)

    async def traffic_status(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/sim/traffic")  # type: ignore[no-any-return]

    async def stop_traffic(self) -> None:
        await self._call("DELETE", "/sim/traffic")

    async def call(self, did: str, caller: str) -> str:
        reply = await self._call("POST", "/sim/calls", {"did": did, "caller": caller})
        return str(reply["channel_id"])

    async def stats(self) -> dict[str, Any]:
        return await self._call("GET", "/sim/stats")  # type: ignore[no-any-return]
