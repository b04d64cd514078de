"""The configuration: one TOML file decoded into frozen msgspec Structs.

Strings may refer to the environment as ``${VAR}`` or ``${VAR:-default}`` so that secrets (the ARI password, the
Redis URL) stay out of the file; every variable that is not set is reported at once. The IVR's own variables are
written ``{{name}}`` (``ivr/media.py``), which this loader leaves alone. Every error names the key path:
``queues.support.sla_seconds: expected int, got str``.
"""

from __future__ import annotations

import os
import re
import tomllib
import typing
from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

from callcenter_ari.acd.skills import RequirementSyntaxError
from callcenter_ari.acd.skills import parse as parse_skills
from callcenter_ari.callback.settings import CallbackSettings, QueueCallback
from callcenter_ari.campaigns.settings import CampaignSettings
from callcenter_ari.campaigns.settings import validate as validate_campaigns
from callcenter_ari.ivr import Destination, IvrConfig, QueueNode
from callcenter_ari.ivr import validate as validate_ivr
from callcenter_ari.ivr.media import check_item
from callcenter_ari.recording.settings import RecordingPolicy, RecordingSection, validate_policy
from callcenter_ari.recording.settings import validate as validate_recording
from callcenter_ari.trunks import InvalidNumber, TrunkConfig, dial_string, parse_number
from callcenter_ari.webhooks import WebhookSettings

# A hot standby's batches are fenced transactions, inside which Redis refuses WAIT: the two cannot both be asked for.
STANDBY_WITHOUT_WAIT = "redis.wait_replicas: not with a hot standby (standby.enabled or run --standby); set it to 0"


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key path."""


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class AppSection(_Section, frozen=True):
    app_name: str = "callcenter"
    tenant: str = "default"
    shutdown_grace_seconds: float = 30.0
    seat_limit: int | None = None  # agents of this tenant logged in at once; none: no limit
    # A seat is a lease in Redis that running processes renew: the seats of agents whose processes all died are free
    # again this long after the last renewal.
    seat_lease_seconds: float = 30.0
    # The Asterisk this process serves, as other processes of the tenant know it; empty: made from app_name and
    # ari.url. A standby serving the same Asterisk must use the same node.
    node: str = ""


class StandbySection(_Section, frozen=True):
    """Hot standby (runtime/standby.py): the process acts for its node only while it holds the node's lease in
    Redis; a second process with the same node waits, and takes over when the first dies or stops."""

    enabled: bool = False
    lease_seconds: float = 5.0  # a dead process's node is taken over within this (plus a poll)
    poll_seconds: float = 0.5  # how often a waiting process tries to take the lease


class OverloadSection(_Section, frozen=True):
    """More calls than the process can serve well: new ones get ``treatment`` once, counted, instead of being taken
    and then failing (an answer that times out, a caller handed back and sent in again)."""

    max_calls: int = 3000  # calls in progress at once
    # How far behind Asterisk may be: the oldest ARI request still unanswered has waited this long. A second is far
    # short of the request time-out at which calls fail, whatever the call rate.
    max_ari_lag_seconds: float = 1.0
    # ARI requests in flight at once: a bound on what the process holds for them. 5000 is more than a second's worth
    # at 400 calls/s (9 requests a call, sent without waiting), so the lag above is what sheds first.
    max_pending_requests: int = 5000
    # busy: hang up with cause 17; congestion: cause 34 (a carrier routes the call elsewhere); message: answer, play
    # ``message``, hang up; continue: on in the dialplan at context/extension/priority (an overflow that must not
    # send the call back to this application)
    treatment: Literal["busy", "congestion", "message", "continue"] = "congestion"
    message: str = "sound:all-circuits-busy-now"
    context: str = ""
    extension: str = "s"
    priority: int = 1


class AriSection(_Section, frozen=True):
    url: str = "http://127.0.0.1:8088"
    username: str = "callcenter"
    password: str = ""
    # "auto" probes ARI's REST over the event WebSocket and falls back to HTTP when Asterisk does not offer it.
    transport: Literal["auto", "websocket", "http"] = "auto"
    request_timeout_seconds: float = 10.0
    reconnect_initial_seconds: float = 0.5
    reconnect_max_seconds: float = 30.0


class RedisSection(_Section, frozen=True):
    """How Redis is reached (store/connection.py): one server by ``url`` (the default), the primary that Redis
    Sentinel names (``mode = "sentinel"``), or a Redis Cluster (``mode = "cluster"``)."""

    # mode "url": empty means no Redis configured (the demo then starts a private one; `run` refuses).
    url: str = ""
    prefix: str = "cc"
    mode: Literal["url", "sentinel", "cluster"] = "url"
    sentinels: tuple[str, ...] = ()  # sentinel: "host:port" of each sentinel of the set
    service: str = ""  # sentinel: the name the sentinels monitor the primary under
    nodes: tuple[str, ...] = ()  # cluster: "host:port" of some of its nodes (the client learns the rest)
    # sentinel and cluster: the data nodes' ACL user and password (mode url: in the URL); put them in the environment
    username: str = ""
    password: str = ""
    sentinel_password: str = ""  # sentinel: the sentinels' own password (requirepass of sentinel.conf), if any
    db: int = 0  # sentinel: the database number (a cluster has only 0)
    # a server that stops answering (a box powered off, a network cut) is given up on after this long: in every mode
    # for the call store's write batches (then tried again), in sentinel and cluster modes for every reply too (the
    # next try goes to whichever server is primary by then); longer than the webhook outbox's blocking read
    # (webhooks.read_block)
    socket_timeout_seconds: float = 5.0
    # url and sentinel: each write-behind batch (call records, agents, places in line) counts as written only once
    # this many replicas have it too (WAIT), so that a failover cannot take back what the ACD acted on; a replica
    # slower than wait_timeout_ms (or gone) is not waited for again for 5 seconds. 0: do not wait.
    wait_replicas: int = 0
    wait_timeout_ms: int = 100


class HttpSection(_Section, frozen=True):
    host: str = "127.0.0.1"
    port: int = 8080
    enabled: bool = True


class LogSection(_Section, frozen=True):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"


class InboundSection(_Section, frozen=True):
    greeting: str = "sound:hello-world"
    # Where callers go after the greeting when their DID has no route of its own; empty: hang up after it.
    default_queue: str = ""
    goodbye: str = ""
    flow: str = ""  # the IVR flow for DIDs without a route of their own
    crm_timeout_seconds: float = 3.0


class DidRoute(_Section, frozen=True):
    queue: str = ""
    greeting: str = ""
    flow: str = ""  # an IVR flow (ivr.flows.<name>); when set it replaces the greeting and picks the queue


class StepConfig(_Section, frozen=True):
    """A relaxation step: after ``after`` seconds of waiting, ``action`` (see docs/ACD.md)."""

    after: float
    action: Literal["lower_level", "widen", "overflow", "callback", "end"]
    by: int = 1
    skills: str = ""
    queue: str = ""
    message: str = ""


class QueueConfig(_Section, frozen=True):
    name: str = ""
    # How the agent is chosen (docs/ACD.md); ring_all rings every available agent at once, the first to answer wins.
    strategy: Literal[
        "longest_idle",
        "fewest_calls",
        "least_talk_time",
        "round_robin",
        "linear",
        "random",
        "weighted_random",
        "best_skill",
        "ring_all",
    ] = "longest_idle"
    skills: str = ""  # required skills, e.g. "billing>=5 & (french>=3 | german>=3)"
    steps: tuple[StepConfig, ...] = ()
    max_length: int = 0  # callers allowed to wait at once; 0: no limit
    join_empty: bool = True  # may a caller join while nobody who could serve is logged in?
    leave_empty: bool = False  # do waiting callers leave when the last such agent logs out?
    empty_means: Literal["none_logged_in", "none_ready"] = "none_logged_in"
    announce_every_seconds: float = 0.0  # position and estimated wait, this often; 0: never
    handle_window: int = 20  # recent calls the estimated wait is computed from
    wrapup_max_seconds: float = 120.0  # how far an agent may extend wrap-up
    sla_seconds: int = 20
    wrapup_seconds: float = 5.0
    ring_timeout_seconds: float = 15.0
    max_wait_seconds: float = 600.0
    moh_class: str = "default"
    short_abandon_seconds: float = 5.0
    survey: str = ""  # ivr.surveys.<name> played to the caller after the agent hangs up; empty: none
    hold_alert_seconds: float = 30.0  # a caller on hold this long alerts the supervisors (call.hold_alert)
    recording: RecordingPolicy | None = None  # none: recording.default
    callback: QueueCallback | None = None  # callbacks offered to waiting callers, and their rules (docs/CALLBACK.md)


class AgentConfig(_Section, frozen=True):
    endpoint: str
    name: str = ""
    queues: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    skills: dict[str, int] = {}  # skill -> proficiency, 1 (low) to 10 (high)
    logged_in: bool = True
    # Persistent: logged in, the agent's phone stays connected to the application in a bridge of their own (they
    # dial the log-in code and stay on the line, or the application calls the phone), and callers are joined to
    # them there with no ring. Hanging up the phone logs them out. Otherwise the phone is rung for each call.
    persistent: bool = False
    # The server (an app process's ``app.node``) whose Asterisk the agent's phone registers to; empty: every server
    # reaches the phone directly. From another server it is rung through that server's peer trunk.
    server: str = ""


class ServerConfig(_Section, frozen=True):
    """One Asterisk server of the tenant, as the others see it: ``peer_trunk`` is the PJSIP endpoint, configured on
    every other Asterisk, of the inter-server trunk that reaches this one (``PJSIP/<agent>@<peer_trunk>``)."""

    peer_trunk: str


class SupervisorConfig(_Section, frozen=True):
    """A supervisor who can listen to, whisper into or barge into calls, on this phone."""

    endpoint: str
    name: str = ""


class TeamConfig(_Section, frozen=True):
    """A team's break policy: at most ``max_on_break`` on a short break at once, ``break_minutes`` each."""

    max_on_break: int = 2
    break_minutes: float = 10.0
    over_limit: Literal["refuse", "alert"] = "refuse"
    break_reasons: tuple[str, ...] = ("break",)


class AcdSection(_Section, frozen=True):
    audit: Literal["off", "summary", "full"] = "summary"  # routing audit entries in the event stream
    queue_log: str = ""  # a file to append Asterisk queue_log lines to (for queue-report tools); empty: none
    # Codes dialled from an agent's phone (the dialplan's agent-phones context sends them to the application).
    feature_codes: dict[str, Literal["login", "logout", "ready", "not_ready", "break"]] = msgspec.field(
        default_factory=lambda: {"*41": "login", "*42": "logout", "*43": "ready", "*44": "not_ready", "*45": "break"}
    )


Role = Literal["admin", "supervisor", "qa", "agent", "crm"]


class ApiToken(_Section, frozen=True):
    """A bearer token for the HTTP API; put the token itself in the environment (``token = "${CRM_TOKEN}"``)."""

    token: str
    role: Role
    tenant: str = ""  # empty: the application's tenant
    agent_id: str = ""  # for the agent role: whose data the token may see


class ApiSection(_Section, frozen=True):
    tokens: dict[str, ApiToken] = {}


class ContactConfig(_Section, frozen=True):
    name: str
    phone: str = ""
    email: str = ""


class ShiftConfig(_Section, frozen=True):
    start: datetime
    end: datetime


class ShiftLeadConfig(_Section, frozen=True):
    contact: ContactConfig
    shifts: tuple[ShiftConfig, ...] = ()


class TicketsSection(_Section, frozen=True):
    """Who urgent, complaint and help tickets go to: the shift lead on duty, else the fallback contact."""

    fallback: ContactConfig = ContactConfig(name="Operations desk")
    shift_leads: dict[str, ShiftLeadConfig] = {}


class Config(_Section, frozen=True):
    app: AppSection = AppSection()
    ari: AriSection = AriSection()
    redis: RedisSection = RedisSection()
    http: HttpSection = HttpSection()
    log: LogSection = LogSection()
    inbound: InboundSection = InboundSection()
    overload: OverloadSection = OverloadSection()
    standby: StandbySection = StandbySection()
    dids: dict[str, DidRoute] = {}
    queues: dict[str, QueueConfig] = {}
    agents: dict[str, AgentConfig] = {}
    servers: dict[str, ServerConfig] = {}  # by node: the Asterisk servers whose phones the others reach by trunk
    teams: dict[str, TeamConfig] = {}
    supervisors: dict[str, SupervisorConfig] = {}
    acd: AcdSection = AcdSection()
    trunks: dict[str, TrunkConfig] = {}
    ivr: IvrConfig = IvrConfig()
    callback: CallbackSettings = CallbackSettings()
    api: ApiSection = ApiSection()
    webhooks: WebhookSettings = WebhookSettings()
    tickets: TicketsSection = TicketsSection()
    recording: RecordingSection = RecordingSection()
    campaigns: CampaignSettings = CampaignSettings()

    def redacted(self) -> dict[str, Any]:
        """The configuration as plain data with secrets masked, fit to print or log."""
        data: dict[str, Any] = msgspec.to_builtins(self)
        if data["ari"]["password"]:
            data["ari"]["password"] = "***"
        data["redis"]["url"] = _mask_url_password(data["redis"]["url"])
        for secret in ("password", "sentinel_password"):
            if data["redis"][secret]:
                data["redis"][secret] = "***"
        for token in data["api"]["tokens"].values():
            token["token"] = "***"
        return data


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def load(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, expand and validate a configuration file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return loads(text, environ)


def loads(text: str, environ: Mapping[str, str] | None = None) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}") from None
    return from_mapping(raw, environ)


def from_mapping(raw: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Config:
    """Validate configuration data already parsed from TOML (or built in code)."""
    missing: list[str] = []
    expanded = _expand(dict(raw), os.environ if environ is None else environ, "", missing)
    if missing:  # all of them at once: an admin sets them in one go, not one per run
        raise ConfigError("\n".join(missing))
    config: Config = _convert(expanded, Config, "")
    _check_references(config)
    return config


def _expand(value: Any, environ: Mapping[str, str], path: str, missing: list[str]) -> Any:
    """``${VAR}`` and ``${VAR:-default}`` from the environment; each variable not set is added to ``missing``."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            hint = f" (an IVR variable is written {{{{{name}}}}})" if path.startswith("ivr.") else ""
            missing.append(f"{path}: environment variable {name} is not set{hint}")
            return ""

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, dict):
        return {k: _expand(v, environ, _join(path, k), missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, environ, f"{path}[{i}]", missing) for i, v in enumerate(value)]
    return value


def _convert(data: Any, cls: type, path: str) -> Any:
    """msgspec.convert, with the failing dict key put back into the error's path.

    msgspec reports a failure inside a mapping as ``$.queues[...]``; we retry the entries one by one to name the
    key, because "queues.support.sla_seconds" is what an admin needs to find the line.
    """
    try:
        return msgspec.convert(data, cls, strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigError(_locate(exc, data, cls, path)) from None


def _locate(exc: msgspec.ValidationError, data: Any, cls: Any, path: str) -> str:
    message, _, where = str(exc).partition(" - at `$")
    segments = _SEGMENT.findall(where.rstrip("`"))
    # Walk the data and its type along msgspec's path; at a mapping it could not name (``[...]``) find the failing
    # entry and go on inside it, so that tables of tables keep their names: ``ivr.flows.main.nodes.menu1.x``.
    rest: list[str] = []
    for n, segment in enumerate(segments):
        if segment == "[...]":
            value_type = typing.get_args(cls)[1] if typing.get_origin(cls) is dict else None
            if value_type is not None and isinstance(data, dict):
                for key, entry in data.items():
                    try:
                        msgspec.convert(entry, value_type, strict=True)
                    except msgspec.ValidationError as inner:
                        return _locate(inner, entry, value_type, _join(path, key))
            rest = segments[n:]
            break
        if segment.startswith("["):
            index = int(segment[1:-1])
            if not isinstance(data, list | tuple) or index >= len(data):
                rest = segments[n:]
                break
            args = typing.get_args(cls)
            data, cls, path = data[index], (args[0] if args else Any), f"{path}{segment}"
            continue
        struct, name = _struct_of(cls, data), segment[1:]
        hints = typing.get_type_hints(struct) if struct is not None else {}
        if not isinstance(data, dict) or name not in hints or name not in data:
            rest = segments[n:]  # a type we cannot follow: name the rest as msgspec did
            break
        data, cls, path = data[name], hints[name], _join(path, name)
    tail = "".join(rest)
    path = f"{path}{tail}" if tail.startswith("[") else _join(path, tail.lstrip("."))
    unknown = re.match(r"Object contains unknown field `(.+)`", message)
    if unknown:
        return f"{_join(path, unknown.group(1))}: unknown key"
    return f"{path or '(top level)'}: {_humanize(message)}"


_SEGMENT = re.compile(r"\.[^.\[]+|\[[^\]]*\]")


def _struct_of(cls: Any, data: Any) -> type | None:
    """The Struct type behind a field's annotation: itself, ``Policy | None``, or the member of a tagged union
    (IVR nodes, by ``kind``) that the data names."""
    if isinstance(cls, type) and issubclass(cls, msgspec.Struct):
        return cls
    structs = [a for a in typing.get_args(cls) if isinstance(a, type) and issubclass(a, msgspec.Struct)]
    if len(structs) == 1:
        return structs[0]
    for struct in structs:
        config = struct.__struct_config__
        if isinstance(data, dict) and config.tag_field and data.get(config.tag_field) == config.tag:
            return struct
    return None


def _humanize(message: str) -> str:
    text = message.replace("`", "")
    return text[:1].lower() + text[1:]


def _join(path: str, key: str) -> str:
    if not key:
        return path
    return f"{path}.{key}" if path else key


def _check_references(config: Config) -> None:
    found = problems(config)
    if found:
        raise ConfigError("\n".join(found))


def problems(config: Config) -> list[str]:
    """Everything wrong with a decoded configuration, each as ``key.path: what is wrong`` (empty: usable)."""
    found: list[str] = []
    for section in ("dids", "queues", "agents", "trunks", "supervisors", "servers"):
        for key in getattr(config, section):
            if not valid_id(key) or (section == "dids" and not key.isdigit() and key != "default"):
                found.append(f"{section}.{key}: not a valid name (letters, digits, '_', '.', '-')")
    if config.inbound.default_queue and config.inbound.default_queue not in config.queues:
        found.append(f"inbound.default_queue: unknown queue {config.inbound.default_queue!r}")
    for did, route in config.dids.items():
        if route.queue and route.queue not in config.queues:
            found.append(f"dids.{did}.queue: unknown queue {route.queue!r}")
    for agent_id, agent in config.agents.items():
        others = {a: other for a, other in config.agents.items() if a != agent_id}
        found += [
            f"agents.{agent_id}.{path}: {message}"
            for path, message in check_agent(agent, config.queues, others, servers=config.servers)
        ]
    for server_id, server in config.servers.items():
        if not _ID.fullmatch(server.peer_trunk):
            found.append(f"servers.{server_id}.peer_trunk: the PJSIP endpoint name of the trunk to this server")
    for queue_id, queue in config.queues.items():
        found += [
            f"queues.{queue_id}.{path}: {message}"
            for path, message in check_queue(queue, config.queues, config.ivr.surveys)
        ]
    found += _check_callback(config)
    for supervisor_id, supervisor in config.supervisors.items():
        if not valid_device(supervisor.endpoint):
            found.append(f"supervisors.{supervisor_id}.endpoint: {_DEVICE_RULE}")
    if not _ID.fullmatch(config.app.tenant):
        found.append("app.tenant: not a valid name (letters, digits, '_', '.', '-')")
    overload = config.overload
    if overload.max_calls < 1 or overload.max_pending_requests < 1:
        found.append("overload: max_calls and max_pending_requests must be at least 1")
    if not 0 < overload.max_ari_lag_seconds <= 60:
        found.append("overload.max_ari_lag_seconds: more than 0 and at most 60")
    if overload.treatment == "continue" and not _ID.fullmatch(overload.context):
        found.append("overload.context: the dialplan context the calls go on to (treatment = continue)")
    if overload.treatment == "message" and (problem := check_item(overload.message)) is not None:
        found.append(f"overload.message: {problem}")
    if not 3 <= config.app.seat_lease_seconds <= 3600:
        found.append("app.seat_lease_seconds: from 3 to 3600")
    if not 1 <= config.standby.lease_seconds <= 60:
        found.append("standby.lease_seconds: from 1 to 60")
    if not 0.05 <= config.standby.poll_seconds <= config.standby.lease_seconds:
        found.append("standby.poll_seconds: from 0.05 to standby.lease_seconds")
    if config.standby.enabled and config.redis.wait_replicas:
        found.append(STANDBY_WITHOUT_WAIT)
    if config.app.node and not _ID.fullmatch(config.app.node):
        found.append("app.node: not a valid name (letters, digits, '_', '.', '-')")
    found += check_redis(config.redis, config.webhooks.read_block)
    found += _check_ivr_references(config)
    found += validate_recording(config.recording)
    found += validate_campaigns(config.campaigns)
    for name, token in config.api.tokens.items():
        if len(token.token) < 16:
            found.append(f"api.tokens.{name}.token: at least 16 characters")
        if token.role == "agent" and token.agent_id not in config.agents:
            found.append(f"api.tokens.{name}.agent_id: an agent token needs a configured agent")
    for name, lead in config.tickets.shift_leads.items():
        for n, shift in enumerate(lead.shifts):
            if shift.start.tzinfo is None or shift.end.tzinfo is None or shift.end <= shift.start:
                found.append(f"tickets.shift_leads.{name}.shifts[{n}]: needs start < end, both with a UTC offset")
    return found


def check_redis(redis: RedisSection, read_block: float = 0.0) -> list[str]:
    """The ``[redis]`` section: each mode has exactly the keys it uses, every address is ``host:port``."""
    found: list[str] = []
    used = _REDIS_KEYS_OF_MODE[redis.mode]
    for key in sorted(frozenset().union(*_REDIS_KEYS_OF_MODE.values())):
        value = getattr(redis, key)
        if key not in used and value != getattr(_REDIS_DEFAULTS, key):
            found.append(f"redis.{key}: not used with mode = {redis.mode!r}")
    if redis.mode == "url" and redis.url and urlsplit(redis.url).scheme not in ("redis", "rediss", "unix"):
        found.append("redis.url: a redis://, rediss:// or unix:// URL")
    if redis.mode == "sentinel":
        if not redis.sentinels:
            found.append("redis.sentinels: the sentinels' addresses, as host:port (three or more)")
        if not _ID.fullmatch(redis.service):
            found.append("redis.service: the name the sentinels monitor the primary under")
        if not 0 <= redis.db <= 15:
            found.append("redis.db: a database number from 0 to 15")
    if redis.mode == "cluster" and not redis.nodes:
        found.append("redis.nodes: some of the cluster's nodes, as host:port")
    for key in ("sentinels", "nodes"):
        for n, address in enumerate(getattr(redis, key)):
            if parse_address(address) is None:
                found.append(f"redis.{key}[{n}]: not host:port ({address[:64]!r})")
    if not 0 <= redis.wait_replicas <= 5:
        found.append("redis.wait_replicas: from 0 (do not wait) to 5")
    if not 1 <= redis.wait_timeout_ms <= 5000:
        found.append("redis.wait_timeout_ms: from 1 to 5000")
    if redis.mode != "url" and not max(1.0, read_block + 1.0) <= redis.socket_timeout_seconds <= 300:
        found.append("redis.socket_timeout_seconds: from 1 to 300, and longer than webhooks.read_block")
    return found


def parse_address(address: str) -> tuple[str, int] | None:
    """``host:port`` (``[v6]:port`` for an IPv6 address) as (host, port), or None."""
    match = _ADDRESS.fullmatch(address)
    if match is None:
        return None
    port = int(match.group("port"))
    return ((match.group("v6") or match.group("host")), port) if 0 < port < 65536 else None


_ADDRESS = re.compile(
    r"(?:\[(?P<v6>[0-9A-Fa-f:.]{2,45})\]|(?P<host>[A-Za-z0-9][A-Za-z0-9.-]{0,252})):(?P<port>[0-9]{1,5})"
)
_REDIS_KEYS_OF_MODE = {
    "url": frozenset({"url", "wait_replicas", "wait_timeout_ms"}),
    "sentinel": frozenset(
        {"sentinels", "service", "username", "password", "sentinel_password", "db", "wait_replicas", "wait_timeout_ms"}
    ),
    "cluster": frozenset({"nodes", "username", "password"}),
}
_REDIS_DEFAULTS = RedisSection()


Problem = tuple[str, str]  # (the field's path inside the entry, as the TOML table or the API body has it; message)


def _check_callback(config: Config) -> list[str]:
    """The callbacks' trunks exist, their caller id is a number, their prompts are media."""
    callback, found = config.callback, []
    for trunk in callback.trunks:
        if trunk not in config.trunks:
            found.append(f"callback.trunks: unknown trunk {trunk!r}")
    if callback.caller_id:
        try:
            if parse_number(callback.caller_id, callback.plan.region).e164 != callback.caller_id:
                found.append("callback.caller_id: give it in E.164 form (+<country><number>)")
        except InvalidNumber as exc:
            found.append(f"callback.caller_id: {exc}")
    for name in callback.prompts.__struct_fields__:
        problem = check_item(getattr(callback.prompts, name))
        if problem:
            found.append(f"callback.prompts.{name}: {problem}")
    return found


def valid_id(value: str) -> bool:
    """An agent, queue, trunk or supervisor id: letters, digits, '_', '.', '-', at most 64."""
    return _ID.fullmatch(value) is not None


def check_agent(
    agent: AgentConfig,
    queues: Collection[str],
    others: Mapping[str, AgentConfig] | None = None,
    *,
    servers: Collection[str] = (),
) -> list[Problem]:
    """An agent's own checks, against the queues that exist, the other agents (by id) and the servers: one
    function for the TOML and for the API."""
    found: list[Problem] = []
    if not valid_device(agent.endpoint):
        found.append(("endpoint", _DEVICE_RULE))
    if agent.server:
        if agent.server not in servers:
            found.append(("server", f"unknown server {agent.server!r} (a [servers.{agent.server[:64]}] table)"))
        if not _PEER_REACHABLE.fullmatch(agent.endpoint):
            found.append(
                (
                    "endpoint",
                    "an agent on a server is rung from the others as PJSIP/<resource>@<trunk>: give PJSIP/<resource>",
                )
            )
    # The phone identifies its agent (feature codes, persistent lines): two agents on one phone cannot both be.
    sharing = sorted(a for a, other in (others or {}).items() if other.endpoint == agent.endpoint)
    if sharing:
        found.append(("endpoint", f"{agent.endpoint} is already the phone of agent {', '.join(sharing)}"))
    for n, queue in enumerate(agent.queues):
        if queue not in queues:
            found.append((f"queues[{n}]", f"unknown queue {queue!r}"))
    for n, team in enumerate(agent.teams):
        if not valid_id(team):
            found.append((f"teams[{n}]", "not a valid name (letters, digits, '_', '.', '-')"))
    for n, language in enumerate(agent.languages):
        if not _LANGUAGE.fullmatch(language):
            found.append((f"languages[{n}]", "a language tag such as 'en' or 'pt-BR'"))
    if len(agent.skills) > 100:
        found.append(("skills", "at most 100 skills"))
    for skill, level in agent.skills.items():
        if not _SKILL.fullmatch(skill):
            found.append((f"skills.{skill[:64]}", _SKILL_RULE))
        elif not 1 <= level <= 10:
            found.append((f"skills.{skill}", "a level from 1 to 10"))
    return found


def check_queue(queue: QueueConfig, queues: Collection[str], surveys: Collection[str]) -> list[Problem]:
    """A queue's own checks, against the queues and surveys that exist: one function for the TOML and the API."""
    found: list[Problem] = []
    for path, expression in [("skills", queue.skills)] + [
        (f"steps[{n}].skills", step.skills) for n, step in enumerate(queue.steps)
    ]:
        try:
            parse_skills(expression)
        except RequirementSyntaxError as exc:
            found.append((path, str(exc)))
    for n, step in enumerate(queue.steps):
        if not 0 <= step.after < _FOREVER:
            found.append((f"steps[{n}].after", "seconds, 0 or more"))
        if step.action == "lower_level" and not 1 <= step.by <= 10:
            found.append((f"steps[{n}].by", "a number of levels from 1 to 10"))
        if step.action == "widen" and not step.skills:
            found.append((f"steps[{n}].skills", "a widen step needs the skills that qualify too"))
        if step.action == "overflow" and step.queue not in queues:
            found.append((f"steps[{n}].queue", f"unknown queue {step.queue!r}"))
    for field in _DURATIONS:
        if not 0 <= getattr(queue, field) < _FOREVER:
            found.append((field, "seconds, 0 or more"))
    if not 0 <= queue.max_length <= 1_000_000:
        found.append(("max_length", "callers from 0 (no limit) to 1000000"))
    if not 1 <= queue.handle_window <= 10_000:
        found.append(("handle_window", "calls from 1 to 10000"))
    if queue.survey and queue.survey not in surveys:
        found.append(("survey", f"unknown survey {queue.survey!r}"))
    if queue.recording is not None:
        found += [_split(problem) for problem in validate_policy("recording", queue.recording)]
    return found


_DURATIONS = (
    "announce_every_seconds",
    "wrapup_max_seconds",
    "sla_seconds",
    "wrapup_seconds",
    "ring_timeout_seconds",
    "max_wait_seconds",
    "short_abandon_seconds",
    "hold_alert_seconds",
)
_FOREVER = 366 * 86400.0  # a year: past it a duration is a typo (and an overflow waiting to happen)
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})?")
_SKILL = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")
_SKILL_RULE = "not a skill name (a letter, then letters, digits, '_', '.', ':', '-')"
# One device for Dial()/originate: a technology and a resource, nothing that adds a channel (&), starts options
# (, |) or a second target; PJSIP/SIP/IAX2/Local may name an endpoint or context after '@'.
_DEVICE = re.compile(r"(?:PJSIP|SIP|IAX2|Local)/[A-Za-z0-9_.+*#-]{1,64}(?:@[A-Za-z0-9_.-]{1,64})?|DAHDI/[0-9]{1,4}")
_DEVICE_RULE = "a device such as PJSIP/agent1001, PJSIP/1001@office, Local/1001@agents or DAHDI/4"


_PEER_REACHABLE = re.compile(r"PJSIP/[A-Za-z0-9_.+*#-]{1,64}")


def valid_device(endpoint: str) -> bool:
    """A phone the application may ring: one device, never a dial string with options or several targets."""
    return _DEVICE.fullmatch(endpoint) is not None


def _split(problem: str) -> Problem:
    path, _, message = problem.partition(": ")
    return path, message


def _check_ivr_references(config: Config) -> list[str]:
    problems = validate_ivr(config.ivr)
    flows = config.ivr.flows
    if config.inbound.flow and config.inbound.flow not in flows:
        problems.append(f"inbound.flow: unknown flow {config.inbound.flow!r}")
    for did, route in config.dids.items():
        if route.flow and route.flow not in flows:
            problems.append(f"dids.{did}.flow: unknown flow {route.flow!r}")
    for flow_name, flow in flows.items():
        for node_name, node in flow.nodes.items():
            if isinstance(node, QueueNode) and node.queue not in config.queues:
                problems.append(f"ivr.flows.{flow_name}.nodes.{node_name}.queue: unknown queue {node.queue!r}")
    for name, destination in config.ivr.destinations.items():
        try:
            destination_endpoint(destination, config.trunks)
        except ValueError as exc:
            problems.append(f"ivr.destinations.{name}: {exc}")
    return problems


_EXTENSION = re.compile(r"^[0-9A-Za-z*#]{1,32}$")


def destination_endpoint(destination: Destination, trunks: Mapping[str, TrunkConfig]) -> tuple[str, str]:
    """The dial string of a transfer destination: an internal extension on PJSIP, or a number out of a trunk.

    Built only from configuration, and only after the number is validated: the caller chooses a destination by
    name, never by typing digits that reach a dial string. Returns the dial string and the trunk it takes a line
    of ("" for an extension).
    """
    if destination.extension:
        if not _EXTENSION.fullmatch(destination.extension):
            raise ValueError(f"extension {destination.extension!r}: letters, digits, '*' and '#' only")
        return f"PJSIP/{destination.extension}", ""
    trunk = trunks.get(destination.trunk)
    if trunk is None:
        raise ValueError(f"trunk: unknown trunk {destination.trunk!r}")
    try:
        return dial_string(trunk, parse_number(destination.number, trunk.region)), destination.trunk
    except InvalidNumber as exc:
        raise ValueError(f"number: {exc}") from None


def _mask_url_password(url: str) -> str:
    return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


def node_of(config: Config) -> str:
    """The node this configuration serves: ``app.node``, or one made from the Stasis application and the address of
    Asterisk (two processes on one Asterisk with different applications are different nodes; a standby with the
    same configuration is the same node)."""
    if config.app.node:
        return config.app.node
    address = urlsplit(config.ari.url).netloc or config.ari.url
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{config.app.app_name}.{address}")[:64]
