"""The configuration file: decoding, key paths in errors, environment expansion, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter_ari import config
from callcenter_ari.config import ConfigError
from callcenter_ari.ivr.media import render

EXAMPLE = Path(__file__).parents[2] / "examples" / "callcenter.toml"
EXAMPLE_ENV = {
    "ARI_PASSWORD": "x",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CRM_API_TOKEN": "crm-token-0123456789",
    "SUPERVISOR_API_TOKEN": "supervisor-token-0123456789",
    "ADMIN_API_TOKEN": "admin-token-0123456789",
}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[queues.support]\nsla_seconds = "x"', "queues.support.sla_seconds: expected int, got str"),
        ("[queues.support]\nsurprise = 1", "queues.support.surprise: unknown key"),
        ("[bogus]\nx = 1", "bogus: unknown key"),
        ('[agents.a1]\nname = "Ann"', "agents.a1: object missing required field endpoint"),
        ('[agents.a1]\nendpoint = "PJSIP/a1"\nqueues = ["nope"]', "agents.a1.queues[0]: unknown queue 'nope'"),
        ('[agents.a1]\nendpoint = "PJSIP/a1&PJSIP/a2"', "agents.a1.endpoint: a device such as PJSIP/agent1001"),
        (
            '[agents.a1]\nendpoint = "PJSIP/a1"\nskills = {billing = 11}',
            "agents.a1.skills.billing: a level from 1 to 10",
        ),
        ('[supervisors.s1]\nendpoint = "PJSIP/s1,30"', "supervisors.s1.endpoint: a device such as"),
        ('[agents.a1]\nendpoint = "PJSIP/a1"\nserver = "west"', "agents.a1.server: unknown server 'west'"),
        (
            '[servers.west]\npeer_trunk = "to-west"\n[agents.a1]\nendpoint = "DAHDI/4"\nserver = "west"',
            "agents.a1.endpoint: an agent on a server is rung from the others as PJSIP/<resource>@<trunk>",
        ),
        ('[servers.west]\npeer_trunk = "to west&x"', "servers.west.peer_trunk: the PJSIP endpoint name"),
        ("[servers.west]\nx = 1", "servers.west.x: unknown key"),
        (
            '[queues.q]\nsteps = [{after = 5, action = "overflow", queue = "x"}]',
            "queues.q.steps[0].queue: unknown queue",
        ),
        ("[queues.q]\nwrapup_seconds = -1.0", "queues.q.wrapup_seconds: seconds, 0 or more"),
        ('[inbound]\ndefault_queue = "nope"', "inbound.default_queue: unknown queue 'nope'"),
        ('[ari]\ntransport = "pigeon"', "ari.transport: invalid enum value 'pigeon'"),
        ('[ari]\npassword = "${NOT_SET_ANYWHERE}"', "ari.password: environment variable NOT_SET_ANYWHERE is not set"),
        ('[trunks.p1]\nkind = "pjsip"\nendpoint = "prov"\ncapacity = "x"\nregion = "US"', "trunks.p1.capacity"),
        ("[queues.'bad key!']", "queues.bad key!: not a valid name"),
        ("not toml [", "invalid TOML"),
        # Tables inside tables keep their names (IVR nodes are a tagged union inside two tables).
        (
            '[ivr.flows.main]\nstart = "menu1"\n[ivr.flows.main.nodes.menu1]\nkind = "menu"\nprompt = []\n'
            'options = { "1" = "menu1" }\nmin_digits = 2',
            "ivr.flows.main.nodes.menu1.min_digits: unknown key",
        ),
        (
            '[ivr.flows.main]\nstart = "menu1"\n[ivr.flows.main.nodes.menu1]\nkind = "menu"\nprompt = []\n'
            "options = { 1 = 7 }",
            "ivr.flows.main.nodes.menu1.options.1: expected str, got int",
        ),
        ('[ivr.schedules.office]\ntimezone = "UTC"\nholidays = 3', "ivr.schedules.office.holidays: expected array"),
        ('[queues.q.recording]\nmode = "loud"', "queues.q.recording.mode: invalid enum value 'loud'"),
        ("[standby]\nlease_seconds = 0.5", "standby.lease_seconds: from 1 to 60"),
        ("[standby]\nlease_seconds = 2\npoll_seconds = 3", "standby.poll_seconds: from 0.05 to standby.lease_seconds"),
        ("[standby]\nactive = true", "standby.active: unknown key"),
        (
            '[standby]\nenabled = true\n[redis]\nurl = "redis://x"\nwait_replicas = 1',
            "redis.wait_replicas: not with a hot standby",
        ),
        # Feature codes and persistent lines find the agent by their phone: one phone, one agent.
        (
            '[agents.a1]\nendpoint = "PJSIP/1001"\n[agents.a2]\nendpoint = "PJSIP/1001"',
            "agents.a2.endpoint: PJSIP/1001 is already the phone of agent a1",
        ),
    ],
)
def test_errors_name_the_key_path(text: str, message: str) -> None:
    """Every configuration error says where it is and what is wrong."""
    with pytest.raises(ConfigError) as raised:
        config.loads(text, environ={})
    assert message in str(raised.value)


def test_secrets_come_from_the_environment_and_are_masked() -> None:
    """${VAR} and ${VAR:-default} expand; redacted() hides the password and the Redis password."""
    loaded = config.loads(
        '[ari]\npassword = "${ARI_PASSWORD}"\nurl = "${ARI_URL:-http://pbx:8088}"\n'
        '[redis]\nurl = "redis://:${REDIS_PW}@cache:6379/0"',
        environ={"ARI_PASSWORD": "s3cret", "REDIS_PW": "pw"},
    )
    assert loaded.ari.password == "s3cret"
    assert loaded.ari.url == "http://pbx:8088"
    shown = str(loaded.redacted())
    assert "s3cret" not in shown and ":pw@" not in shown
    assert "***" in shown


def test_the_example_configuration_is_valid() -> None:
    """The documented example in the repo loads with its environment variables set."""
    loaded = config.load(EXAMPLE, environ=EXAMPLE_ENV)
    assert loaded.queues and loaded.agents
    assert loaded.inbound.default_queue in loaded.queues


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        config.load(tmp_path / "nope.toml")


def test_every_missing_environment_variable_is_reported_at_once() -> None:
    """An admin sets what the file needs in one go: every variable not set is named, each with its key."""
    with pytest.raises(ConfigError) as raised:
        config.load(EXAMPLE, environ={})
    lines = str(raised.value).splitlines()
    assert sorted(line.split()[-4] for line in lines) == sorted(EXAMPLE_ENV)
    assert "ari.password: environment variable ARI_PASSWORD is not set" in lines


def test_env_example_holds_what_the_example_configuration_needs() -> None:
    """.env.example (the quick start's and compose's) sets every variable of the example, with an admin token,
    and each secret passes the checks of the configuration and of Asterisk's entrypoint."""
    lines = (EXAMPLE.parents[1] / ".env.example").read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    loaded = config.load(EXAMPLE, environ=env)
    assert "admin" in {token.role for token in loaded.api.tokens.values()}
    assert all(len(value) >= 12 for name, value in env.items() if "PASSWORD" in name or "TOKEN" in name)


IVR_READBACK = """
[queues.billing]
[ivr.flows.main]
start = "account"
[ivr.flows.main.nodes.account]
kind = "collect"
prompt = ["sound:enter-account"]
variable = "account"
next = "readback"
fallback = "readback"
[ivr.flows.main.nodes.readback]
kind = "say"
before = ["sound:you-entered", "digits:{{account}}"]
value = "{{ account }}"
say_as = "digits"
next = "q"
[ivr.flows.main.nodes.q]
kind = "queue"
queue = "billing"
"""


def test_ivr_variables_are_not_taken_from_the_environment() -> None:
    """{{account}} is the caller's entry, whatever the environment holds; ${...} stays the environment's."""
    loaded = config.loads(IVR_READBACK, environ={"account": "9999"})
    readback = loaded.ivr.flows["main"].nodes["readback"]
    assert readback.value == "{{ account }}"  # type: ignore[union-attr]
    assert render(readback.before, {"account": "12345678"}) == ("sound:you-entered", "digits:12345678")  # type: ignore[union-attr]
    with pytest.raises(
        ConfigError,
        match=r"ivr.flows.main.nodes.readback.value: environment variable account is "
        r"not set \(an IVR variable is written \{\{account\}\}\)",
    ):
        config.loads(IVR_READBACK.replace("{{ account }}", "${account}"), environ={})
