"""The Asterisk entrypoint turns environment secrets into config files, and refuses unsafe ones."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from asterisk_files import SECRETS, read_config, run_entrypoint


def test_writes_secret_files_readable_only_by_asterisk(tmp_path: Path) -> None:
    result = run_entrypoint(tmp_path, SECRETS, "echo", "asterisk started")
    assert (result.returncode, result.stdout) == (0, "asterisk started\n")
    for name in ("ari_users.conf", "pjsip_auth.conf"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    auths = {s.name: s for s in read_config(tmp_path / "pjsip_auth.conf")}
    assert set(auths) == {"provider1-auth", "agent1001-auth", "agent1002-auth", "agent1003-auth"}
    assert auths["agent1002-auth"].get("password") == "phone-secret-1002"
    assert auths["provider1-auth"].get("username") == "account42"


def test_without_phone_or_trunk_secrets_nothing_can_authenticate(tmp_path: Path) -> None:
    """Only ARI_PASSWORD is required; missing SIP secrets leave no auth section, so nothing registers."""
    result = run_entrypoint(tmp_path, {"ARI_PASSWORD": SECRETS["ARI_PASSWORD"]})
    assert result.returncode == 0
    assert read_config(tmp_path / "pjsip_auth.conf") == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "ARI_PASSWORD must be set"),
        ({"ARI_PASSWORD": "short"}, "at least 12 characters"),
        ({"ARI_PASSWORD": "long-enough;comment"}, "may contain only"),
        ({"ARI_PASSWORD": "long-enough\npassword=x"}, "may contain only"),
        ({"ARI_PASSWORD": "long enough password"}, "may contain only"),
        ({"AGENT_PASSWORDS": "agent1001"}, "has no ':password'"),
        ({"AGENT_PASSWORDS": "agent]1001:phone-secret-1001"}, "bad agent name"),
        ({"AGENT_PASSWORDS": "agent1001:short"}, "password of agent agent1001 must be at least"),
        ({"SIP_TRUNK_PASSWORD": "trunk-secret-4242", "SIP_TRUNK_USERNAME": ""}, "SIP_TRUNK_USERNAME must be set"),
    ],
)
def test_refuses_unsafe_or_missing_secrets(tmp_path: Path, env: dict[str, str], message: str) -> None:
    """A secret that would need quoting could inject config lines; the container stops instead of starting."""
    base = {"ARI_PASSWORD": SECRETS["ARI_PASSWORD"]} if "ARI_PASSWORD" not in env and env else {}
    result = run_entrypoint(tmp_path, {**base, **env}, "echo", "must not run")
    assert result.returncode != 0
    assert message in result.stderr
    assert "must not run" not in result.stdout
