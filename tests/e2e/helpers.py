"""Helpers shared by the end-to-end tests.

On the in-process transport (the default, see conftest.py) every simulator action returns settled, so tests assert
directly; ``eventually`` is for what really travels a network: tests marked ``wire``, a CRM, a webhook receiver."""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Callable
from typing import Any

import anyio
import msgspec

from callcenter_ari import config as configuration
from callcenter_ari.calls.records import CallRecord
from callcenter_ari.clock import ManualClock
from callcenter_ari.config import Config
from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import Simulator

USER, PASSWORD = "callcenter", "sim-secret"
GREETING_SECONDS = 1.4  # sound:hello-world, the configured greeting
IN_PROCESS_URL = "http://in-process.invalid"  # the configured ARI URL when the in-process transport carries ARI

BASE_CONFIG = """
[app]
tenant = "t1"
shutdown_grace_seconds = 5
[ari]
username = "callcenter"
password = "sim-secret"
reconnect_initial_seconds = 0.05
reconnect_max_seconds = 0.2
request_timeout_seconds = 5
[http]
enabled = false
[webhooks]
egress_allow = ["127.0.0.0/8"]  # the tests' receivers are on loopback
[inbound]
greeting = "sound:hello-world"
[dids.5551000]
queue = ""
[dids.5552000]
queue = "support"
[queues.support]
wrapup_seconds = 0
ring_timeout_seconds = 10
max_wait_seconds = 600
"""


async def eventually(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll until ``predicate()`` is truthy (it may return an awaitable): for outcomes that cross a real network."""
    try:
        with anyio.fail_after(timeout):
            while True:
                value = predicate()
                if inspect.isawaitable(value):
                    value = await value
                if value:
                    return value
                await anyio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def until(app: Application, predicate: Callable[[], Any], what: str) -> Any:
    """``predicate()``'s value once what was set off has run, for helpers shared by both kinds of test: on the
    in-process transport the manual clock's idle wait has run it all (no waiting); over the wire, polled."""
    if not isinstance(app.clock, ManualClock):
        return await eventually(predicate, what=what)
    await app.clock.idle()
    value = predicate()
    if inspect.isawaitable(value):
        value = await value
    assert value, what
    return value


def make_config(sim: Simulator, redis_url: str, key_prefix: str, extra: str = "", **ari: Any) -> Config:
    """The base test configuration with ``extra`` TOML merged over it (tables merge key by key)."""
    loaded = configuration.from_mapping(_merge(tomllib.loads(BASE_CONFIG), tomllib.loads(extra)), environ={})
    return msgspec.structs.replace(
        loaded,
        ari=msgspec.structs.replace(loaded.ari, url=sim.base_url, **ari),  # type: ignore[attr-defined]
        redis=msgspec.structs.replace(loaded.redis, url=redis_url, prefix=key_prefix),
    )


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


AGENT = """
[agents.a1]
endpoint = "PJSIP/agent1"
queues = ["support"]
"""


def phase_of(app: Application, channel_id: str) -> str | None:
    task = app.services.channels.call(channel_id)
    return task.machine.record.phase if task else None


async def ended_record(app: Application, channel_id: str) -> CallRecord | None:
    """The stored record of the call on this channel, once it has ended."""
    for call_id in [fields["call_id"] for _, kind, fields in await app.store.events() if kind == "call.ended"]:
        record = await app.store.call(call_id)
        if record is not None and record.channel_id == channel_id:
            return record
    return None


async def ended_call(app: Application, channel_id: str) -> CallRecord:
    """The stored record of the call on this channel, which has ended."""
    record = await ended_record(app, channel_id)
    assert record is not None, f"the call on {channel_id} has not ended"
    return record


def playing(sim: Simulator, channel_id: str) -> bool:
    """The simulator is playing something to this channel (our Play request has arrived)."""
    target = f"channel:{channel_id}"
    return any(p.target_uri == target and p.state == "playing" for p in sim.core.playbacks.values())


def agent_leg_up_in_sim(app: Application, sim: Simulator, channel_id: str) -> bool:
    """The call is ringing an agent and the originated leg exists in the simulator."""
    task = app.services.channels.call(channel_id)
    if task is None or task.machine.record.phase != "ringing":
        return False
    return sim.channel(task.machine.record.agent_channel) is not None


async def through_greeting(sim: Simulator, *channels: str) -> None:
    """The greeting of each call is playing: play it out on the clock, to the instant it ends."""
    for channel in channels:
        assert playing(sim, channel), f"no greeting playing on {channel}"
    await sim.advance(GREETING_SECONDS)


async def greeted_over_wire(sim: Simulator, *channels: str) -> None:
    """``through_greeting`` for tests marked ``wire``: the greeting's Play request crosses a socket first."""
    for channel in channels:
        await eventually(lambda channel=channel: playing(sim, channel), what=f"greeting on {channel}")
    await sim.advance(GREETING_SECONDS)
