"""Checks of a platform's tenant files against each other: what the process shares agrees, what names a tenant
differs, and every problem names the file and the key path (never a secret)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter_ari.config import ConfigError
from callcenter_ari.platform_config import load_platform

COMMON = """
[redis]
url = "redis://:hunter2-secret@127.0.0.1:6379/0"
prefix = "cc"
[http]
port = 8080
"""

ACME = """
[app]
tenant = "acme"
app_name = "acme"
[api.tokens.admin]
token = "acme-admin-token-0123456789"
role = "admin"
"""

GLOBEX = """
[app]
tenant = "globex"
app_name = "globex"
[api.tokens.admin]
token = "globex-admin-token-0123456789"
role = "admin"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_two_distinct_tenants_sharing_redis_and_http_load(tmp_path: Path) -> None:
    files = load_platform(
        [write(tmp_path, "acme.toml", COMMON + ACME), write(tmp_path, "globex.toml", COMMON + GLOBEX)]
    )
    assert [(f.path.rsplit("/", 1)[1], f.config.app.tenant) for f in files] == [
        ("acme.toml", "acme"),
        ("globex.toml", "globex"),
    ]


@pytest.mark.parametrize(
    ("globex", "expected"),
    [
        (
            COMMON + GLOBEX.replace('tenant = "globex"', 'tenant = "acme"'),
            "app.tenant: 'acme' is already the tenant of",
        ),
        (
            COMMON + GLOBEX.replace('app_name = "globex"', 'app_name = "acme"'),
            "app.app_name: 'acme' is already the Stasis application of",
        ),
        (COMMON.replace("8080", "8081") + GLOBEX, "http.port: differs from"),
        (COMMON.replace('prefix = "cc"', 'prefix = "other"') + GLOBEX, "redis.prefix: differs from"),
        (COMMON.replace("hunter2-secret", "another-secret") + GLOBEX, "redis.url: differs from"),
        (COMMON + '[log]\nlevel = "debug"\n' + GLOBEX, "log.level: differs from"),
        (
            COMMON + GLOBEX.replace("globex-admin-token", "acme-admin-token"),
            "api.tokens.admin.token: the same token as",
        ),
        (
            COMMON + GLOBEX + '[api.tokens.spy]\ntoken = "spy-token-0123456789"\nrole = "admin"\ntenant = "acme"\n',
            "api.tokens.spy.tenant: 'acme' is another tenant of this platform",
        ),
    ],
    ids=["tenant", "app_name", "http", "redis_prefix", "redis_url", "log", "token_value", "token_for_another_tenant"],
)
def test_a_conflict_names_the_file_and_key(tmp_path: Path, globex: str, expected: str) -> None:
    acme = write(tmp_path, "acme.toml", COMMON + ACME)
    other = write(tmp_path, "globex.toml", globex)
    with pytest.raises(ConfigError) as raised:
        load_platform([acme, other])
    message = str(raised.value)
    assert f"{other}: {expected}" in message, message
    for secret in ("hunter2-secret", "another-secret", "acme-admin-token-0123456789"):
        assert secret not in message


def test_the_same_queue_log_file_for_two_tenants_is_refused(tmp_path: Path) -> None:
    log = '[acd]\nqueue_log = "/var/log/asterisk/queue_log"\n'
    acme = write(tmp_path, "acme.toml", COMMON + ACME + log)
    globex = write(tmp_path, "globex.toml", COMMON + GLOBEX + log)
    with pytest.raises(ConfigError) as raised:
        load_platform([acme, globex])
    assert f"{globex}: acd.queue_log: '/var/log/asterisk/queue_log' is already the queue log of {acme}" in str(
        raised.value
    )


def test_a_token_for_a_tenant_not_served_here_is_allowed(tmp_path: Path) -> None:
    """As in a single-tenant process: the token is valid and sees nothing."""
    stranger = '[api.tokens.other]\ntoken = "other-token-0123456789"\nrole = "admin"\ntenant = "initech"\n'
    load_platform([write(tmp_path, "acme.toml", COMMON + ACME + stranger), write(tmp_path, "g.toml", COMMON + GLOBEX)])


def test_invalid_files_are_reported_each_with_its_path(tmp_path: Path) -> None:
    bad = write(tmp_path, "acme.toml", COMMON + ACME + '[queues.support]\nsla_seconds = "soon"\n')
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as raised:
        load_platform([bad, missing])
    lines = str(raised.value).splitlines()
    assert f"{bad}: queues.support.sla_seconds: expected int, got str" in lines
    assert any(line.startswith(f"{missing}: cannot read") for line in lines)
