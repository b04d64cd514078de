"""Real processes for the tests where "two processes", "a restart" and "a crash" mean exactly that: each app is a
``callcenter-ari run`` subprocess (killed with SIGKILL for a crash), on the real Redis, against a simulator served
over real HTTP and WebSocket by the test itself, so the test can read the media side (the simulator's bridges)."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx

from callcenter_ari.sim import SimConfig, Simulator

USER, PASSWORD = "callcenter", "proc-secret"
ADMIN_TOKEN = "proc-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_config(
    *,
    app_name: str,
    sim_url: str,
    redis_url: str,
    prefix: str,
    http_port: int,
    agents: Iterable[str],
    extra: dict[str, dict[str, Any]] | None = None,
) -> str:
    """A tenant ``t1`` served on Stasis application ``app_name``: DID 5552000 goes straight to queue support
    (no greeting), every agent of ``agents`` (``PJSIP/<agent>``) logged in from the start. ``extra``: tables
    merged over these, key by key (``{"queues.support": {"wrapup_seconds": 5}}``)."""
    tables: dict[str, dict[str, Any]] = {
        "app": {"tenant": "t1", "app_name": app_name, "shutdown_grace_seconds": 5},
        "ari": {
            "url": sim_url,
            "username": USER,
            "password": PASSWORD,
            "reconnect_initial_seconds": 0.05,
            "reconnect_max_seconds": 0.5,
            "request_timeout_seconds": 5,
        },
        "redis": {"url": redis_url, "prefix": prefix},
        "http": {"host": "127.0.0.1", "port": http_port},
        "log": {"level": "info"},
        "inbound": {"greeting": ""},
        "dids.5552000": {"queue": "support"},
        "queues.support": {"wrapup_seconds": 0, "ring_timeout_seconds": 10, "max_wait_seconds": 600},
        "api.tokens.admin": {"token": ADMIN_TOKEN, "role": "admin"},
    }
    for agent in agents:
        tables[f"agents.{agent}"] = {"endpoint": f"PJSIP/{agent}", "queues": ["support"], "logged_in": True}
    for name, values in (extra or {}).items():
        tables.setdefault(name, {}).update(values)
    return "".join(
        f"[{name}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in values.items()) for name, values in tables.items()
    )


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(str(value))  # a TOML basic string is a JSON string


@dataclass
class AppProcess:
    """One ``callcenter-ari run``: started, killed and started again on the same configuration."""

    name: str
    config: Path
    log: Path
    http_port: int
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        env = {key: value for key, value in os.environ.items() if not key.startswith("CALLCENTER_")}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "callcenter_ari", "run", "--config", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=env,
            )

    async def ready(self, timeout: float = 30.0) -> None:
        url = f"http://127.0.0.1:{self.http_port}/ready"
        async with httpx.AsyncClient() as http:
            with anyio.fail_after(timeout):
                while True:
                    assert self.process is not None and self.process.poll() is None, self.tail()
                    try:
                        if (await http.get(url, timeout=1.0)).status_code == 200:
                            return
                    except httpx.HTTPError:
                        pass
                    await anyio.sleep(0.05)

    def kill(self) -> None:
        """A crash: SIGKILL, no drain, no last flush."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise

    def pause(self) -> None:
        """SIGSTOP: the process is frozen (a stall, a long GC pause, a VM migration) until ``resume``."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def exited(self, timeout: float) -> int:
        """The exit status, waiting up to ``timeout`` seconds for it."""
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:]) if self.log.exists() else ""

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.http_port}/api/v1",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=10.0,
        )


@dataclass
class Cluster:
    """Processes of one tenant on one Redis and one simulator."""

    sim: Simulator
    sim_url: str
    redis_url: str
    prefix: str
    workdir: Path
    apps: dict[str, AppProcess] = field(default_factory=dict)

    def add(
        self,
        app_name: str,
        *,
        agents: Iterable[str],
        extra: dict[str, dict[str, Any]] | None = None,
        name: str = "",
    ) -> AppProcess:
        """A process on Stasis application ``app_name``; ``name`` (by default the application's) tells apart two
        processes of one application (a hot standby pair)."""
        name = name or app_name
        port = free_port()
        text = app_config(
            app_name=app_name,
            sim_url=self.sim_url,
            redis_url=self.redis_url,
            prefix=self.prefix,
            http_port=port,
            agents=agents,
            extra=extra,
        )
        config = self.workdir / f"{name}.toml"
        config.write_text(text)
        app = AppProcess(name, config, self.workdir / f"{name}.log", port)
        self.apps[name] = app
        return app

    def stop_all(self) -> None:
        for app in self.apps.values():
            if app.process is not None and app.process.poll() is None:
                app.process.kill()
                app.process.wait(timeout=10)


@contextlib.asynccontextmanager
async def simulated(redis_url: str, prefix: str, workdir: Path, *, seed: int) -> AsyncIterator[Cluster]:
    """A simulator of Stasis application cc1 on a real clock over real sockets, and room for app processes of
    tenant t1 on ``redis_url`` (empty: the processes' ``[redis]`` says how to reach it); all killed at the end."""
    sim = Simulator(SimConfig(app="cc1", username=USER, password=PASSWORD, seed=seed, clock="real"))
    async with sim.serve(host="127.0.0.1", port=0) as server:
        group = Cluster(sim, server.base_url, redis_url, prefix, workdir)
        try:
            yield group
        finally:
            group.stop_all()


def conversations(sim: Simulator, agents: str = "PJSIP/agent") -> dict[str, list[tuple[float, float, str]]]:
    """From the simulator's bridge log: for every agent phone (channels named ``agents``...), each span it spent in
    a bridge with at least one other channel, as (start, end, bridge id)."""
    members: dict[str, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    inside: dict[str, tuple[float, str]] = {}  # agent channel id -> (entered at, bridge) while in a bridge
    spans: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for at, event, bridge, channel, name in sim.core.bridge_log:
        names[channel] = name
        if event == "enter":
            members[bridge].add(channel)
            if name.startswith(agents):
                inside[channel] = (at, bridge)
        else:
            members[bridge].discard(channel)
            if channel in inside:
                start, where = inside.pop(channel)
                spans[_endpoint(name)].append((start, at, where))
    now = sim.clock.now()
    for channel, (start, where) in inside.items():
        spans[_endpoint(names[channel])].append((start, now, where))
    return spans


def overlaps(spans: dict[str, list[tuple[float, float, str]]]) -> list[tuple[str, tuple[float, float, str]]]:
    """Every span of an agent that starts before their previous one ended: an agent in two conversations."""
    found = []
    for agent, agent_spans in spans.items():
        ordered = sorted(agent_spans)
        for before, after in itertools.pairwise(ordered):
            if after[0] < before[1] and after[2] != before[2]:
                found.append((agent, after))
    return found


def _endpoint(channel_name: str) -> str:
    """``PJSIP/agent3-0000002a`` -> ``agent3``."""
    return channel_name.split("/", 1)[1].rsplit("-", 1)[0]


async def until(
    predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition", every: float = 0.05
) -> Any:
    """``predicate()``'s first true value (awaited if it is awaitable), polled every ``every`` seconds of wall time."""
    try:
        with anyio.fail_after(timeout):
            while True:
                value = predicate()
                if hasattr(value, "__await__"):
                    value = await value
                if value:
                    return value
                await anyio.sleep(every)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
