"""`run`'s options over the configuration files: `--standby` turns hot standby on for every tenant, `--http-port`
moves the HTTP server (a standby beside the active on one host)."""

from __future__ import annotations

import pytest

from callcenter_ari.cli import build_parser, with_options
from callcenter_ari.config import loads
from callcenter_ari.platform_config import TenantFile


def tenant() -> TenantFile:
    return TenantFile("t.toml", loads('[app]\ntenant = "t1"\n[http]\nport = 8080'))


def test_standby_and_http_port_override_the_file() -> None:
    args = build_parser().parse_args(["run", "--config", "t.toml", "--standby", "--http-port", "8081"])
    config = with_options(tenant(), args).config
    assert (config.standby.enabled, config.http.port) == (True, 8081)
    assert config.standby.lease_seconds == 5.0  # the rest of [standby] as the file says


def test_without_options_the_file_decides() -> None:
    config = with_options(tenant(), build_parser().parse_args(["run", "--config", "t.toml"])).config
    assert (config.standby.enabled, config.http.port) == (False, 8080)


def test_a_port_out_of_range_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["run", "--config", "t.toml", "--http-port", "70000"])
    with pytest.raises(SystemExit) as exited:
        with_options(tenant(), args)
    assert exited.value.code == 2 and "--http-port" in capsys.readouterr().err
