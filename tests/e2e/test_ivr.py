"""The IVR inside real calls: keys pressed on the simulator, a real local CRM over HTTP (waited for with
``eventually``: it crosses a socket), the survey, the surge."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from aiohttp import web
from structlog.testing import capture_logs

from callcenter_ari.ivr import SurgeAnnouncement
from callcenter_ari.ivr.session import MAX_KEY_EVENTS
from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.e2e.helpers import agent_leg_up_in_sim, ended_call, eventually, phase_of, playing

FLOWS = """
[dids.5553000]
flow = "main"
[queues.billing]
wrapup_seconds = 0
[queues.outages]
wrapup_seconds = 0
[queues.support]
survey = "csat"
[ivr.surveys.csat]
question = ["sound:beep"]
thanks = ["sound:beep"]
[ivr.flows.main]
start = "welcome"
language = "en"
[ivr.flows.main.nodes.welcome]
kind = "menu"
prompt = ["sound:hello-world"]
options = { "1" = "q_billing", "2" = "crm", "9" = "german" }
fallback = "q_support"
timeout = 30
max_retries = 1
[ivr.flows.main.nodes.german]
kind = "set"
language = "de"
next = "q_billing"
[ivr.flows.main.nodes.q_billing]
kind = "queue"
queue = "billing"
skills = ["billing"]
priority = 3
[ivr.flows.main.nodes.crm]
kind = "lookup"
url = "http://127.0.0.1:9/unused"
timeout = 1.0
next = "q_support"
fallback = "q_support"
choices = ["q_outages"]
[ivr.flows.main.nodes.q_outages]
kind = "queue"
queue = "outages"
[ivr.flows.main.nodes.q_support]
kind = "queue"
queue = "support"
"""

AGENTS = """
[agents.a1]
endpoint = "PJSIP/agent1"
queues = ["support"]
"""


@asynccontextmanager
async def crm_server(*, answers: bool = True) -> AsyncIterator[tuple[str, list[dict]]]:  # type: ignore[type-arg]
    """A CRM that answers callers from the north with an outage route (or, ``answers=False``, not before the test
    is over)."""
    received: list[dict] = []  # type: ignore[type-arg]
    over = anyio.Event()

    async def lookup(request: web.Request) -> web.Response:
        payload = await request.json()
        received.append(payload)
        if not answers:
            await over.wait()
        return web.json_response({"variables": {"area": "north"}, "next": "q_outages"})

    app = web.Application()
    app.router.add_post("/lookup", lookup)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/lookup", received
    finally:
        over.set()
        await runner.cleanup()


def record_of(app: Application, channel: str):  # type: ignore[no-untyped-def]
    return app.services.channels.call(channel).machine.record


async def test_keys_take_the_caller_to_the_right_queue_with_skills_and_language(sim: Simulator, start_app) -> None:
    async with start_app(FLOWS) as app:
        channel = await sim.inject_call(did="5553000", caller="+15551230001")
        assert playing(sim, channel), "menu prompt"
        await sim.press(channel, "9")  # barge-in: stops the prompt, counts as the choice
        assert phase_of(app, channel) == "queued"
        record = record_of(app, channel)
        assert (record.queue, record.skills, record.language, record.priority) == ("billing", ("billing",), "de", 3)
        assert record.ivr_path == ["welcome", "german", "q_billing"]
        assert not playing(sim, channel) or sim.channel(channel) is not None
        await app.store.flush()  # the events of the last step may still be staged
        kinds = [kind for _, kind, f in await app.store.events() if f.get("call_id") == record.call_id]
        assert {"ivr.node", "ivr.key", "call.queued"} <= set(kinds)


async def test_garbage_keys_get_the_invalid_prompt_and_then_the_fallback(sim: Simulator, start_app) -> None:
    async with start_app(FLOWS) as app:
        channel = await sim.inject_call(did="5553000", caller="+15551230002")
        assert playing(sim, channel), "menu prompt"
        await sim.press(channel, "7")  # not an option
        assert playing(sim, channel), "invalid-input prompt"
        await sim.press(channel, "#")  # not an option either: retries are used up
        assert phase_of(app, channel) == "queued", "fallback queue"
        assert record_of(app, channel).queue == "support"


async def test_crm_lookup_routes_and_sets_variables(sim: Simulator, start_app) -> None:
    async with crm_server() as (url, received):
        async with start_app(FLOWS.replace("http://127.0.0.1:9/unused", url)) as app:
            channel = await sim.inject_call(did="5553000", caller="+15551230003")
            assert playing(sim, channel), "menu prompt"
            await sim.press(channel, "2")
            await eventually(lambda: phase_of(app, channel) == "queued", what="queued after the CRM")
            record = record_of(app, channel)
            assert record.queue == "outages" and record.variables.get("area") == "north"
    assert received[0]["caller"] == "+15551230003" and received[0]["did"] == "5553000"


async def test_crm_timeout_takes_the_fallback(sim: Simulator, start_app) -> None:
    async with crm_server(answers=False) as (url, received):
        async with start_app(FLOWS.replace("http://127.0.0.1:9/unused", url)) as app:
            channel = await sim.inject_call(did="5553000", caller="+15551230004")
            assert playing(sim, channel), "menu prompt"
            await sim.press(channel, "2")
            await eventually(lambda: received, what="the CRM asked")
            await sim.advance(1.0)  # the lookup's timeout
            assert phase_of(app, channel) == "queued", "fallback after timeout"
            assert record_of(app, channel).queue == "support"


async def test_crm_that_answers_500_or_garbage_takes_the_fallback(sim: Simulator, start_app) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=200, text="<html>not json</html>", content_type="text/html")

    app_web = web.Application()
    app_web.router.add_post("/lookup", broken)
    runner = web.AppRunner(app_web)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/lookup"
    try:
        async with start_app(FLOWS.replace("http://127.0.0.1:9/unused", url)) as app:
            channel = await sim.inject_call(did="5553000", caller="+15551230005")
            assert playing(sim, channel), "menu prompt"
            await sim.press(channel, "2")
            await eventually(lambda: phase_of(app, channel) == "queued", what="fallback")
            assert record_of(app, channel).queue == "support"
    finally:
        await runner.cleanup()


async def test_survey_score_is_stored_after_the_agent_hangs_up(sim: Simulator, start_app) -> None:
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.5))
    async with start_app(FLOWS + AGENTS) as app:
        channel = await sim.inject_call(did="5553000", caller="+15551230006")
        assert playing(sim, channel), "menu prompt"
        await sim.press(channel, "0")  # not an option, then no key: retries used up -> fallback support
        assert playing(sim, channel), "invalid prompt"
        await sim.press(channel, "0")
        assert agent_leg_up_in_sim(app, sim, channel), "agent ringing"
        await sim.advance(1.0)
        assert phase_of(app, channel) == "talking"
        await sim.hangup(record_of(app, channel).agent_channel, cause=16)  # the agent hangs up
        assert phase_of(app, channel) == "survey"
        assert playing(sim, channel), "survey question"
        await sim.press(channel, "4")
        await sim.advance(1.0)  # the thank-you prompt (a beep) plays out, then the caller is hung up
        record = await ended_call(app, channel)
        assert record.outcome == "completed" and record.survey.get("score") == "4"
        results = [f for _, kind, f in await app.store.events() if kind == "survey.result"]
        assert results[0]["answers"] == {"score": "4"} and results[0]["agent"] == "a1"


async def test_surge_announcement_switches_on_and_off_for_the_next_caller(sim: Simulator, start_app) -> None:
    async with start_app(FLOWS) as app:
        await app.surge.set(SurgeAnnouncement(active=True, prompt=("sound:beep",)))
        first = await sim.inject_call(did="5553000", caller="+15551230007")
        assert playing(sim, first), "first prompt"
        await app.surge.set(SurgeAnnouncement(active=False))
        second = await sim.inject_call(did="5553000", caller="+15551230008")
        assert playing(sim, second), "second prompt"
        media = {
            channel: [p.media for p in sim.core.playbacks.values() if p.target_uri == f"channel:{channel}"]
            for channel in (first, second)
        }
        assert "sound:beep" in json.dumps(media[first])
        assert "sound:beep" not in json.dumps(media[second])


TRUNK_TRANSFER = """
[dids.5554000]
flow = "out"
[trunks.provider1]
kind = "pjsip"
endpoint = "provider1"
capacity = 1
region = "US"
[ivr.destinations.hq]
number = "+12025550143"
trunk = "provider1"
[ivr.flows.out]
start = "hq"
[ivr.flows.out.nodes.hq]
kind = "transfer"
target = "hq"
"""


async def test_transfers_out_of_a_trunk_never_exceed_its_lines(sim: Simulator, start_app) -> None:
    """A one-line trunk carries one transfer at a time; the line is free again when that call ends."""
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=0.5))
    async with start_app(TRUNK_TRANSFER) as app:
        first = await sim.inject_call(did="5554000", caller="+15551230009")
        assert agent_leg_up_in_sim(app, sim, first) or phase_of(app, first) == "transfer", "first transfer dialling"
        second = await sim.inject_call(did="5554000", caller="+15551230010")
        record = await ended_call(app, second)  # refused
        assert record.outcome == "transfer_failed"
        leg = record_of(app, first).agent_channel
        assert sim.channel(leg)["name"].startswith("PJSIP/")  # dialled as PJSIP/<number>@provider1
        await sim.hangup(first, cause=16)
        await ended_call(app, first)
        third = await sim.inject_call(did="5554000", caller="+15551230011")
        assert phase_of(app, third) == "transfer", "third dialling on the freed line"


async def test_an_ended_call_leaves_no_channel_behind_in_the_routing_tables(sim: Simulator, start_app) -> None:
    """After a transfer call ends, none of its channels still routes to it (no leak under long uptimes)."""
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=0.5))
    async with start_app(TRUNK_TRANSFER) as app:
        channel = await sim.inject_call(did="5554000", caller="+15551230012")
        assert phase_of(app, channel) == "transfer", "dialling out"
        await sim.advance(0.5)  # the destination answers
        assert phase_of(app, channel) == "talking", "bridged"
        await sim.hangup(channel, cause=16)
        await ended_call(app, channel)
        assert not app.services.channels and not app.services.calls, "tables empty"


async def test_a_dtmf_flood_is_cut_short_without_flooding_the_logs_or_the_event_stream(
    sim: Simulator, start_app
) -> None:
    """Three thousand keys at once over the WebSocket: the call goes on to its fallback queue, at most 100 keys
    are reported, keys dropped (only while a step of the call waits: taken at once, each is a step of its own) are
    counted and logged now and then rather than one line each, no line is logged per key, and the next caller is
    served as usual."""
    async with start_app(FLOWS) as app:
        channel = await sim.inject_call(did="5553000", caller="+15551230009")
        await eventually(lambda: playing(sim, channel), what="menu prompt")
        with capture_logs() as logs:
            await sim.press(channel, "5" * 3000)  # not an option: invalid prompt, then the fallback
            await eventually(lambda: phase_of(app, channel) == "queued", what="fallback queue")
        dropped = app.metrics.dtmf_dropped._value.get()
        flood_lines = [line for line in logs if line["event"] == "call.inbox_full"]
        assert len(flood_lines) <= dropped // 100 + 1
        assert len(logs) < 50, [line["event"] for line in logs]
        await app.store.flush()
        call_id = record_of(app, channel).call_id
        keys = [f for _, kind, f in await app.store.events() if kind == "ivr.key" and f.get("call_id") == call_id]
        assert len(keys) <= MAX_KEY_EVENTS
        second = await sim.inject_call(did="5553000", caller="+15551230010")
        await eventually(lambda: playing(sim, second), what="the next caller's menu")
