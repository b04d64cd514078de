"""Redis topologies of a test's own on loopback, from the system's redis-server binary: a Sentinel set (a primary, a
replica and three sentinels) and a Redis Cluster of three primaries (``redis-cli --cluster create``). Every server
is a subprocess on a free port in the test's directory, killed at the end; none touches the shared Redis.

A sentinel is the redis-server binary started with ``--sentinel`` (Debian's redis-sentinel package adds only a
symlink of that name and a service; the symlink is used when it is installed)."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis as sync_redis

from callcenter_ari.demo.redis_server import redis_binary

SERVICE = "callcenter"


def free_port(*, below: int = 65536) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port < below:
            return port


def cluster_port() -> int:
    """A free port whose cluster bus port (10000 above it) exists and is free too."""
    while True:
        port = free_port(below=55536)
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port + 10000))
            return port


@dataclass
class Server:
    """One redis-server (or sentinel) process."""

    name: str
    port: int
    workdir: Path
    args: list[str]
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "server.log").open("ab")
        self.process = subprocess.Popen(self.args, stdout=log, stderr=log, cwd=self.workdir)
        wait_until(lambda: self.ping(), 10, f"{self.name} answering")

    def ping(self) -> bool:
        with contextlib.suppress(sync_redis.RedisError, OSError):
            return bool(self.client().ping())
        return False

    def client(self) -> sync_redis.Redis:
        return sync_redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing more sent to the replica."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def server(name: str, workdir: Path, *extra: str, port: int = 0) -> Server:
    port = port or free_port()
    directory = workdir / name
    args = [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--dir", str(directory), *extra]
    return Server(name, port, directory, args)


def sentinel_command(conf: Path) -> list[str]:
    found = shutil.which("redis-sentinel")
    return [found, str(conf)] if found else [redis_binary(), str(conf), "--sentinel"]  # the file comes first


@dataclass
class SentinelSet:
    primary: Server
    replica: Server
    sentinels: list[Server] = field(default_factory=list)

    @property
    def addresses(self) -> list[str]:
        return [s.address for s in self.sentinels]

    def current_primary(self) -> str | None:
        """The primary's address as the sentinels name it (None while none agrees on one)."""
        for sentinel in self.sentinels:
            with contextlib.suppress(sync_redis.RedisError, OSError):
                found = sentinel.client().sentinel_get_master_addr_by_name(SERVICE)
                if found:
                    host, port = found
                    return f"{host.decode() if isinstance(host, bytes) else host}:{port}"
        return None

    def stop(self) -> None:
        for member in [*self.sentinels, self.replica, self.primary]:
            member.kill()


@contextlib.contextmanager
def sentinel_set(workdir: Path, *, down_after_ms: int = 1000) -> Iterator[SentinelSet]:
    """A primary, its replica and three sentinels watching them (quorum 2), ready: the replica in sync and each
    sentinel knowing the replica and the two other sentinels."""
    primary = server("primary", workdir, "--repl-diskless-sync-delay", "0")  # the replica syncs at once
    group = SentinelSet(primary, server("replica", workdir, "--replicaof", "127.0.0.1", str(primary.port)))
    try:
        primary.start()
        group.replica.start()
        replication = group.replica.client().info
        wait_until(lambda: replication("replication").get("master_link_status") == "up", 15, "the replica in sync")
        # Each sentinel is told the replica and the other sentinels (by the ids it is given), as it would write
        # them itself after its first rounds of INFO and hello messages (tens of seconds): ready at once.
        ports = [free_port() for _ in range(3)]
        ids = [f"{n + 1:040x}" for n in range(3)]
        for n, port in enumerate(ports):
            directory = workdir / f"sentinel{n}"
            directory.mkdir(parents=True)
            conf = directory / "sentinel.conf"  # sentinels rewrite their file: one each, writable
            others = "".join(
                f"sentinel known-sentinel {SERVICE} 127.0.0.1 {ports[m]} {ids[m]}\n" for m in range(3) if m != n
            )
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {directory}\nsentinel myid {ids[n]}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {primary.port} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} {down_after_ms}\n"
                f"sentinel failover-timeout {SERVICE} 10000\n"
                f"sentinel parallel-syncs {SERVICE} 1\n"
                f"sentinel known-replica {SERVICE} 127.0.0.1 {group.replica.port}\n{others}"
            )
            member = Server(f"sentinel{n}", port, directory, sentinel_command(conf))
            group.sentinels.append(member)
            member.start()

        def ready() -> bool:
            for sentinel in group.sentinels:
                state = sentinel.client().sentinel_master(SERVICE)
                if int(state["num-slaves"]) < 1 or int(state["num-other-sentinels"]) < 2:
                    return False
            return True

        wait_until(ready, 20, "the sentinels knowing the replica and each other")
        yield group
    finally:
        group.stop()


@dataclass
class LocalCluster:
    nodes: list[Server]

    @property
    def addresses(self) -> list[str]:
        return [n.address for n in self.nodes]

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()


@contextlib.contextmanager
def local_cluster(workdir: Path, size: int = 3, *, replicas: int = 0) -> Iterator[LocalCluster]:
    """``size`` primaries (and ``replicas`` replicas of each) with ``--cluster-enabled yes``, the slots shared out
    by ``redis-cli --cluster create``; a primary silent for a second is failed over."""
    cli = shutil.which("redis-cli")
    assert cli is not None, "redis-cli is needed for a local cluster (Debian: redis-tools)"
    group = LocalCluster([])
    try:
        for n in range(size * (1 + replicas)):
            cluster_args = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
            cluster_args += ("--cluster-node-timeout", "1000", "--repl-diskless-sync-delay", "0")
            node = server(f"node{n}", workdir, *cluster_args, port=cluster_port())
            group.nodes.append(node)
            node.start()
        subprocess.run(
            [cli, "--cluster", "create", *group.addresses, "--cluster-replicas", str(replicas), "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        wait_until(
            lambda: all(n.client().cluster("info").get("cluster_state") == "ok" for n in group.nodes),
            30,
            "the cluster's state ok on every node",
        )
        yield group
    finally:
        group.stop()


def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(sync_redis.RedisError, OSError):
            if predicate():  # type: ignore[operator]
                return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
