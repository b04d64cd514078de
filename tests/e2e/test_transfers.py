"""Transfers to a named agent, attended transfers and conferences, end to end: the simulator through the
production ARI client, real Redis. The requests go in as the API hands them to a call
(``Application.deliver``); tests/api covers the HTTP side. After every scenario nothing is left behind: no agent
reserved, no leg up, no bridge, no trunk line."""

from __future__ import annotations

from typing import Any

from callcenter_ari.calls.messages import CancelConsult, CompleteTransfer, Consult, StartConference, TransferToAgent
from callcenter_ari.runtime.app import Application
from callcenter_ari.runtime.call import LiveCall
from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.e2e.helpers import agent_leg_up_in_sim, ended_call, phase_of, through_greeting, until

AGENTS = """
[queues.support]
wrapup_seconds = 60
[agents.a1]
endpoint = "PJSIP/agent1"
queues = ["support"]
[agents.a2]
endpoint = "PJSIP/agent2"
queues = ["support"]
[trunks.provider1]
kind = "pjsip"
endpoint = "provider1"
capacity = 1
region = "US"
[ivr.destinations.lawyer]
number = "+12025550143"
trunk = "provider1"
"""


async def connected_to_a1(app: Application, sim: Simulator, caller: str) -> LiveCall:
    """A caller on the support line answered by a1, while a2 is available and idle."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=0.5))
    await app.acd.log_out("a2")
    channel = await sim.inject_call(did="5552000", caller=caller)
    await through_greeting(sim, channel)
    assert agent_leg_up_in_sim(app, sim, channel), "a1 ringing"
    await sim.advance(1.0)
    assert phase_of(app, channel) == "talking", "talking with a1"
    await app.acd.log_in("a2")
    await sim.settle()
    return app.services.channels.call(channel)


def state(app: Application, agent: str) -> str:
    return app.acd.board.agents[agent].state


def assert_states(app: Application, **expected: str) -> None:
    assert {a: state(app, a) for a in expected} == expected, "agents' states"


def members(sim: Simulator) -> dict[str, set[str]]:
    """Each bridge in the simulator with the channels in it."""
    return {bridge["id"]: set(bridge["channels"]) for bridge in sim.bridges()}


async def kinds(app: Application, call_id: str) -> list[str]:
    return [kind for _, kind, fields in await app.store.events() if fields.get("call_id") == call_id]


async def consult_answered(app: Application, sim: Simulator, task: LiveCall, **phone: Any) -> str:
    """a1 consults a2, whose phone answers; returns the consult leg."""
    sim.add_phone("PJSIP/agent2", PhoneBehaviour(answer_after=0.5, **phone))
    app.deliver(task.call_id, Consult("agent", "a2"))
    await sim.settle()
    leg = task.machine.record.consult_channel
    assert leg, "consult leg dialled"
    assert sim.channel(leg) is not None, "consult leg in Asterisk"
    await sim.advance(1.0)
    assert task.machine.record.consult_answered_at is not None, "consult answered"
    return leg


async def nothing_left(app: Application, sim: Simulator, *channels: str) -> None:
    assert not app.services.calls and not app.services.channels, "call tables empty"
    assert sim.bridges() == []
    assert not {c["id"] for c in sim.channels()} & set(channels)
    assert all(record.state not in ("reserved", "talking") for record in app.acd.board.agents.values())
    await until(app, lambda: lines_busy(app, 0), what="the trunk's lines free")


async def lines_busy(app: Application, count: int) -> bool:
    """The trunk's lines in use, as Redis counts them for every process (a release is written with the next flush)."""
    return await app.services.lines.busy("provider1") == count


async def test_blind_transfer_to_a_named_agent_whose_phone_answers(sim: Simulator, start_app) -> None:
    """a1 hands the caller to a2: a1 wraps up, a2's phone rings and answers, caller and a2 talk in one bridge."""
    async with start_app(AGENTS) as app:
        task = await connected_to_a1(app, sim, "+15550301001")
        first_leg, caller = task.machine.record.agent_channel, task.caller_channel
        sim.add_phone("PJSIP/agent2", PhoneBehaviour(answer_after=0.5))
        app.deliver(task.call_id, TransferToAgent("a2"))
        await sim.settle()
        assert task.machine.record.phase == "handover", "ringing a2"
        assert_states(app, a1="wrapup", a2="reserved")
        assert sim.channel(first_leg) is None, "a1's leg hung up"
        assert sim.channel(task.machine.record.agent_channel) is not None, "a2's leg up"
        await sim.advance(1.0)
        assert task.machine.record.phase == "talking", "talking with a2"
        record = task.machine.record
        assert record.agent_id == "a2"
        assert_states(app, a2="talking")
        assert {caller, record.agent_channel} in members(sim).values(), "bridged with a2"
        await sim.hangup(caller, cause=16)
        ended = await ended_call(app, caller)
        assert ended.outcome == "completed" and ended.agent_id == "a2"
        assert_states(app, a2="wrapup")
        assert "call.transferred" in await kinds(app, task.call_id)
        await nothing_left(app, sim, first_leg, record.agent_channel)


async def test_blind_transfer_to_an_agent_who_does_not_answer_puts_the_caller_back_in_line(
    sim: Simulator, start_app
) -> None:
    async with start_app(AGENTS) as app:
        task = await connected_to_a1(app, sim, "+15550301002")
        enqueued_at = task.machine.record.enqueued_at
        sim.add_phone("PJSIP/agent2", PhoneBehaviour(kind="noanswer"))
        app.deliver(task.call_id, TransferToAgent("a2"))
        await sim.settle()
        assert task.machine.record.phase == "handover", "ringing a2"
        # The ring timeout runs on the simulator's clock from the originate: let it reach Asterisk first.
        assert sim.channel(task.machine.record.agent_channel) is not None, "a2's leg up"
        await sim.advance(11.0)  # the queue's ring timeout is 10 s
        assert task.machine.record.phase == "queued", "back in line"
        assert_states(app, a2="not_ready")
        assert app.acd.board.agents["a2"].reason == "ring_no_answer"
        assert task.machine.record.enqueued_at == enqueued_at  # at its original place
        await sim.hangup(task.caller_channel, cause=16)
        await nothing_left(app, sim)


async def test_attended_transfer_completed(sim: Simulator, start_app) -> None:
    """The caller holds while a1 and a2 talk apart; on completion the caller talks with a2 and a1 wraps up."""
    async with start_app(AGENTS) as app:
        task = await connected_to_a1(app, sim, "+15550301003")
        caller, first_leg = task.caller_channel, task.machine.record.agent_channel
        leg = await consult_answered(app, sim, task)
        assert {first_leg, leg} in members(sim).values(), "a1 and a2 in the consult bridge"
        assert {caller} in members(sim).values() and sim.core.channels[caller].moh is not None  # holding, music
        assert_states(app, a1="talking", a2="talking")
        app.deliver(task.call_id, CompleteTransfer())
        await sim.settle()
        assert members(sim) == {f"{task.call_id}-b": {caller, leg}}, "caller with a2"
        assert sim.channel(first_leg) is None, "a1's leg hung up"
        assert sim.core.channels[caller].moh is None
        assert task.machine.record.agent_id == "a2"
        assert_states(app, a1="wrapup", a2="talking")
        await sim.hangup(leg, cause=16)  # a2 ends the call
        ended = await ended_call(app, caller)
        assert ended.outcome == "completed"
        assert_states(app, a2="wrapup")
        events = await kinds(app, task.call_id)
        for kind in ("call.consult_started", "call.consult_answered", "call.transferred", "call.ended"):
            assert kind in events
        await nothing_left(app, sim, caller, leg, first_leg)


async def test_attended_transfer_cancelled(sim: Simulator, start_app) -> None:
    """The consult leg is hung up, and the caller is back with a1, off hold."""
    async with start_app(AGENTS) as app:
        task = await connected_to_a1(app, sim, "+15550301004")
        caller, first_leg = task.caller_channel, task.machine.record.agent_channel
        leg = await consult_answered(app, sim, task)
        app.deliver(task.call_id, CancelConsult())
        await sim.settle()
        assert members(sim) == {f"{task.call_id}-b": {caller, first_leg}}, "back with a1"
        assert sim.channel(leg) is None, "consult leg hung up"
        record = task.machine.record
        assert (record.phase, record.agent_id, record.held_since) == ("talking", "a1", None)
        assert sim.core.channels[caller].moh is None
        assert_states(app, a1="talking", a2="wrapup")  # a2 had talked: wrap-up
        assert "call.consult_cancelled" in await kinds(app, task.call_id)
        await sim.hangup(caller, cause=16)
        await ended_call(app, caller)
        await nothing_left(app, sim, first_leg, leg)


async def test_consulting_a_destination_that_does_not_answer_frees_its_trunk_line(sim: Simulator, start_app) -> None:
    sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(kind="noanswer"))
    async with start_app(AGENTS) as app:
        task = await connected_to_a1(app, sim, "+15550301005")
        app.deliver(task.call_id, Consult("destination", "lawyer"))
        await sim.settle()
        assert task.machine.record.consult_channel, "dialling out"
        assert await lines_busy(app, 1), "line taken"
        assert sim.channel(task.machine.record.consult_channel) is not None, "leg in Asterisk"
        await sim.advance(31.0)
        assert task.machine.record.phase == "talking", "back with a1"
        assert await lines_busy(app, 0), "line free"
        assert "call.consult_failed" in await kinds(app, task.call_id)
        await sim.hangup(task.caller_channel, cause=16)
        await nothing_left(app, sim)


async def test_the_caller_hanging_up_during_a_consultation_ends_everything(sim: Simulator, start_app) -> None:
    async with start_app(AGENTS) as app:
        task = await connected_to_a1(app, sim, "+15550301006")
        caller, first_leg = task.caller_channel, task.machine.record.agent_channel
        leg = await consult_answered(app, sim, task)
        await sim.hangup(caller, cause=16)
        ended = await ended_call(app, caller)
        assert ended.outcome == "completed"
        await nothing_left(app, sim, first_leg, leg)
        assert_states(app, a1="wrapup", a2="wrapup")


async def test_conference_where_the_first_agent_leaves(sim: Simulator, start_app) -> None:
    """Three in one bridge; a1 leaves and the caller and a2 talk on; then the call ends and both agents wrap up."""
    async with start_app(AGENTS) as app:
        task = await connected_to_a1(app, sim, "+15550301007")
        caller, first_leg = task.caller_channel, task.machine.record.agent_channel
        leg = await consult_answered(app, sim, task)
        app.deliver(task.call_id, StartConference())
        await sim.settle()
        bridge = f"{task.call_id}-b"
        assert members(sim) == {bridge: {caller, first_leg, leg}}, "three in one bridge"
        assert task.machine.record.phase == "conference" and sim.core.channels[caller].moh is None
        await sim.hangup(first_leg, cause=16)  # a1 leaves
        assert task.machine.record.phase == "talking", "caller and a2 talk on"
        assert members(sim) == {bridge: {caller, leg}}
        assert task.machine.record.agent_id == "a2"
        assert_states(app, a1="wrapup")
        await sim.hangup(caller, cause=16)
        ended = await ended_call(app, caller)
        assert ended.outcome == "completed"
        assert_states(app, a1="wrapup", a2="wrapup")
        events = await kinds(app, task.call_id)
        assert "call.conference_started" in events and "call.party_left" in events
        await nothing_left(app, sim, first_leg, leg)
