"""compose.yaml's `scale` profile, checked without a Docker engine: the file against the Compose Specification's
JSON schema, the profile's services (two Asterisk servers, an app and its standby for each, a Redis Sentinel set),
what each app process is pointed at (its Asterisk, its node, the sentinels), every configuration file it mounts
(present, and passing ``callcenter-ari check-config``), no Redis or Sentinel port published on the host, and the
data nodes' and sentinels' start scripts run for real against redis-server and redis-sentinel on loopback.

The schema is vendored: tests/deploy/schema/compose-spec.json is schema/compose-spec.json of the repository
compose-spec/compose-spec (commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6, 2026-06-23; Apache License 2.0).
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import redis
from asterisk_files import REPO, Section, read_config
from test_asterisk_config import LINT_CONFIG

SCHEMA = Path(__file__).with_name("schema") / "compose-spec.json"
SCALE = REPO / "docker" / "scale"
NODES = ("east", "west")
SCALE_SERVICES = {
    "asterisk-east",
    "asterisk-west",
    "app-east",
    "app-east-standby",
    "app-west",
    "app-west-standby",
    "redis-primary",
    "redis-replica",
    "sentinel-1",
    "sentinel-2",
    "sentinel-3",
}
CONFIG_TARGET = "/etc/callcenter-ari/callcenter.toml"


def raw() -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text())
    return data


def env_example() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


# ---- services as Compose resolves `extends` (05-services.md, "Merging service definitions") ------------------

_MAPPINGS = ("environment", "healthcheck", "networks", "depends_on", "labels", "extra_hosts")
_BY_TARGET = ("volumes", "devices")
_SEQUENCES = ("profiles", "ports", "expose", "cap_add", "cap_drop", "group_add")


def service(name: str, services: dict[str, Any] | None = None) -> dict[str, Any]:
    services = services if services is not None else raw()["services"]
    main = copy.deepcopy(services[name])
    parent_name = main.pop("extends", {}).get("service")
    if parent_name is None:
        return main
    merged = service(parent_name, services)
    for key, value in main.items():
        if key in _MAPPINGS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        elif key in _BY_TARGET:
            kept = {_target(v): v for v in merged.get(key, [])}
            kept.update({_target(v): v for v in value})
            merged[key] = list(kept.values())
        elif key in _SEQUENCES:
            merged[key] = list(dict.fromkeys([*merged.get(key, []), *value]))
        else:
            merged[key] = value
    return merged


def _target(volume: str) -> str:
    return volume.split(":")[1]


def mounted(spec: dict[str, Any], target: str) -> Path:
    (source,) = [v.split(":")[0] for v in spec.get("volumes", []) if _target(v) == target]
    assert source.startswith("./"), source
    return REPO / source


def ipv4(spec: dict[str, Any]) -> str:
    return str(spec["networks"]["redis-net"]["ipv4_address"])


def http_port(spec: dict[str, Any], config: dict[str, Any]) -> int:
    command = spec["command"]
    return int(command[command.index("--http-port") + 1]) if "--http-port" in command else int(config["http"]["port"])


def load_toml(path: Path) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(path.read_text())


def node_sections(node: str, name: str) -> list[Section]:
    return read_config(mounted(service(f"asterisk-{node}"), f"/etc/asterisk/{name}"))


# ---- the specification ----------------------------------------------------------------------------------------


def spec_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_follows_the_compose_specification() -> None:
    """Every service, network and volume of compose.yaml (all profiles) as the specification's schema allows."""
    assert spec_errors(raw()) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "redis-primary", "netwrok_mode"), "host"),  # a misspelt key
        (("services", "app-east", "restart"), ["always"]),  # a list for a string
        (("services", "app-east", "depends_on"), 5),  # a number for a list or a mapping
    ],
)
def test_the_schema_check_really_checks(path: tuple[str, ...], value: object) -> None:
    """The same check fails a file with each kind of mistake, so a silent pass means something."""
    document = raw()
    place = document
    for key in path[:-1]:
        place = place[key]
    place[path[-1]] = value
    assert spec_errors(document)


# ---- the profile ----------------------------------------------------------------------------------------------


def test_the_scale_profile_has_two_nodes_each_with_an_app_and_its_standby_and_a_sentinel_set() -> None:
    """`--profile scale`: two Asterisk servers (the image's Asterisk with each server's files), an app process
    and a standby per server (every one under the node's lease), a primary, a replica of it, three sentinels."""
    services = raw()["services"]
    scale = {name for name in services if "scale" in service(name).get("profiles", [])}
    assert scale == SCALE_SERVICES
    for node in NODES:
        assert service(f"asterisk-{node}")["image"] == service("asterisk")["image"]
        for name in (f"app-{node}", f"app-{node}-standby"):
            app = service(name)
            assert app["image"] == service("app")["image"] and app["network_mode"] == "host"
            assert app["command"][:5] == ["callcenter-ari", "run", "--config", CONFIG_TARGET, "--standby"]
            assert {f"sentinel-{n}" for n in (1, 2, 3)} <= set(app["depends_on"])
    assert service("redis-replica")["environment"]["REDIS_REPLICAOF"] == f"{ipv4(service('redis-primary'))}:6379"
    for n in (1, 2, 3):
        sentinel = service(f"sentinel-{n}")
        assert sentinel["environment"]["SENTINEL_PRIMARY"] == f"{ipv4(service('redis-primary'))}:6379"
        assert sentinel["environment"]["SENTINEL_QUORUM"] == "2"
    addresses = [ipv4(service(n)) for n in ("redis-primary", "redis-replica", "sentinel-1", "sentinel-2", "sentinel-3")]
    assert len(set(addresses)) == 5


def test_the_documented_command_replaces_the_single_server_services() -> None:
    """The single-server services have no profile (they start with any): the scale command scales them to 0, as
    the file's header and the deployment guide say."""
    command = "docker compose --profile scale up -d --build --scale asterisk=0 --scale app=0 --scale redis=0"
    header = (REPO / "compose.yaml").read_text().split("\nname:")[0]
    assert " ".join(command.split()[2:]) in " ".join(header.split())
    assert command in (REPO / "docs" / "DEPLOYMENT.md").read_text()
    assert "--profile scale" in (REPO / "README.md").read_text()


def test_no_redis_or_sentinel_port_is_published_on_the_host() -> None:
    """Every Redis and Sentinel (image redis) publishes no port and stays off the host's network: the single
    server on a Unix socket only (``--port 0``), the scale profile's only on internal networks. No service
    anywhere publishes 6379 or 26379."""
    data = raw()
    networks = data.get("networks", {})
    redis_services = [name for name in data["services"] if service(name).get("image", "").startswith("redis:")]
    assert {"redis", "redis-primary", "redis-replica", "sentinel-1", "sentinel-2", "sentinel-3"} == set(redis_services)
    for name in redis_services:
        spec = service(name)
        assert "ports" not in spec and "network_mode" not in spec, name
        joined = spec.get("networks") or {}
        assert all(networks[net].get("internal") is True for net in joined), name
        if not joined:
            assert ["--port", "0"] == spec["command"][spec["command"].index("--port") :][:2], name
    for name in data["services"]:
        published = [str(p) for p in service(name).get("ports", [])]
        assert not any(re.search(r"\b(6379|26379)\b", p) for p in published), name
    for script in ("redis.sh", "sentinel.sh"):
        assert "bind " not in (SCALE / script).read_text()  # the container's own interfaces: redis-net only


def test_every_variable_the_compose_file_needs_is_in_env_example() -> None:
    used = set(re.findall(r"\$\{([A-Z_]+)", (REPO / "compose.yaml").read_text()))
    assert {"REDIS_PASSWORD", "ARI_PASSWORD"} <= used
    assert used <= set(env_example())


# ---- what each app process is pointed at ----------------------------------------------------------------------


@pytest.mark.parametrize("node", NODES)
def test_each_nodes_apps_serve_their_own_asterisk_on_the_sentinel_set(node: str) -> None:
    """app-<node> and its standby mount one file: node <node>, ARI at the port that server's http.conf binds on
    loopback, Redis through the three sentinels at their addresses under the name they monitor."""
    active, standby = service(f"app-{node}"), service(f"app-{node}-standby")
    path = mounted(active, CONFIG_TARGET)
    assert mounted(standby, CONFIG_TARGET) == path == REPO / "examples" / "scale" / f"{node}.toml"
    config = load_toml(path)
    assert config["app"]["node"] == node
    (http,) = node_sections(node, "http.conf")
    assert (http.get("bindaddr"), config["ari"]["url"]) == ("127.0.0.1", f"http://127.0.0.1:{http.get('bindport')}")
    assert config["redis"]["mode"] == "sentinel"
    sentinels = [f"{ipv4(service(f'sentinel-{n}'))}:26379" for n in (1, 2, 3)]
    assert config["redis"]["sentinels"] == sentinels
    assert config["redis"]["service"] == service("sentinel-1")["environment"]["SENTINEL_SERVICE"]
    assert config["redis"]["password"] == "${REDIS_PASSWORD}"


def test_every_process_on_the_host_network_has_ports_of_its_own() -> None:
    """On one host: the four app processes' HTTP ports differ from each other and from the single-server app's,
    each health check asks its own process; the two servers' SIP, ARI and RTP ports do not overlap."""
    ports = {}
    for node in NODES:
        for name in (f"app-{node}", f"app-{node}-standby"):
            spec = service(name)
            ports[name] = http_port(spec, load_toml(mounted(spec, CONFIG_TARGET)))
            assert f"http://127.0.0.1:{ports[name]}/health" in " ".join(spec["healthcheck"]["test"]), name
    assert sorted(ports.values()) == [8080, 8081, 8082, 8083]
    sip = [next(s.get("bind") for s in node_sections(n, "pjsip_node.conf") if s.name == "transport-udp") for n in NODES]
    ari = [node_sections(n, "http.conf")[0].get("bindport") for n in NODES]
    assert len(set(sip)) == 2 and len(set(ari)) == 2
    ranges = []
    for node in NODES:
        (rtp,) = node_sections(node, "rtp.conf")
        ranges.append(range(int(rtp.get("rtpstart") or 0), int(rtp.get("rtpend") or 0) + 1))
    assert not set(ranges[0]) & set(ranges[1]) and all(len(r) >= 1000 for r in ranges)


@pytest.mark.parametrize("node", NODES)
def test_the_trunk_to_each_peer_is_the_one_the_apps_name(node: str) -> None:
    """On <node>, the endpoint of the trunk to the other server is named as the apps' servers.<peer>.peer_trunk,
    reaches the peer's SIP port, and its calls enter [from-peer] (which rings only agent phones)."""
    (peer,) = [n for n in NODES if n != node]
    config = load_toml(REPO / "examples" / "scale" / f"{node}.toml")
    trunk = config["servers"][peer]["peer_trunk"]
    sections = {(s.name, s.get("type")): s for s in node_sections(node, "pjsip_node.conf")}
    assert sections[trunk, "endpoint"].get("context") == "from-peer"
    peer_bind = next(s.get("bind") for s in node_sections(peer, "pjsip_node.conf") if s.name == "transport-udp")
    assert sections[trunk, "aor"].get("contact") == f"sip:127.0.0.1:{str(peer_bind).rsplit(':', 1)[1]}"
    assert sections[trunk, "identify"].get("endpoint") == trunk
    agents = {a["endpoint"]: a.get("server") for a in config["agents"].values()}
    assert set(agents.values()) == set(NODES)  # a phone on each server: one is rung over the trunk


@pytest.mark.parametrize("path", sorted(SCALE.glob("*/*.conf")), ids=lambda p: str(p.relative_to(SCALE)))
def test_the_node_asterisk_files_pass_asterisklint(path: Path, tmp_path: Path) -> None:
    copy_ = tmp_path / path.name
    shutil.copy(path, copy_)
    result = subprocess.run(
        [sys.executable, "-c", LINT_CONFIG, str(copy_)], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_every_file_the_compose_file_mounts_exists_and_every_app_config_passes_check_config() -> None:
    """Bind mounts of every service (all profiles, `extends` resolved) point at repository files; every app
    configuration among them passes `callcenter-ari check-config` with the variables of .env.example."""
    configs = set()
    for name in raw()["services"]:
        spec = service(name)
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).is_file(), (name, source)
                if _target(volume) == CONFIG_TARGET:
                    configs.add(REPO / source)
    assert configs == {
        REPO / "examples" / "callcenter.toml",
        *(REPO / "examples" / "scale" / f"{n}.toml" for n in NODES),
    }
    environ = {**{k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}, **env_example()}
    for path in sorted(configs):
        result = subprocess.run(
            [sys.executable, "-m", "callcenter_ari", "check-config", str(path)],
            capture_output=True,
            text=True,
            env=environ,
            check=False,
        )
        assert result.returncode == 0, (path, result.stdout, result.stderr)
        assert "OK" in result.stdout + result.stderr


# ---- the start scripts, for real --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: Any, what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except redis.RedisError:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        process.kill()
        process.wait(timeout=10)


PASSWORD = "scale-test-0123456789"


def _script(name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            ["sh", str(SCALE / name)], env={"PATH": os.environ["PATH"], **env}, stdout=out, stderr=out
        )


@pytest.mark.skipif(not shutil.which("redis-server"), reason="no redis-server here (CI installs it)")
def test_the_start_scripts_make_a_primary_a_replica_and_a_sentinel_that_finds_them(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    """redis.sh (a primary, then a replica of it) and sentinel.sh, as the profile runs them but on loopback ports:
    the data nodes ask for the password, the replica replicates, the sentinel names the primary under the
    service name and knows the replica; the written files are readable by their owner only."""
    primary_port, replica_port, sentinel_port = _free_port(), _free_port(), _free_port()
    for name, port, replicaof in (
        ("primary", primary_port, ""),
        ("replica", replica_port, f"127.0.0.1:{primary_port}"),
    ):
        (tmp_path / name).mkdir()
        env = {"REDIS_PASSWORD": PASSWORD, "REDIS_PORT": str(port), "REDIS_CONF": str(tmp_path / name / "redis.conf")}
        if replicaof:
            env["REDIS_REPLICAOF"] = replicaof
        started.append(_script("redis.sh", env, tmp_path / f"{name}.log"))
    (tmp_path / "sentinel").mkdir()
    started.append(
        _script(
            "sentinel.sh",
            {
                "REDIS_PASSWORD": PASSWORD,
                "SENTINEL_PRIMARY": f"127.0.0.1:{primary_port}",
                "SENTINEL_SERVICE": "callcenter",
                "SENTINEL_QUORUM": "1",
                "SENTINEL_PORT": str(sentinel_port),
                "SENTINEL_CONF": str(tmp_path / "sentinel" / "sentinel.conf"),
            },
            tmp_path / "sentinel.log",
        )
    )
    primary = redis.Redis(port=primary_port, password=PASSWORD)
    replica = redis.Redis(port=replica_port, password=PASSWORD)
    sentinel = redis.Redis(port=sentinel_port)
    _wait(primary.ping, "the primary")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=primary_port).ping()
    primary.set("scale-test", "1")
    _wait(lambda: replica.get("scale-test") == b"1", "the replica to replicate")
    assert replica.info("replication")["role"] == "slave"
    master = _wait(lambda: sentinel.sentinel_get_master_addr_by_name("callcenter"), "the sentinel")
    assert tuple(master) == (b"127.0.0.1", primary_port)
    found = "the sentinel to find the replica"
    _wait(lambda: sentinel.sentinel_master("callcenter")["num-slaves"] == 1, found, timeout=30)
    for conf in (tmp_path / "primary" / "redis.conf", tmp_path / "sentinel" / "sentinel.conf"):
        assert conf.stat().st_mode & 0o077 == 0, conf


@pytest.mark.parametrize(
    ("script", "env", "message"),
    [
        ("redis.sh", {"REDIS_PASSWORD": "short"}, "at least 12 characters"),
        ("redis.sh", {"REDIS_PASSWORD": "0123456789ab;cd"}, "may contain only"),
        ("redis.sh", {"REDIS_PASSWORD": PASSWORD, "REDIS_REPLICAOF": "primary:6379"}, "IPv4 address"),
        ("sentinel.sh", {"REDIS_PASSWORD": PASSWORD, "SENTINEL_PRIMARY": "10.0.0.1:x"}, "a port"),
        ("sentinel.sh", {"REDIS_PASSWORD": PASSWORD}, "SENTINEL_PRIMARY"),
    ],
)
def test_the_start_scripts_refuse_what_they_cannot_write_safely(
    script: str, env: dict[str, str], message: str, tmp_path: Path
) -> None:
    """A bad password or address stops the container with a message, before any file is written."""
    env = {
        "PATH": os.environ["PATH"],
        "REDIS_CONF": str(tmp_path / "r.conf"),
        "SENTINEL_CONF": str(tmp_path / "s.conf"),
        **env,
    }
    result = subprocess.run(["sh", str(SCALE / script)], env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []
