"""The fault-injection suite's engine: a call center with calls in every state, one fault, and what it cost.

A run starts a private Redis (``tests/private_redis.py``, never the shared one), a simulator served over real
HTTP and WebSocket by this process, and the application as ``callcenter-ari run`` subprocesses (a hot standby
pair for the faults that need one). It puts one call in each state asked for (``STATES``: IVR, queued, ringing,
talking, on hold, consulting, conference, wrap-up, monitored, a pending callback, a campaign lead being dialed),
each on agents of its own so that states do not disturb each other, injects the fault (``FAULTS``), and measures:

- in flight: the calls placed (a wrap-up has no call left, only its agent);
- survived: the caller still up, the application serving the call again (it lists it), and a caller who was with
  an agent still in a bridge (talking, held or waiting for a consultation);
- lost: in flight and not survived;
- agents stuck: after the fault, an agent the application shows on a call it does not hold or with no channel of
  theirs in Asterisk; after every caller then hung up, an agent not back to available, wrap-up or not ready, or a
  channel, bridge or trunk line left behind;
- double bridges: an agent in two conversations at once (the simulator's bridge log), or a caller in two bridges;
- time to recover: from the fault's start until the serving process is ready and every call that survives is
  served again (the callback and the lead are checked after that: their check waits on a login and on phones).

``STATES`` and ``FAULTS`` are lists meant to grow: a state is a name and a coroutine that places one call in it;
a state that is not a caller's call (the callback, the lead) also has a ``verify`` coroutine that says, after the
fault, whether it survived. A fault is a name, what it needs (a standby, a persistent Redis) and a coroutine that
injects it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
from redis.asyncio import Redis

from callcenter_ari.campaigns.model import CampaignSpec, RetryRule, RetryRules
from callcenter_ari.campaigns.settings import CampaignSettings
from callcenter_ari.sim import CallerScript, PhoneBehaviour, SimConfig, Simulator
from callcenter_ari.store.campaign_desk import CampaignDesk
from callcenter_ari.store.keys import Keys
from callcenter_ari.trunks import PjsipTrunk
from tests.campaigns.conftest import csv_of, load
from tests.private_redis import PrivateRedis
from tests.processes.harness import PASSWORD, USER, AppProcess, Cluster, conversations, free_port, overlaps
from tests.processes.harness import until as wait_for

AGENT_STATES = {"talking", "on_hold", "consulting", "conference", "monitored"}
LONG_RING = 600.0  # a phone that never answers within a run
TRUNK = "provider1"
CALLBACK_NUMBER = "+12025550141"  # the pending callback's customer
LEAD_NUMBER = "+12025550142"  # the campaign's one lead
LEAD_RINGS = 10.0  # the lead's phone rings this long: through the fault, then a person answers


@dataclass
class Placed:
    """One call put in a state: its id, the caller's channel, the agents it holds."""

    state: str
    call_id: str
    channel: str
    agents: tuple[str, ...]


@dataclass
class Figures:
    fault: str
    states: list[str]
    in_flight: int = 0
    survived: int = 0
    lost: list[str] = field(default_factory=list)  # "state call_id why"
    stuck: list[str] = field(default_factory=list)  # "agent state why"
    double_bridges: list[str] = field(default_factory=list)
    recover_seconds: float | None = None
    notes: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)  # what became of the callback and the lead

    @property
    def clean(self) -> bool:
        return not self.lost and not self.stuck and not self.double_bridges and self.recover_seconds is not None


@dataclass
class Center:
    """What a state's ``place`` and a fault's ``inject`` work with."""

    sim: Simulator
    cluster: Cluster
    redis: PrivateRedis
    active: AppProcess
    standby: AppProcess | None
    restart_sim: Callable[[float], Awaitable[None]]
    redis_client: Redis
    most_at_once: Counter[str]  # per trunk endpoint: the most channels to it up at once, watched all along
    placed: list[Placed] = field(default_factory=list)
    history: list[str] = field(default_factory=list)  # what the checks of the callback and the lead saw

    @property
    def keys(self) -> Keys:
        return Keys(self.cluster.prefix, "t1")

    async def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.active.api() as api:
            reply = await api.request(method, path, json=body)
        assert reply.status_code in (200, 202), f"{method} {path}: {reply.status_code} {reply.text}"
        answer: dict[str, Any] = reply.json()
        return answer

    async def agent(self, agent_id: str) -> dict[str, Any]:
        return await self.api("GET", f"/agents/{agent_id}")

    async def log_in(self, agent_id: str) -> None:
        await self.api("POST", f"/agents/{agent_id}/login")
        await until(lambda: self._state_in(agent_id, {"available"}), f"{agent_id} available")

    async def _state_in(self, agent_id: str, states: set[str]) -> dict[str, Any] | None:
        view = await self.agent(agent_id)
        return view if view["state"] in states else None

    async def call_to(self, agent_id: str, caller: str, did: str = "5552000") -> tuple[str, str]:
        """A caller answered by ``agent_id`` (logged in for it): (caller channel, call id)."""
        await self.log_in(agent_id)
        channel = await self.sim.inject_call(did, caller, script=CallerScript(max_duration=900))
        view = await until(lambda: self._state_in(agent_id, {"talking"}), f"{agent_id} talking")
        return channel, str(view["call_id"])


async def until(predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    return await wait_for(predicate, timeout, what)


# ---- states: each places one call (and its agents) ---------------------------------------------------------


async def _talking(center: Center) -> Placed:
    channel, call_id = await center.call_to("agtalk", "+15550005001")
    return Placed("talking", call_id, channel, ("agtalk",))


async def _on_hold(center: Center) -> Placed:
    channel, call_id = await center.call_to("aghold", "+15550005002")
    await center.api("POST", f"/calls/{call_id}/hold")
    await until(lambda: center._state_in("aghold", {"on_hold"}), "aghold on hold")
    return Placed("on_hold", call_id, channel, ("aghold",))


async def _consult(center: Center, first: str, second: str, caller: str) -> tuple[str, str]:
    channel, call_id = await center.call_to(first, caller)
    await center.log_in(second)
    await center.api("POST", f"/calls/{call_id}/consult", {"agent": second})

    async def answered() -> bool:
        view = await center.api("GET", f"/calls/{call_id}")
        return bool(view.get("consult") and view["consult"]["answered"])

    await until(answered, f"{second} answered the consultation")
    return channel, call_id


async def _consulting(center: Center) -> Placed:
    channel, call_id = await _consult(center, "agcons1", "agcons2", "+15550005003")
    return Placed("consulting", call_id, channel, ("agcons1", "agcons2"))


async def _conference(center: Center) -> Placed:
    channel, call_id = await _consult(center, "agconf1", "agconf2", "+15550005004")
    await center.api("POST", f"/calls/{call_id}/consult/conference")
    await until(lambda: _phase_is(center, call_id, "conference"), "the conference")
    return Placed("conference", call_id, channel, ("agconf1", "agconf2"))


async def _phase_is(center: Center, call_id: str, phase: str) -> bool:
    return bool((await center.api("GET", f"/calls/{call_id}"))["phase"] == phase)


async def _monitored(center: Center) -> Placed:
    channel, call_id = await center.call_to("agmon", "+15550005005")
    await center.api("POST", f"/calls/{call_id}/monitor", {"supervisor": "sv1", "mode": "listen"})
    await until(lambda: any(c["name"].startswith("PJSIP/sup1-") for c in center.sim.channels()), "the supervisor")
    return Placed("monitored", call_id, channel, ("agmon",))


async def _wrapup(center: Center) -> Placed:
    await center.log_in("agwrap")
    channel = await center.sim.inject_call("5552000", "+15550005006", script=CallerScript(talk=0.5))
    view = await until(lambda: center._state_in("agwrap", {"wrapup"}), "agwrap in wrap-up")
    return Placed("wrapup", str(view["call_id"]), channel, ("agwrap",))


async def _ringing(center: Center) -> Placed:
    await center.log_in("agring")
    channel = await center.sim.inject_call("5552000", "+15550005007", script=CallerScript(max_duration=900))
    view = await until(lambda: center._state_in("agring", {"reserved"}), "agring ringing")
    return Placed("ringing", str(view["call_id"]), channel, ("agring",))


async def _by_caller(center: Center, channel: str, phase: str) -> str:
    """The id of the live call of this caller's channel, once in ``phase``."""

    async def find() -> str | None:
        calls = (await center.api("GET", "/calls"))["calls"]
        number = _caller_of(center, channel)
        return next((c["id"] for c in calls if c["phase"] == phase and c["caller"] == number), None)

    return str(await until(find, f"a call in {phase}"))


def _caller_of(center: Center, channel: str) -> str:
    snapshot = center.sim.channel(channel)
    return str(snapshot["caller"]["number"]) if snapshot else ""


async def _queued(center: Center) -> Placed:
    """Last but one: every agent logged in is busy, so the caller waits."""
    channel = await center.sim.inject_call("5552000", "+15550005008", script=CallerScript(max_duration=900))
    return Placed("queued", await _by_caller(center, channel, "queued"), channel, ())


async def _ivr(center: Center) -> Placed:
    channel = await center.sim.inject_call("5552001", "+15550005009", script=CallerScript(max_duration=900))
    return Placed("ivr", await _by_caller(center, channel, "ivr"), channel, ())


async def _callback(center: Center) -> Placed:
    """A callback asked for through the API, due and waiting: its queue's one agent is not logged in."""
    async with center.active.api() as api:
        made = await api.post("/callbacks", json={"queue": "callbacks", "number": CALLBACK_NUMBER})
    assert made.status_code == 201, made.text
    callback_id = str(made.json()["id"])
    await until(lambda: _callback_state_in(center, callback_id, {"due"}), "the callback due")
    return Placed("callback", callback_id, "", ("agcb",))


async def _callback_state_in(center: Center, callback_id: str, states: set[str]) -> str | None:
    async with center.active.api() as api:
        reply = await api.get(f"/callbacks/{callback_id}")
    if reply.status_code != 200:
        return None
    state = str(reply.json()["state"])
    return state if state in states else None


async def _callback_survived(center: Center, placed: Placed) -> str:
    """Its agent logs in: the callback is dialed once, and its customer bridged with that agent."""
    live = {"requested", "due", "dialing", "retry"}
    readable = None
    # The processes compare their callbacks with Redis every 5 s. Judged on the state seen, not on one more read:
    # right after a Redis restart a request may meet a connection from before it and be answered 503 once.
    with contextlib.suppress(AssertionError):
        readable = await until(lambda: _callback_state_in(center, placed.call_id, live), "the callback readable", 15)
    if readable is None:
        return "the callback is gone"
    async with center.active.api() as api:
        login = await api.post("/agents/agcb/login")
        assert login.status_code == 200, login.text
    ended = {"connected", "expired", "cancelled"}
    state = None
    with contextlib.suppress(AssertionError):
        state = await until(lambda: _callback_state_in(center, placed.call_id, ended), "the callback connected", 40)
    state = state or await _callback_state_in(center, placed.call_id, ended | live)
    dials = _dials(center, CALLBACK_NUMBER)
    center.history.append(f"callback: {state}, its customer dialed {len(dials)} time(s)")
    if len(dials) != 1:
        return f"its customer dialed {len(dials)} times (state {state})"
    if state != "connected":
        return f"the callback is {state}, not connected"
    if not _bridged_together(center, dials[0], "PJSIP/agcb-"):
        return "its customer was never in a bridge with agcb"
    return ""


def _dials(center: Center, number: str) -> list[str]:
    """The channels the simulator was asked to originate to ``number`` on the trunk, oldest first."""
    return [o["channel_id"] for o in center.sim.originates(_endpoint_of(number))]


def _endpoint_of(number: str) -> str:
    return f"PJSIP/{number}@{TRUNK}"


def _bridged_together(center: Center, channel: str, agent_prefix: str) -> bool:
    """From the simulator's bridge log: ``channel`` entered a bridge an agent's channel also entered."""
    entered: dict[str, list[str]] = {}
    for _at, event, bridge, member, name in center.sim.core.bridge_log:
        if event == "enter":
            entered.setdefault(bridge, []).append(member if member == channel else name)
    return any(channel in names and any(n.startswith(agent_prefix) for n in names) for names in entered.values())


CAMPAIGN = "faults"
LEAD_RETRY = RetryRule(after_seconds=1, max_retries=2)


async def _lead(center: Center) -> Placed:
    """Placed last: a progressive campaign of one lead, whose phone rings (for ``LEAD_RINGS``) at the fault."""
    desk = CampaignDesk(
        center.redis_client,
        center.keys,
        trunks={TRUNK: PjsipTrunk(region="US", endpoint=TRUNK, capacity=4)},
        queues={"sales": "Sales"},
        settings=CampaignSettings(),
        now=time.time,
    )
    spec = CampaignSpec(
        name="Faults",
        queue="sales",
        trunk=TRUNK,
        time_zone="UTC",
        calling_hours=["00:00-23:59"],
        calling_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        dial_mode="progressive",
        ring_seconds=60,
        retry=RetryRules(busy=LEAD_RETRY, no_answer=LEAD_RETRY, machine=LEAD_RETRY, failed=LEAD_RETRY),
    )
    await desk.create(CAMPAIGN, spec, by="faults")
    await load(desk, CAMPAIGN, csv_of([f"lead1,{LEAD_NUMBER},"]))
    await desk.act(CAMPAIGN, "start", by="faults")

    def ringing() -> str | None:
        up = {c["id"]: c for c in center.sim.channels()}
        return next((c for c in _dials(center, LEAD_NUMBER) if c in up and up[c]["state"] != "Up"), None)

    channel = await until(ringing, "the lead's phone ringing", 30)
    lead = await desk.leads.by_number(CAMPAIGN, LEAD_NUMBER)
    assert lead is not None
    return Placed("lead", lead.id, str(channel), ("agdial",))


async def _lead_survived(center: Center, placed: Placed) -> str:
    """Dialed at most once at a time; done with one recorded attempt per dial; no channel to it left."""
    leads = CampaignDesk(
        center.redis_client, center.keys, trunks={}, queues={}, settings=CampaignSettings(), now=time.time
    ).leads

    async def settled() -> Any:
        lead = await leads.get(CAMPAIGN, placed.call_id)
        up = set(_dials(center, LEAD_NUMBER)) & {c["id"] for c in center.sim.channels()}
        return lead if lead is None or (lead.state in ("done", "exhausted") and not up) else None

    with contextlib.suppress(AssertionError):
        await until(settled, "the lead done", 60)
    lead = await leads.get(CAMPAIGN, placed.call_id)
    dials = _dials(center, LEAD_NUMBER)
    most = center.most_at_once[_endpoint_of(LEAD_NUMBER)]
    if most > 1:
        return f"dialed {most} times at once"
    if lead is None:
        center.history.append(f"lead: gone from Redis with its campaign, dialed {len(dials)} time(s), at most {most}")
        return "the campaign and its lead are gone from Redis"
    outcomes = [a.outcome for a in lead.attempts]
    center.history.append(f"lead: {lead.state}, dialed {len(dials)} time(s), at most {most} at once, {outcomes}")
    if lead.state not in ("done", "exhausted"):
        return f"the lead is {lead.state} after {len(dials)} dials, attempts {outcomes}"
    if len(outcomes) != len(dials):
        return f"{len(dials)} dials but {len(outcomes)} attempts recorded: {outcomes}"
    if set(_dials(center, LEAD_NUMBER)) & {c["id"] for c in center.sim.channels()}:
        return "a channel to the lead is left up"
    return ""


@dataclass(frozen=True)
class State:
    name: str
    place: Callable[[Center], Awaitable[Placed]]
    agents: tuple[str, ...] = ()
    # After the fault: "" when it survived, otherwise why not (none: a caller's call, checked by ``_verdict``).
    verify: Callable[[Center, Placed], Awaitable[str]] | None = None


# In the order they are placed: the queued call after every agent state (nobody free), then the IVR one, and the
# lead last, so that its phone is still ringing at the fault.
STATES: list[State] = [
    State("talking", _talking, ("agtalk",)),
    State("on_hold", _on_hold, ("aghold",)),
    State("consulting", _consulting, ("agcons1", "agcons2")),
    State("conference", _conference, ("agconf1", "agconf2")),
    State("monitored", _monitored, ("agmon",)),
    State("wrapup", _wrapup, ("agwrap",)),
    State("ringing", _ringing, ("agring",)),
    State("callback", _callback, ("agcb",), _callback_survived),
    State("queued", _queued),
    State("ivr", _ivr),
    State("lead", _lead, ("agdial",), _lead_survived),
]
ALL_STATES = [state.name for state in STATES]


# ---- faults ---------------------------------------------------------------------------------------------


async def _app_sigkill(center: Center) -> AppProcess:
    center.active.kill()
    center.active.start()
    return center.active


async def _standby_takeover(center: Center) -> AppProcess:
    assert center.standby is not None
    center.active.kill()
    return center.standby


async def _standby_handover(center: Center) -> AppProcess:
    assert center.standby is not None
    # Waited for in a thread: the simulator runs on this event loop, and the stopping process still talks to it.
    await anyio.to_thread.run_sync(center.active.stop)
    return center.standby


async def _redis_sigstop(center: Center) -> AppProcess:
    assert center.redis.process is not None
    center.redis.process.send_signal(signal.SIGSTOP)
    await anyio.sleep(5)
    center.redis.process.send_signal(signal.SIGCONT)
    return center.active


async def _redis_restart(center: Center) -> AppProcess:
    center.redis.stop()
    await anyio.sleep(1)
    center.redis.start()
    return center.active


async def _ari_outage(center: Center) -> AppProcess:
    await center.restart_sim(3.0)
    return center.active


async def _websocket_drop(center: Center) -> AppProcess:
    await center.sim.drop_websockets()
    return center.active


@dataclass(frozen=True)
class Fault:
    name: str
    what: str  # for RELIABILITY.md
    inject: Callable[[Center], Awaitable[AppProcess]]  # returns the process serving afterwards
    standby: bool = False
    persistent_redis: bool = False


FAULTS: list[Fault] = [
    Fault("app_sigkill", "the application killed with SIGKILL and started again", _app_sigkill),
    Fault("standby_takeover", "the active killed (SIGKILL): the hot standby takes over", _standby_takeover, True),
    Fault("standby_handover", "the active process stopped (SIGTERM) with a standby waiting", _standby_handover, True),
    Fault("redis_sigstop", "Redis frozen with SIGSTOP for 5 s, then SIGCONT", _redis_sigstop),
    Fault("redis_restart_aof", "Redis restarted with persistence (append-only file)", _redis_restart, False, True),
    Fault("redis_restart_empty", "Redis restarted without persistence: every key lost", _redis_restart),
    Fault("ari_outage", "the simulator's ARI server stopped for 3 s and started again", _ari_outage),
    Fault("websocket_drop", "the event WebSocket dropped by the simulator", _websocket_drop),
]
FAULTS_BY_NAME = {fault.name: fault for fault in FAULTS}


# ---- a run ----------------------------------------------------------------------------------------------


def config_tables(lease: float = 2.0, standby: bool = False) -> dict[str, dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = {
        "queues.support": {
            "wrapup_seconds": 600,
            "wrapup_max_seconds": 600,
            "ring_timeout_seconds": LONG_RING,
            "max_wait_seconds": 900,
            "hold_alert_seconds": 600,
        },
        "supervisors.sv1": {"endpoint": "PJSIP/sup1"},
        "dids.5552001": {"flow": "menu"},
        "ivr.flows.menu": {"start": "welcome"},
        "ivr.flows.menu.nodes.welcome": {
            "kind": "menu",
            "prompt": ["sound:hello-world"],
            "fallback": "support",
            "timeout": 300,
            "max_retries": 1,
        },
        "ivr.flows.menu.nodes.welcome.options": {"1": "support"},
        "ivr.flows.menu.nodes.support": {"kind": "queue", "queue": "support"},
    }
    # The callback's queue (one agent, logged in after the fault) and the campaign's (one persistent agent).
    tables |= {
        f"trunks.{TRUNK}": {"kind": "pjsip", "endpoint": TRUNK, "capacity": 4, "region": "US"},
        "callback": {"trunks": [TRUNK], "caller_id": "+12025550100"},
        "callback.plan": {"region": "US"},
        "queues.callbacks": {"wrapup_seconds": 0},
        "queues.callbacks.callback": {"mode": "agent_first"},
        "queues.sales": {"wrapup_seconds": 0.2},
        "campaigns": {"lease_seconds": 5},
    }
    if standby:
        tables["standby"] = {"enabled": True, "lease_seconds": lease, "poll_seconds": 0.1}
    return tables


def agents_of(states: Sequence[str]) -> list[str]:
    return [agent for state in STATES if state.name in states for agent in state.agents]


@contextlib.asynccontextmanager
async def center_for(fault: Fault, states: Sequence[str], workdir: Path) -> AsyncIterator[Center]:
    redis = PrivateRedis(str(workdir), persistent=fault.persistent_redis)
    redis.start()
    sim = Simulator(SimConfig(app="cc1", username=USER, password=PASSWORD, seed=11, clock="real"))
    agents = agents_of(states)
    for agent in agents:
        ring = LONG_RING if agent == "agring" else 0.1
        sim.add_phone(f"PJSIP/{agent}", PhoneBehaviour(answer_after=ring))
    sim.add_phone("PJSIP/sup1", PhoneBehaviour(answer_after=0.1))
    sim.add_phone(_endpoint_of(CALLBACK_NUMBER), PhoneBehaviour(answer_after=0.2, talk=1.0))
    sim.add_phone(_endpoint_of(LEAD_NUMBER), PhoneBehaviour(answer_after=LEAD_RINGS, talk=1.0))
    port = free_port()
    stack = contextlib.AsyncExitStack()
    serving: list[contextlib.AsyncExitStack] = [stack]
    await stack.enter_async_context(sim.serve(host="127.0.0.1", port=port))

    async def restart_sim(down: float) -> None:
        await serving[0].aclose()
        await anyio.sleep(down)
        again = contextlib.AsyncExitStack()
        await again.enter_async_context(sim.serve(host="127.0.0.1", port=port))
        serving[0] = again

    cluster = Cluster(sim, f"http://127.0.0.1:{port}", redis.url, "faults", workdir)
    extra = config_tables(standby=fault.standby)
    for agent in agents:
        extra[f"agents.{agent}"] = {"logged_in": False}
    extra["agents.agcb"] = {"endpoint": "PJSIP/agcb", "queues": ["callbacks"], "logged_in": False}
    if "agdial" in agents:
        extra["agents.agdial"] = {"endpoint": "PJSIP/agdial", "queues": ["sales"], "persistent": True}
    active = cluster.add("cc1", agents=agents, extra=extra, name="active")
    standby = cluster.add("cc1", agents=agents, extra=extra, name="standby") if fault.standby else None
    client = Redis.from_url(redis.url)
    most_at_once: Counter[str] = Counter()
    try:
        async with anyio.create_task_group() as watching:
            watching.start_soon(_watch_trunk, sim, most_at_once)
            active.start()
            await active.ready(timeout=40)
            if standby is not None:
                standby.start()
                await until(lambda: _health_role(standby, "standby"), "the standby waiting", timeout=30)
            yield Center(sim, cluster, redis, active, standby, restart_sim, client, most_at_once)
            watching.cancel_scope.cancel()
    finally:
        await client.aclose()
        cluster.stop_all()
        await serving[0].aclose()
        if redis.process is not None and redis.process.poll() is None:
            redis.process.send_signal(signal.SIGCONT)
            redis.stop()


async def _watch_trunk(sim: Simulator, most: Counter[str]) -> None:
    """Every 20 ms: how many channels to each endpoint of the trunk are up (two to one number: dialed twice)."""
    while True:
        endpoints = {o["channel_id"]: o["endpoint"] for o in sim.originates() if o["endpoint"].endswith(f"@{TRUNK}")}
        up = Counter(endpoints[c["id"]] for c in sim.channels() if c["id"] in endpoints)
        for endpoint, count in up.items():
            most[endpoint] = max(most[endpoint], count)
        await anyio.sleep(0.02)


async def _health_role(app: AppProcess, role: str) -> bool:
    try:
        async with httpx.AsyncClient() as http:
            reply = await http.get(f"http://127.0.0.1:{app.http_port}/health", timeout=1.0)
    except httpx.HTTPError:
        return False
    return reply.status_code == 200 and reply.json().get("role") == role


async def run(fault: Fault, states: Sequence[str], workdir: Path, settle: float = 20.0) -> Figures:
    """One fault on a call center with a call in each of ``states``."""
    figures = Figures(fault.name, list(states))
    async with center_for(fault, states, workdir) as center:
        for state in STATES:
            if state.name in states:
                center.placed.append(await state.place(center))
        checks = {state.name: state.verify for state in STATES if state.verify is not None}
        calls = [p for p in center.placed if p.state != "wrapup" and p.state not in checks]
        others = [p for p in center.placed if p.state in checks]
        figures.in_flight = len(calls) + len(others)
        started = time.monotonic()
        serving = await fault.inject(center)
        center.active = serving
        await serving.ready(timeout=60)
        await center.redis_client.connection_pool.disconnect()  # its connections from before a Redis restart
        # Every call that can be served again, within ``settle`` seconds: then what is not, is lost.
        deadline = time.monotonic() + settle
        while True:
            verdicts = {p.call_id: await _verdict(center, p) for p in calls}
            if all(v == "" for v in verdicts.values()) or time.monotonic() > deadline:
                break
            await anyio.sleep(0.2)
        if all(v == "" for v in verdicts.values()):
            figures.recover_seconds = round(time.monotonic() - started, 2)
        # The callback and the lead: each checked once, after the calls (their checks wait on a login and on phones).
        for placed in others:
            verify = checks[placed.state]
            assert verify is not None
            verdicts[placed.call_id] = await verify(center, placed)
        figures.history = list(center.history)
        figures.survived = sum(1 for v in verdicts.values() if v == "")
        figures.lost = [f"{p.state} {p.call_id}: {verdicts[p.call_id]}" for p in calls + others if verdicts[p.call_id]]
        # The callback's and the lead's agents take calls that are not callers' calls: their checks judge them, and
        # so does the end, once everyone hung up.
        figures.stuck = await _stuck_now(center, skip={agent for p in others for agent in p.agents})
        figures.double_bridges = _doubles(center)
        figures.stuck += await _after_everyone_hung_up(center)
        figures.double_bridges += [d for d in _doubles(center) if d not in figures.double_bridges]
    return figures


async def _verdict(center: Center, placed: Placed) -> str:
    """ "" when the call is served again; otherwise why not."""
    if center.sim.channel(placed.channel) is None:
        return "the caller was hung up"
    async with center.active.api() as api:
        try:
            reply = await api.get(f"/calls/{placed.call_id}")
        except httpx.HTTPError as exc:
            return f"the API did not answer ({exc!r})"
    if reply.status_code != 200:
        # A caller taken just before the fault and never written is served again as a new call (recovery finds
        # callers in Stasis that no record names): the same caller, another call id.
        number = _caller_of(center, placed.channel)
        async with center.active.api() as api:
            calls = (await api.get("/calls")).json()["calls"]
        if not any(call["caller"] == number for call in calls):
            return "the application does not serve the call"
    if placed.state in AGENT_STATES and not any(placed.channel in b["channels"] for b in center.sim.bridges()):
        return "the caller is in no bridge"
    return ""


async def _stuck_now(center: Center, skip: set[str]) -> list[str]:
    """Agents the application shows on a call it does not serve, or on a call with no channel of theirs."""
    stuck = []
    async with center.active.api() as api:
        agents = (await api.get("/agents")).json()["agents"]
        live = {c["id"] for c in (await api.get("/calls")).json()["calls"]}
    names = {c["name"].split("/", 1)[1].rsplit("-", 1)[0] for c in center.sim.channels() if "/" in c["name"]}
    for agent in agents:
        if agent["state"] in ("talking", "on_hold", "reserved") and agent["id"] not in skip:
            if agent["call_id"] not in live:
                stuck.append(f"{agent['id']} {agent['state']}: on call {agent['call_id']}, which is not live")
            elif agent["state"] != "reserved" and agent["id"] not in names:
                stuck.append(f"{agent['id']} {agent['state']}: no channel of theirs in Asterisk")
    return stuck


async def _after_everyone_hung_up(center: Center) -> list[str]:
    """Every caller hangs up: every agent goes back to available, wrap-up or not ready, and nothing is left."""
    for placed in center.placed:
        if placed.channel and center.sim.channel(placed.channel) is not None:
            await center.sim.hangup(placed.channel, 16)
    # The campaign's persistent agent leaves: their standing line ends with them.
    if any(placed.state == "lead" for placed in center.placed):
        async with center.active.api() as api:
            await api.post("/agents/agdial/logout")
    # A conference goes on without the caller (the two agents talk on): one of them hanging up ends it.
    for placed in center.placed:
        if placed.state == "conference":
            agent = placed.agents[-1]
            await until(lambda agent=agent: _agent_channel(center, agent) is not None, "the conference", 5)
            leg = _agent_channel(center, agent)
            if leg is not None:
                await center.sim.hangup(leg, 16)
    problems: list[str] = []

    async def settled() -> bool:
        problems.clear()
        async with center.active.api() as api:
            agents = (await api.get("/agents")).json()["agents"]
        problems.extend(
            f"{a['id']} {a['state']}: after every caller hung up"
            for a in agents
            if a["state"] not in ("available", "wrapup", "not_ready", "logged_out")
        )
        problems.extend(f"channel {c['id']} ({c['name']}) left in Asterisk" for c in center.sim.channels())
        problems.extend(f"bridge {b['id']} left in Asterisk" for b in center.sim.bridges())
        lines = await center.redis_client.hlen(center.keys.trunk_lines(TRUNK))
        problems.extend([f"{lines} line(s) of trunk {TRUNK} left taken"] if lines else [])
        return not problems

    with contextlib.suppress(AssertionError):
        await until(settled, "everything ended", timeout=20)
    return list(problems)


def _agent_channel(center: Center, agent: str) -> str | None:
    return next((c["id"] for c in center.sim.channels() if c["name"].startswith(f"PJSIP/{agent}-")), None)


def _doubles(center: Center) -> list[str]:
    found = [
        f"{agent} in two conversations at {span[0]:.1f}"
        for agent, span in overlaps(conversations(center.sim, "PJSIP/ag"))
    ]
    membership: dict[str, list[str]] = {}
    for bridge in center.sim.bridges():
        for channel in bridge["channels"]:
            membership.setdefault(channel, []).append(bridge["id"])
    found += [f"{channel} in bridges {ids}" for channel, ids in membership.items() if len(ids) > 1]
    return found


LONG = os.environ.get("CALLCENTER_FAULTS_LONG", "") not in ("", "0")
