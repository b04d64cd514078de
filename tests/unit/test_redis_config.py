"""The ``[redis]`` section: one server by URL (the default), a Sentinel set or a cluster; each mode takes exactly its
keys, addresses are host:port, passwords come from the environment and never show."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from callcenter_ari import config
from callcenter_ari.config import ConfigError

SENTINEL = """
[redis]
mode = "sentinel"
sentinels = ["10.0.0.1:26379", "10.0.0.2:26379", "[fd00::3]:26379"]
service = "callcenter"
password = "${REDIS_PASSWORD}"
sentinel_password = "${REDIS_SENTINEL_PASSWORD}"
"""


def test_a_sentinel_set_with_its_passwords_from_the_environment() -> None:
    loaded = config.loads(SENTINEL, environ={"REDIS_PASSWORD": "data-pw", "REDIS_SENTINEL_PASSWORD": "sentinel-pw"})
    assert loaded.redis.mode == "sentinel"
    assert [config.parse_address(a) for a in loaded.redis.sentinels] == [
        ("10.0.0.1", 26379),
        ("10.0.0.2", 26379),
        ("fd00::3", 26379),
    ]
    shown = str(loaded.redacted())
    assert "data-pw" not in shown and "sentinel-pw" not in shown


def test_a_cluster() -> None:
    loaded = config.loads('[redis]\nmode = "cluster"\nnodes = ["redis-a:6379", "redis-b:6379"]', environ={})
    assert loaded.redis.nodes == ("redis-a:6379", "redis-b:6379")


def test_the_default_is_one_server_by_url() -> None:
    loaded = config.loads('[redis]\nurl = "redis://127.0.0.1:6379/0"', environ={})
    assert loaded.redis.mode == "url"
    assert config.problems(loaded) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[redis]\nmode = "sentinel"\nservice = "cc"', "redis.sentinels: the sentinels' addresses"),
        ('[redis]\nmode = "sentinel"\nsentinels = ["a:1"]', "redis.service: the name the sentinels monitor"),
        ('[redis]\nmode = "sentinel"\nsentinels = ["a"]\nservice = "cc"', "redis.sentinels[0]: not host:port ('a')"),
        ('[redis]\nmode = "sentinel"\nsentinels = ["a:70000"]\nservice = "cc"', "redis.sentinels[0]: not host:port"),
        ('[redis]\nmode = "sentinel"\nsentinels = ["a:1"]\nservice = "cc"\ndb = 99', "redis.db: a database number"),
        (
            '[redis]\nmode = "sentinel"\nsentinels = ["a:1"]\nservice = "cc"\nurl = "redis://x"',
            "redis.url: not used with mode = 'sentinel'",
        ),
        ('[redis]\nmode = "cluster"', "redis.nodes: some of the cluster's nodes"),
        ('[redis]\nmode = "cluster"\nnodes = ["a:1"]\nservice = "cc"', "redis.service: not used with mode = 'cluster'"),
        ('[redis]\nmode = "cluster"\nnodes = ["a:1"]\ndb = 2', "redis.db: not used with mode = 'cluster'"),
        ('[redis]\nurl = "redis://x"\npassword = "p"', "redis.password: not used with mode = 'url'"),
        ('[redis]\nmode = "cluster"\nnodes = ["a:1"]\nwait_replicas = 1', "redis.wait_replicas: not used with mode"),
        ('[redis]\nurl = "redis://x"\nwait_replicas = 9', "redis.wait_replicas: from 0 (do not wait) to 5"),
        ('[redis]\nurl = "http://x"', "redis.url: a redis://, rediss:// or unix:// URL"),
        ('[redis]\nmode = "ring"', "redis.mode: invalid enum value 'ring'"),
        (
            '[redis]\nmode = "cluster"\nnodes = ["a:1"]\nsocket_timeout_seconds = 0.5',
            "redis.socket_timeout_seconds: from 1 to 300, and longer than webhooks.read_block",
        ),
    ],
)
def test_each_problem_names_its_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config.loads(text, environ={})
    assert message in str(raised.value)


def test_check_config_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[redis]\nmode = "sentinel"\nsentinels = ["10.0.0.1:26379", "nohost"]\nservice = "cc"\n')
    result = subprocess.run(
        [sys.executable, "-m", "callcenter_ari", "check-config", str(bad)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "redis.sentinels[1]: not host:port ('nohost')" in result.stderr
