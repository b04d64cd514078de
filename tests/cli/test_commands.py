"""The console commands as a PBX admin runs them: separate processes, real sockets, signals."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import REDIS_URL

CLI = [sys.executable, "-m", "callcenter_ari"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def sim_process() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "SIM_ARI_PASSWORD": "cli-secret"}
    process = subprocess.Popen(
        [*CLI, "sim", "--port", str(port), "--speed", "20", "--username", "callcenter"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: httpx.get(f"{base}/sim/stats", auth=("callcenter", "cli-secret")).status_code == 200,
            what="simulator up",
        )
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def write_config(tmp_path: Path, sim_url: str, prefix: str, http_port: int) -> Path:
    path = tmp_path / "callcenter.toml"
    path.write_text(
        f"""
[app]
tenant = "cli"
shutdown_grace_seconds = 10
[ari]
url = "{sim_url}"
username = "callcenter"
password = "${{ARI_PASSWORD}}"
[redis]
url = "${{REDIS_URL}}"
prefix = "{prefix}"
[http]
host = "127.0.0.1"
port = {http_port}
[inbound]
greeting = "sound:hello-world"
"""
    )
    return path


def test_run_serves_calls_and_stops_gracefully_on_sigterm(tmp_path: Path, sim_process: str, key_prefix: str) -> None:
    """`sim` and `run` as separate processes: a call is answered, greeted, hung up and recorded in Redis; SIGTERM
    stops the process cleanly; logs are JSON lines with the call id and never the password."""
    http_port = free_port()
    config = write_config(tmp_path, sim_process, key_prefix, http_port)
    env = {**os.environ, "ARI_PASSWORD": "cli-secret", "REDIS_URL": REDIS_URL}
    app = subprocess.Popen([*CLI, "run", "--config", str(config)], env=env, stderr=subprocess.PIPE, text=True)
    store = redis.Redis.from_url(REDIS_URL)
    try:
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{http_port}/ready").status_code == 200, what="app ready")
        reply = httpx.post(
            f"{sim_process}/sim/calls",
            json={"did": "5551000", "caller": "+15551234567"},
            auth=("callcenter", "cli-secret"),
        )
        assert reply.status_code == 200, reply.text
        events = f"{key_prefix}:cli:events"
        wait_for(
            lambda: any(fields[b"kind"] == b"call.ended" for _, fields in store.xrange(events)),
            what="call ended in Redis",
        )
        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=15) == 0
        log = app.stderr.read() if app.stderr else ""
    finally:
        if app.poll() is None:
            app.kill()
        for key in store.scan_iter(match=f"{key_prefix}:*"):
            store.delete(key)
        store.close()
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line is JSON
    assert {"app.started", "app.heap_settled", "app.stopping"} <= {line["event"] for line in lines}
    [settled] = [line for line in lines if line["event"] == "app.heap_settled"]
    assert settled["frozen"] > 10_000 and settled["thresholds"] == [10_000, 50, 100]  # runtime/heap.py
    # The HTTP server's own start-up lines too, with the logger that wrote them.
    assert any(line.get("logger", "").startswith("uvicorn") and "running on" in line["event"] for line in lines)
    [ended] = [line for line in lines if line["event"] == "call.ended"]
    assert ended["call_id"].startswith("c") and ended["outcome"] == "completed" and ended["did"] == "5551000"
    assert "cli-secret" not in log


def test_run_ends_on_sigterm_while_asterisk_is_unreachable(tmp_path: Path, key_prefix: str) -> None:
    """Nothing answers at the ARI URL, so the first connect never succeeds: SIGTERM still ends the process at
    once (there is nothing to drain), with status 0, well within the grace period."""
    config = write_config(tmp_path, f"http://127.0.0.1:{free_port()}", key_prefix, free_port())
    with app_process("run", "--config", str(config), key_prefix=key_prefix) as (app, _):
        first_log_line(app, "ari.disconnected")  # retrying the connect: the process is past its start-up
        app.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert app.wait(timeout=15) == 0
        assert time.monotonic() - started < 10  # the file's grace period
        assert "platform.stopped_while_starting" in (app.stderr.read() if app.stderr else "")


def first_log_line(app: subprocess.Popen[str], event: str) -> dict[str, Any]:
    """Read the process's JSON log lines until one with this event."""
    assert app.stderr is not None
    for line in app.stderr:
        parsed: dict[str, Any] = json.loads(line)
        if parsed["event"] == event:
            return parsed
    raise AssertionError(f"the process ended without logging {event}")


def test_a_refused_ari_login_is_an_error_naming_the_user_and_the_url(
    tmp_path: Path, sim_process: str, key_prefix: str
) -> None:
    """A wrong ARI password is not a network blip: an error says which user, which URL and where to fix it, and
    never shows the password."""
    config = write_config(tmp_path, sim_process, key_prefix, free_port())
    command = ("run", "--config", str(config))
    with app_process(*command, key_prefix=key_prefix, ARI_PASSWORD="not-the-password") as (app, _):
        refused = first_log_line(app, "ari.login_refused")
        log = stop_gracefully(app)
    assert refused["level"] == "error"
    assert (refused["user"], refused["url"]) == ("callcenter", sim_process)
    assert "ari.conf" in refused["fix"] and "ARI_PASSWORD" in refused["fix"]
    assert "not-the-password" not in json.dumps(refused) + log


def test_run_connects_to_sim_started_with_its_defaults(tmp_path: Path, key_prefix: str) -> None:
    """The quick start: `sim` with no options takes the example's ARI user and $ARI_PASSWORD, so `run` with the
    same environment connects to it and is ready."""
    port, http_port = free_port(), free_port()
    env = {**os.environ, "ARI_PASSWORD": "quick-start-secret"}
    env.pop("SIM_ARI_PASSWORD", None)
    sim = subprocess.Popen([*CLI, "sim", "--port", str(port)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert sim.stdout is not None
        assert "(app callcenter, user callcenter)" in sim.stdout.readline()
        config = write_config(tmp_path, f"http://127.0.0.1:{port}", key_prefix, http_port)
        command = ("run", "--config", str(config))
        with app_process(*command, key_prefix=key_prefix, ARI_PASSWORD="quick-start-secret") as (app, _):
            wait_for(lambda: httpx.get(f"http://127.0.0.1:{http_port}/ready").status_code == 200, what="app ready")
            stop_gracefully(app)
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=10)


def test_check_config_reports_the_key_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[queues.support]\nsla_seconds = "soon"\n')
    result = subprocess.run([*CLI, "check-config", str(bad)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "queues.support.sla_seconds: expected int, got str" in result.stderr


def test_check_config_accepts_the_example(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "callcenter.toml"
    env = {
        **os.environ,
        "ARI_PASSWORD": "x",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CRM_API_TOKEN": "crm-token-0123456789",
        "SUPERVISOR_API_TOKEN": "supervisor-token-0123456789",
        "ADMIN_API_TOKEN": "admin-token-0123456789",
    }
    result = subprocess.run([*CLI, "check-config", str(example)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_surge_command_switches_the_announcement(tmp_path: Path, key_prefix: str) -> None:
    """A supervisor switches the surge announcement on and off from the shell; the state lives in Redis."""
    config = write_config(tmp_path, "http://127.0.0.1:9", key_prefix, 8080)
    env = {**os.environ, "ARI_PASSWORD": "x", "REDIS_URL": REDIS_URL}
    store = redis.Redis.from_url(REDIS_URL)
    try:
        on = subprocess.run(
            [*CLI, "surge", "on", "--config", str(config), "--prompt", "sound:outage", "--area", "north"],
            capture_output=True,
            text=True,
            env=env,
        )
        assert on.returncode == 0, on.stderr
        assert json.loads(store.get(f"{key_prefix}:cli:ivr:surge"))["active"] is True
        shown = subprocess.run(
            [*CLI, "surge", "show", "--config", str(config)], capture_output=True, text=True, env=env
        )
        assert "surge announcement on for areas north: sound:outage" in shown.stdout
        off = subprocess.run([*CLI, "surge", "off", "--config", str(config)], capture_output=True, text=True, env=env)
        # As the API's DELETE: off, with the message kept so that it can be read back.
        assert "surge announcement off for areas north: sound:outage" in off.stdout
        stored = json.loads(store.get(f"{key_prefix}:cli:ivr:surge"))
        assert (stored["active"], stored["prompt"], stored["areas"]) == (False, ["sound:outage"], ["north"])
        # As the API's PUT: a prompt Asterisk could not play is refused, and nothing changes.
        for bad in (["--prompt", "bogus:thing"], ["--prompt", "sound:../../etc/passwd"], []):
            refused = subprocess.run(
                [*CLI, "surge", "on", "--config", str(config), *bad], capture_output=True, text=True, env=env
            )
            assert refused.returncode == 2 and "surge on: refused: prompt" in refused.stderr, refused.stderr
        assert json.loads(store.get(f"{key_prefix}:cli:ivr:surge")) == stored
    finally:
        for key in store.scan_iter(match=f"{key_prefix}:*"):
            store.delete(key)
        store.close()


@contextlib.contextmanager
def app_process(*args: str, key_prefix: str, **environ: str) -> Iterator[tuple[subprocess.Popen[str], redis.Redis]]:
    """`callcenter-ari <args>` as a process of its own, with the test's Redis (and ``environ`` over the defaults);
    afterwards it is killed if still up and the test's keys are deleted."""
    env = {**os.environ, "ARI_PASSWORD": "cli-secret", "REDIS_URL": REDIS_URL, **environ}
    app = subprocess.Popen([*CLI, *args], env=env, stderr=subprocess.PIPE, text=True)
    store = redis.Redis.from_url(REDIS_URL)
    try:
        yield app, store
    finally:
        if app.poll() is None:
            app.kill()
        for key in store.scan_iter(match=f"{key_prefix}:*"):
            store.delete(key)
        store.close()


def stop_gracefully(app: subprocess.Popen[str]) -> str:
    """SIGTERM, a clean exit, and what the process logged."""
    app.send_signal(signal.SIGTERM)
    assert app.wait(timeout=15) == 0
    return app.stderr.read() if app.stderr else ""


def write_tenant(tmp_path: Path, tenant: str, sim_url: str, prefix: str, http_port: int) -> Path:
    """A tenant's file for a platform: the single-tenant file with its own tenant, Stasis application and token."""
    text = write_config(tmp_path, sim_url, prefix, http_port).read_text()
    text = text.replace('tenant = "cli"', f'tenant = "{tenant}"\napp_name = "{tenant}"')
    text += f'[api.tokens.admin]\ntoken = "{tenant}-admin-token-0123456789"\nrole = "admin"\n'
    path = tmp_path / f"{tenant}.toml"
    path.write_text(text)
    return path


def test_run_serves_two_tenants_in_one_process(tmp_path: Path, sim_process: str, key_prefix: str) -> None:
    """`run --config acme.toml --config globex.toml`: each tenant's Stasis application takes its own DID's calls,
    recorded under its own keys; one HTTP port serves both, the token picking the tenant; log lines carry it."""
    http_port = free_port()
    configs = [write_tenant(tmp_path, tenant, sim_process, key_prefix, http_port) for tenant in ("acme", "globex")]
    base = f"http://127.0.0.1:{http_port}"
    command = ("run", "--config", str(configs[0]), "--config", str(configs[1]))
    with app_process(*command, key_prefix=key_prefix) as (app, store):
        wait_for(lambda: httpx.get(f"{base}/ready").status_code == 200, what="both tenants ready")
        for tenant, did in (("acme", "5551000"), ("globex", "5552000")):
            call = {"did": did, "caller": "+15551234567", "app": tenant}
            reply = httpx.post(f"{sim_process}/sim/calls", json=call, auth=("callcenter", "cli-secret"))
            assert reply.status_code == 200, reply.text
        for tenant, did in (("acme", "5551000"), ("globex", "5552000")):
            events = f"{key_prefix}:{tenant}:events"
            wait_for(
                lambda events=events: any(f[b"kind"] == b"call.ended" for _, f in store.xrange(events)),
                what=f"{tenant}'s call ended in Redis",
            )
            dids = {f[b"data"] for _, f in store.xrange(events) if f[b"kind"] == b"call.started"}
            assert len(dids) == 1 and did.encode() in dids.pop()
            auth = {"authorization": f"Bearer {tenant}-admin-token-0123456789"}
            metrics = httpx.get(f"{base}/metrics", headers=auth).text
            assert "callcenter_calls_started_total 1.0" in metrics
        log = stop_gracefully(app)
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    started = [line for line in lines if line["event"] == "app.started"]
    assert sorted(line["tenant"] for line in started) == ["acme", "globex"]
    assert {line["tenant"] for line in lines if line["event"] == "call.ended"} == {"acme", "globex"}
    assert "cli-secret" not in log and "admin-token" not in log


def test_check_config_of_a_platform_names_the_file_and_key(tmp_path: Path) -> None:
    """Two files for the same Stasis application are refused; two good ones are reported one by one."""
    acme = write_tenant(tmp_path, "acme", "http://127.0.0.1:9", "cc", 8080)
    globex = write_tenant(tmp_path, "globex", "http://127.0.0.1:9", "cc", 8080)
    env = {**os.environ, "ARI_PASSWORD": "x", "REDIS_URL": REDIS_URL}
    good = subprocess.run([*CLI, "check-config", str(acme), str(globex)], capture_output=True, text=True, env=env)
    assert good.returncode == 0, good.stderr
    assert [line.split(":")[0] for line in good.stdout.splitlines()] == [str(acme), str(globex)]
    globex.write_text(globex.read_text().replace('app_name = "globex"', 'app_name = "acme"'))
    bad = subprocess.run([*CLI, "check-config", str(acme), str(globex)], capture_output=True, text=True, env=env)
    assert bad.returncode == 2
    assert f"{globex}: app.app_name: 'acme' is already the Stasis application of {acme}" in bad.stderr
