"""Callbacks end to end: the simulator through the production ARI client, real Redis. A caller at position 3 takes
the offer, confirms their number and hangs up; the callback keeps their place; its turn comes after the two callers
before it, the agent hears who is called back, the customer is dialled through the trunk and both are bridged. A
second request from the same number is refused, and that caller is told so and keeps waiting."""

from __future__ import annotations

from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import CallerScript, PhoneBehaviour, Simulator
from tests.e2e.helpers import GREETING_SECONDS, ended_call, phase_of, through_greeting, until

CONFIG = """
[queues.support]
wrapup_seconds = 0
[queues.support.callback]
offer_after_seconds = 20
mode = "agent_first"
[agents.a1]
endpoint = "PJSIP/agent1"
queues = ["support"]
logged_in = false
[trunks.provider1]
kind = "pjsip"
endpoint = "provider1"
capacity = 10
region = "US"
[callback]
trunks = ["provider1"]
caller_id = "+12025550100"
[callback.plan]
region = "US"
"""
CALLERS = ("+12025550101", "+12025550102", "+12025550103")
OFFER, CONFIRM, ACCEPTED, PENDING = 3.5, 1.5 + 0.773 * 11 + 3.0, 3.5, 3.0


async def events(app: Application, prefix: str) -> list[tuple[str, dict]]:
    await app.store.flush()
    return [(kind, fields) for _, kind, fields in await app.store.events() if kind.startswith(prefix)]


async def three_waiting(app: Application, sim: Simulator) -> list[str]:
    channels = []
    for number in CALLERS:
        channels.append(await sim.inject_call(did="5552000", caller=number, script=CallerScript(talk=5.0)))
        await sim.advance(1.0)
    await sim.advance(GREETING_SECONDS)
    assert [phase_of(app, c) for c in channels] == ["queued"] * 3
    return channels


async def takes_the_offer(sim: Simulator, channel: str) -> None:
    """Offered after 20 s of waiting; the caller presses 1, hears their number and presses 1 to keep it."""
    await sim.press(channel, "1")
    await sim.advance(1.0)
    await sim.press(channel, "1")


async def test_caller_at_position_3_is_called_back_in_their_place(sim: Simulator, start_app) -> None:
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0))
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=2.0, talk=30.0))
    async with start_app(CONFIG) as app:
        first, second, third = await three_waiting(app, sim)
        await sim.advance(20.0)  # every waiting caller hears the offer
        assert app.acd.board.position(app.services.channels.call(third).call_id) == 3
        third_call = app.services.channels.call(third).call_id
        await takes_the_offer(sim, third)
        await sim.advance(ACCEPTED)
        record = await ended_call(app, third)
        assert record.outcome == "callback_requested" and record.callback_id
        callback_id = record.callback_id
        assert sim.channel(third) is None, "the caller was hung up after hearing the callback is saved"

        [stored] = await app.callbacks._store.live()
        assert stored.entry.state == "due" and stored.entry.number == CALLERS[2]
        assert stored.entry.place == record.enqueued_at, "its place is the caller's arrival"
        waiting = app.acd.board.waiting("support")
        assert waiting == [
            app.services.channels.call(first).call_id,
            app.services.channels.call(second).call_id,
            callback_id,
        ]
        assert third_call not in waiting

        await app.acd.log_in("a1")  # the two callers before it are served first
        await sim.settle()
        for _ in range(2):
            await sim.advance(1.0)  # the agent answers
            await sim.advance(5.0)  # they talk, the caller hangs up
        assert (await ended_call(app, first)).outcome == "completed"
        assert (await ended_call(app, second)).outcome == "completed"

        # Its turn: the agent's phone rings first and hears who is called back, then the customer's rings.
        agent_leg = f"{callback_id}-a1"
        assert any(o["channel_id"] == agent_leg for o in sim.originates("PJSIP/agent1"))
        await sim.advance(1.0)
        customer = sim.originates(f"PJSIP/{CALLERS[2]}@provider1")
        assert [o["channel_id"] for o in customer] == [f"{callback_id}-k1"]
        await sim.advance(2.0)
        bridged = [set(b["channels"]) for b in sim.bridges()]
        assert {agent_leg, f"{callback_id}-k1"} in bridged, "agent and customer talk"
        assert app.acd.board.agents["a1"].state == "talking"
        kinds = [kind for kind, fields in await events(app, "callback.") if fields["callback_id"] == callback_id]
        assert kinds == ["callback.requested", "callback.attempted", "callback.connected"]
        assert await app.callbacks._store.live() == []

        await sim.advance(30.0)  # the customer hangs up: the agent's leg ends, the agent wraps up and is free
        assert sim.channel(agent_leg) is None and sim.bridges() == []
        await until(app, lambda: app.acd.board.agents["a1"].state == "available", "agent free again")
        await until(app, lambda: _lines_free(app), "trunk lines given back")
        assert app.callbacks.queue_figures("support").connected == 1


async def _lines_free(app: Application) -> bool:
    return await app.services.lines.busy("provider1") == 0


async def test_a_second_request_from_the_same_number_is_refused_and_the_caller_told(sim: Simulator, start_app) -> None:
    async with start_app(CONFIG) as app:
        first = await sim.inject_call(did="5552000", caller=CALLERS[0])
        await through_greeting(sim, first)
        await sim.advance(20.0)
        await takes_the_offer(sim, first)
        await sim.advance(ACCEPTED)
        assert (await ended_call(app, first)).outcome == "callback_requested"

        again = await sim.inject_call(did="5552000", caller=CALLERS[0])
        await through_greeting(sim, again)
        await sim.advance(20.0)
        await takes_the_offer(sim, again)
        assert phase_of(app, again) == "callback"
        await sim.advance(PENDING)
        assert phase_of(app, again) == "queued", "told, and back in line"
        task = app.services.channels.call(again)
        assert app.acd.board.position(task.call_id) == 2, "behind the callback, which came first"
        declined = [f for kind, f in await events(app, "call.callback_declined")]
        assert [f["reason"] for f in declined] == ["pending"]
        assert len(await app.callbacks._store.live()) == 1


SURGE_FLOW = """
[dids.5553000]
flow = "main"
[ivr.flows.main]
start = "surge"
[ivr.flows.main.nodes.surge]
kind = "surge"
next = "q"
callback = "cb"
callback_key = "2"
[ivr.flows.main.nodes.q]
kind = "queue"
queue = "support"
[ivr.flows.main.nodes.cb]
kind = "callback"
queue = "support"
"""


async def test_the_surge_announcements_callback_key_saves_a_callback(sim: Simulator, start_app) -> None:
    """``offer_callback`` (API and ``callcenter-ari surge --offer-callback``): the caller presses the flow's key."""
    from callcenter_ari.ivr import SurgeAnnouncement

    async with start_app(CONFIG + SURGE_FLOW) as app:
        await app.surge.set(SurgeAnnouncement(active=True, prompt=("sound:beep",), offer_callback=True))
        channel = await sim.inject_call(did="5553000", caller=CALLERS[0])
        await sim.press(channel, "2")
        assert phase_of(app, channel) == "callback"
        await sim.advance(1.0)
        await sim.press(channel, "1")  # the calling number
        await sim.advance(ACCEPTED)
        record = await ended_call(app, channel)
        assert record.outcome == "callback_requested"
        [stored] = await app.callbacks._store.live()
        assert stored.entry.number == CALLERS[0] and stored.entry.state == "due"


RELAXATION = """
[[queues.support.steps]]
after = 15
action = "callback"
"""


async def test_a_relaxation_step_with_action_callback_offers_it(sim: Simulator, start_app) -> None:
    config = CONFIG.replace("offer_after_seconds = 20\n", "") + RELAXATION
    async with start_app(config) as app:
        channel = await sim.inject_call(did="5552000", caller=CALLERS[1])
        await through_greeting(sim, channel)
        await sim.advance(14.0)
        assert not app.services.channels.call(channel).machine.record.callback_offered
        await sim.advance(1.0)
        offers = [p for p in sim.core.playbacks.values() if "sound:custom/callback-offer" in p.media]
        assert offers, "the caller hears the offer"
        await takes_the_offer(sim, channel)
        await sim.advance(ACCEPTED)
        assert (await ended_call(app, channel)).outcome == "callback_requested"


async def test_no_answer_is_retried_after_the_interval_then_connected(sim: Simulator, start_app) -> None:
    config = CONFIG.replace('mode = "agent_first"', 'mode = "customer_first"\nretry_seconds = 60')
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0))
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(kind="noanswer"))
    async with start_app(config) as app:
        entry = await app.callbacks.schedule(queue="support", number=CALLERS[0])
        await app.acd.log_in("a1")
        await sim.settle()
        customer = f"PJSIP/{CALLERS[0]}@provider1"
        assert [o["channel_id"] for o in sim.originates(customer)] == [f"{entry.id}-k1"]
        assert sim.originates("PJSIP/agent1") == [], "customer first: the agent is not rung yet"
        await sim.advance(31.0)  # rings out
        failed = [f for kind, f in await events(app, "callback.failed")]
        assert [(f["outcome"], f["retry"]) for f in failed] == [("no_answer", True)]
        assert app.acd.board.agents["a1"].state == "available", "the reserved agent is free again"
        sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=1.0, talk=10.0))
        await sim.advance(59.0)
        assert len(sim.originates(customer)) == 2
        await sim.advance(1.0)  # the customer answers: the agent is rung
        await sim.advance(1.0)  # the agent answers: bridged
        kinds = [kind for kind, f in await events(app, "callback.") if f["callback_id"] == entry.id]
        assert kinds == [
            "callback.requested",
            "callback.attempted",
            "callback.failed",
            "callback.attempted",
            "callback.connected",
        ]


async def test_after_the_last_attempt_the_callback_expires_with_an_event(sim: Simulator, start_app) -> None:
    config = CONFIG.replace('mode = "agent_first"', 'mode = "customer_first"\nretry_seconds = 60\nmax_attempts = 2')
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(kind="busy"))
    async with start_app(config) as app:
        entry = await app.callbacks.schedule(queue="support", number=CALLERS[0])
        await app.acd.log_in("a1")
        await sim.settle()
        await sim.advance(61.0)
        kinds = [(kind, f.get("reason")) for kind, f in await events(app, "callback.") if f["callback_id"] == entry.id]
        assert kinds[-2:] == [("callback.failed", None), ("callback.expired", "attempts")]
        assert len(sim.originates(f"PJSIP/{CALLERS[0]}@provider1")) == 2
        assert app.callbacks.queue_figures("support").expired == 1
        assert await app.callbacks._store.live() == []


TWO_AGENTS = """
[agents.a2]
endpoint = "PJSIP/agent2"
queues = ["support"]
[queues.support.callback.window]
zone = "UTC"
calling_hours = ["00:00-24:00"]
calling_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
"""


async def test_a_callback_for_one_agent_waits_for_them_then_falls_back_to_anyone(sim: Simulator, start_app) -> None:
    config = CONFIG.replace('mode = "agent_first"', 'mode = "agent_first"\nanyone_after_seconds = 120') + TWO_AGENTS
    sim.add_phone("PJSIP/agent2", PhoneBehaviour(answer_after=1.0))
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=1.0, talk=10.0))
    async with start_app(config) as app:
        assert app.acd.board.agents["a2"].state == "available" and app.acd.board.agents["a1"].state == "logged_out"
        entry = await app.callbacks.schedule(queue="support", number=CALLERS[0], agent="a1")
        await sim.advance(119.0)
        assert sim.originates("PJSIP/agent2") == [], "a2 is free, but the callback is a1's"
        assert entry.id not in app.acd.board.waiting("support")
        await sim.advance(1.0)  # a1 never came: anyone may take it
        assert [o["channel_id"] for o in sim.originates("PJSIP/agent2")] == [f"{entry.id}-a1"]
        await sim.advance(1.0)
        await sim.advance(1.0)
        assert (await app.callbacks._store.get(entry.id)).entry.state == "connected"  # type: ignore[union-attr]


async def test_a_callback_for_one_agent_goes_to_them_when_they_are_free(sim: Simulator, start_app) -> None:
    config = CONFIG.replace('mode = "agent_first"', 'mode = "agent_first"\nanyone_after_seconds = 600') + TWO_AGENTS
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0))
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=1.0, talk=10.0))
    async with start_app(config) as app:
        entry = await app.callbacks.schedule(queue="support", number=CALLERS[0], agent="a1")
        await sim.advance(30.0)
        await app.acd.log_in("a1")
        await sim.advance(15.0)  # the next look for a1
        assert [o["channel_id"] for o in sim.originates("PJSIP/agent1")] == [f"{entry.id}-a1"]
        assert sim.originates("PJSIP/agent2") == []


async def test_a_pending_callback_outlives_redis_losing_its_data(sim: Simulator, start_app) -> None:
    """Redis loses every key of a pending callback (restarted without persistence): the process writes it back from
    what it holds at its next comparison, and the callback is dialled once when an agent comes."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0))
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=1.0, talk=10.0))
    async with start_app(CONFIG) as app:
        entry = await app.callbacks.schedule(queue="support", number=CALLERS[0])
        keys = app.store.keys
        await app.store.redis.delete(keys.callback(entry.id), keys.callbacks_live, keys.callbacks_pending("support"))
        await app.callbacks.sync()
        back = await app.callbacks.store.get(entry.id)
        assert back is not None and back.entry.state == "due"
        assert [s.entry.id for s in await app.callbacks.store.live()] == [entry.id]
        await app.acd.log_in("a1")
        await sim.advance(5.0)
        assert [o["channel_id"] for o in sim.originates("PJSIP/agent1")] == [f"{entry.id}-a1"]
        assert len(sim.originates(f"PJSIP/{CALLERS[0]}@provider1")) == 1
        assert (await app.callbacks.store.get(entry.id)).entry.state == "connected"  # type: ignore[union-attr]
