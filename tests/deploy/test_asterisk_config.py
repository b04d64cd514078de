"""The shipped Asterisk configuration lints clean and routes every call into Stasis(callcenter, ...).

The tree under test is /etc/asterisk as the container has it at run time (assemble_etc): asterisk/etc, the
generated DAHDI includes, and the secret files the entrypoint writes. There is no Asterisk here, so asterisklint
checks syntax and dialplan semantics, and these tests check what must agree across files.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from asterisk_files import (
    ETC,
    GENERATED,
    SECRETS,
    Section,
    assemble_etc,
    read_config,
    strip_template_lists,
)
from asterisklint import FileDialplanParser

from callcenter_ari.dahdi.layout import group_role
from callcenter_ari.dahdi.model import load

ASTERISKLINT = Path(sys.executable).with_name("asterisklint")
CARDS = ETC.parents[1] / "hardware" / "dahdi" / "cards.toml"

# Runs asterisklint's generic config parser on one file in a fresh process (its message registry is global)
# and exits 1 if it reported anything: error, warning or hint.
LINT_CONFIG = """
import sys
from asterisklint import FileConfigParser
from asterisklint.defines import MessageDefManager
parser = FileConfigParser()
parser.include(sys.argv[1])
for _ in parser:
    pass
sys.exit(1 if MessageDefManager.raised else 0)
"""

Dialplan = dict[str, list[tuple[str, str, str]]]


@pytest.fixture(scope="module")
def etc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return assemble_etc(tmp_path_factory.mktemp("etc"))


@pytest.fixture(scope="module")
def dialplan(etc: Path) -> Dialplan:
    """context -> [(pattern, app, data)] in priority order, as asterisklint parsed extensions.conf."""
    with contextlib.redirect_stderr(io.StringIO()):
        parser = FileDialplanParser()
        parser.include(str(etc / "extensions.conf"))
        parsed = next(iter(parser))
    return {
        context.name: [(ext.pattern.raw, ext.app.app, str(ext.app.data)) for ext in context]
        for context in parsed.contexts
    }


def sections(etc: Path, name: str) -> list[Section]:
    return [s for s in read_config(etc / name) if not s.is_template]


def stasis_args(dialplan: Dialplan, context: str) -> list[list[str]]:
    return [data.split(",") for _, app, data in dialplan[context] if app == "Stasis"]


def test_dialplan_passes_asterisklint(etc: Path) -> None:
    """`asterisklint dialplan-check` (syntax, apps, functions, Goto targets) reports nothing at all."""
    result = subprocess.run(
        [str(ASTERISKLINT), "dialplan-check", str(etc / "extensions.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    # asterisklint's list of applications has no app_amd: AMD() is Asterisk's own (the vendored transcript
    # continue_to_amd_and_back runs [cc-amd-stasis] on Asterisk 22), so that one finding alone is not a fault.
    found = [line for line in (result.stdout + result.stderr).splitlines() if "app 'AMD' does not exist" not in line]
    assert found == []


@pytest.mark.parametrize(
    "name",
    sorted(
        {p.name for p in ETC.glob("*.conf")} - {"extensions.conf"}
        | {"chan_dahdi_generated.conf", "ari_users.conf", "pjsip_auth.conf"}
    ),
)
def test_config_file_passes_asterisklint(etc: Path, tmp_path: Path, name: str) -> None:
    """Every other config file parses without a single asterisklint message."""
    copy = tmp_path / name
    copy.write_text((etc / name).read_text())
    strip_template_lists(copy)
    # Includes are linted as files of their own; a stub keeps the includer's #include resolvable.
    for included in ("chan_dahdi_generated.conf", "ari_users.conf", "pjsip_auth.conf", "pjsip_node.conf"):
        if included != name:
            (tmp_path / included).write_text("; linted on its own\n")
    result = subprocess.run([sys.executable, "-c", LINT_CONFIG, str(copy)], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")


def test_every_context_a_channel_enters_exists(etc: Path, dialplan: Dialplan) -> None:
    """PJSIP endpoints and every DAHDI section (shipped defaults and generated groups) name existing contexts."""
    endpoints = [s for s in sections(etc, "pjsip.conf") if s.get("type") == "endpoint"]
    dahdi = sections(etc, "chan_dahdi.conf")
    used = {s.get("context") for s in [*endpoints, *dahdi] if s.get("context")}
    assert len(endpoints) >= 4 and len(dahdi) > 2
    assert used - dialplan.keys() == set()


def test_every_stasis_call_targets_the_callcenter_app(dialplan: Dialplan) -> None:
    """Stasis(callcenter,inbound,<source>,<did>), Stasis(callcenter,agentphone,<endpoint>,<digits>), or the
    dialer's call back from answering-machine detection, Stasis(callcenter,amd,${AMDSTATUS},${AMDCAUSE})."""
    calls = [args for context in dialplan for args in stasis_args(dialplan, context)]
    assert len(calls) >= 6
    for args in calls:
        assert args[0] == "callcenter" and args[1] in ("inbound", "agentphone", "amd") and len(args) == 4, args
    assert stasis_args(dialplan, "cc-amd-stasis") == [["callcenter", "amd", "${AMDSTATUS}", "${AMDCAUSE}"]]


def test_sip_trunk_calls_carry_the_trunk_name_and_did(etc: Path, dialplan: Dialplan) -> None:
    """Every PJSIP endpoint that is not an agent phone enters Stasis with its own name as <source>."""
    trunks = [
        s for s in sections(etc, "pjsip.conf") if s.get("type") == "endpoint" and s.get("context") != "agent-phones"
    ]
    assert [t.name for t in trunks] == ["provider1"]
    for trunk in trunks:
        calls = stasis_args(dialplan, trunk.get("context") or "")
        assert {args[2] for args in calls} == {trunk.name}
        assert {args[3] for args in calls} == {"${EXTEN}", "${EXTEN:1}", "s"}


def test_dahdi_groups_enter_stasis_with_the_group_name(dialplan: Dialplan) -> None:
    """Each trunk group of cards.toml has its context; lines and PRIs are inbound, FXS phones agentphone."""
    cards = load(CARDS)
    for group in cards.group:
        calls = stasis_args(dialplan, group.context)
        assert calls, group.context
        if group_role(cards, group) == "fxs":
            assert calls == [["callcenter", "agentphone", "DAHDI/${CHANNEL(dahdi_channel)}", "${EXTEN}"]]
        else:
            assert {(args[1], args[2]) for args in calls} == {("inbound", group.name)}


def test_agent_phones_pass_their_endpoint_and_the_dialled_code(dialplan: Dialplan) -> None:
    assert stasis_args(dialplan, "agent-phones") == [
        ["callcenter", "agentphone", "PJSIP/${CHANNEL(endpoint)}", "${EXTEN}"]
    ]


def test_every_extension_ends_in_a_hangup(dialplan: Dialplan) -> None:
    """Nothing falls off the end of an extension: after Stasis comes cc-after-stasis, which hangs up."""
    for context, extensions in dialplan.items():
        patterns = {pattern for pattern, _, _ in extensions}
        for pattern in patterns:
            apps = [(app, data) for p, app, data in extensions if p == pattern]
            assert apps[-1] in (("Hangup", app_data) for app_data in ("", "21", "34")) or apps[-1] == (
                "Goto",
                "cc-after-stasis,s,1",
            ), (context, pattern, apps)
            detection = {"AMD"} if context == "cc-amd-stasis" else set()  # the dialer's answering-machine detection
            peer = {"Dial"} if context == "from-peer" else set()  # another server's app rings a phone of this one
            assert {app for app, _ in apps} <= {"Stasis", "Goto", "GotoIf", "Hangup", *detection, *peer}, (
                context,
                pattern,
            )


def test_calls_from_another_server_ring_only_agent_phones(dialplan: Dialplan) -> None:
    """The inter-server trunk's context dials an agent phone of this server by the dialled name and nothing else:
    a peer cannot reach the provider, the feature codes or Stasis through it."""
    assert dialplan["from-peer"] == [("_age[n]tX.", "Dial", "PJSIP/${EXTEN},30"), ("_age[n]tX.", "Hangup", "")]


def test_default_context_refuses_anything(dialplan: Dialplan) -> None:
    """A channel configured without a context lands in [default] and is hung up, whatever it dialled."""
    assert {(pattern, app) for pattern, app, _ in dialplan["default"]} == {
        ("_X.", "Hangup"),
        ("_[#*+].", "Hangup"),
        ("s", "Hangup"),
        ("i", "Hangup"),
    }


def test_ari_listens_on_loopback_8088_for_user_callcenter(etc: Path) -> None:
    """The app reaches ARI at http://127.0.0.1:8088/ari as user callcenter with ARI_PASSWORD."""
    (http,) = sections(etc, "http.conf")
    assert (http.get("enabled"), http.get("bindaddr"), http.get("bindport"), http.get("prefix")) == (
        "yes",
        "127.0.0.1",
        "8088",
        "",
    )
    ari = {s.name: s for s in sections(etc, "ari.conf")}
    assert ari["general"].get("enabled") == "yes"
    assert ari["callcenter"].get("type") == "user"
    assert ari["callcenter"].get("password") == SECRETS["ARI_PASSWORD"]


def test_modules_the_app_needs_are_loaded(etc: Path) -> None:
    """ARI, Stasis, PJSIP, DAHDI, music on hold, recording, snoop and the dialplan's own functions."""
    (modules,) = sections(etc, "modules.conf")
    loaded = {m.removesuffix(".so") for m in modules.all("load") + modules.all("require")}
    assert modules.get("autoload") == "no"
    needed = {
        "pbx_config", "func_channel", "app_stasis", "res_stasis", "res_ari", "res_http_websocket",
        "res_ari_channels", "res_ari_bridges", "res_ari_events", "res_ari_playbacks", "res_ari_recordings",
        "res_stasis_answer", "res_stasis_playback", "res_stasis_recording", "res_stasis_snoop",
        "bridge_holding", "bridge_softmix", "chan_bridge_media", "res_timing_timerfd",
        "chan_pjsip", "res_pjsip", "res_pjsip_session", "res_rtp_asterisk", "chan_dahdi", "res_musiconhold",
    }  # fmt: skip
    assert needed - loaded == set()


def test_pjsip_references_resolve(etc: Path) -> None:
    """Every auth, outbound_auth, aors, transport and endpoint reference names a section of the right type."""
    pjsip = sections(etc, "pjsip.conf")
    by_type: dict[str, set[str]] = {}
    for section in pjsip:
        by_type.setdefault(section.get("type") or "", set()).add(section.name)
    references = {
        "auth": "auth",
        "outbound_auth": "auth",
        "aors": "aor",
        "transport": "transport",
        "endpoint": "endpoint",
    }
    for section in pjsip:
        for key, wanted in references.items():
            for value in section.all(key):
                assert value in by_type.get(wanted, set()), (section.name, key, value)


def test_no_secret_is_committed() -> None:
    """Passwords exist only in the files the entrypoint writes from the environment."""
    option = re.compile(r"^\s*(password|secret)\s*=", re.MULTILINE)
    for conf in [*ETC.glob("*.conf"), *GENERATED.glob("*.conf")]:
        assert not option.search(conf.read_text()), conf.name
