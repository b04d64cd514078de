"""Persistent agents end to end: the phone stays in a bridge of the agent's own, callers are joined with no ring."""

from __future__ import annotations

import pytest

from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.e2e.helpers import ended_call, phase_of, through_greeting
from tests.e2e.test_feature_codes import dial

PERSISTENT = """
[queues.support]
wrapup_seconds = 0.3
[agents.p1]
endpoint = "PJSIP/agent1"
queues = ["support"]
persistent = true
"""


def in_bridge(sim: Simulator, *channels: str) -> str | None:
    """The id of the bridge that holds exactly these channels, if any."""
    for bridge in sim.bridges():
        if sorted(bridge["channels"]) == sorted(channels):
            return str(bridge["id"])
    return None


async def line_up(app: Application, sim: Simulator) -> str:
    """Let the agent's phone answer the application's call (after 1 s); returns the line's channel id."""
    await sim.advance(1.0)
    line = app.standing.line("p1")
    assert line is not None, "the agent's line up"
    assert app.acd.board.agents["p1"].state == "available"
    return line.channel


async def joined_call(app: Application, sim: Simulator, line: str, caller: str) -> str:
    channel = await sim.inject_call(did="5552000", caller=caller)
    await through_greeting(sim, channel)
    assert phase_of(app, channel) == "talking"
    assert in_bridge(sim, line, channel), "caller in the agent's bridge"
    return channel


async def events_of(app: Application, kind: str) -> list[dict]:  # type: ignore[type-arg]
    return [fields for _, k, fields in await app.store.events() if k == kind]


async def test_a_persistent_agent_takes_two_calls_in_a_row_without_being_rung(sim: Simulator, start_app) -> None:
    """Logged in at start: the phone is called once. Each caller is joined into the agent's bridge (answered with
    no ring), the agent stays there when the caller hangs up, goes to wrap-up, and takes the next call."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0))
    async with start_app(PERSISTENT) as app:
        line = await line_up(app, sim)
        bridge = in_bridge(sim, line)
        assert bridge is not None
        for caller in ("+15550007001", "+15550007002"):
            channel = await joined_call(app, sim, line, caller)
            assert app.acd.board.agents["p1"].state == "talking"
            await sim.advance(20.0)
            await sim.hangup(channel, cause=16)
            record = await ended_call(app, channel)
            assert (record.outcome, record.agent_id) == ("completed", "p1")
            assert app.acd.board.agents["p1"].state == "wrapup"
            assert in_bridge(sim, line) == bridge  # the agent waits where they were
            await sim.advance(0.3)
            assert app.acd.board.agents["p1"].state == "available", "wrap-up over"
        assert [o["app_args"] for o in sim.originates("PJSIP/agent1")] == [["persistent", "p1"]]
        answered = await events_of(app, "call.answered")
        assert [(e["agent"], e["ring"]) for e in answered] == [("p1", 0.0), ("p1", 0.0)]
        states = [e["state"] for e in await events_of(app, "agent.state") if e["agent"] == "p1"]
        assert states == ["available", *["talking", "wrapup", "available"] * 2]  # reserving is not told
        figures = app.stats.live(app.clock.now()).queues["support"].today
        assert (figures.entered, figures.answered, figures.abandoned) == (2, 2, 0)


async def test_logging_out_hangs_up_the_agents_line_and_their_bridge_goes(sim: Simulator, start_app) -> None:
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0))
    async with start_app(PERSISTENT) as app:
        line = await line_up(app, sim)
        await app.acd.log_out("p1")
        await sim.settle()
        assert sim.channel(line) is None, "line hung up"
        assert sim.bridges() == [], "bridge destroyed"
        assert app.acd.board.agents["p1"].state == "logged_out"
        assert app.standing.line("p1") is None
        await app.store.flush()
        assert await app.store.lines() == {}


async def test_the_agent_hanging_up_mid_call_ends_it_and_logs_them_out(sim: Simulator, start_app) -> None:
    """The caller is released by the agent (hung up), the agent is logged out, nothing is left behind."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0))
    async with start_app(PERSISTENT) as app:
        line = await line_up(app, sim)
        channel = await joined_call(app, sim, line, "+15550007003")
        await sim.hangup(line, cause=16)
        record = await ended_call(app, channel)
        assert record.outcome == "completed"
        [ended] = [e for e in await events_of(app, "call.ended") if e["call_id"] == record.call_id]
        assert ended["released_by"] == "agent"
        assert app.acd.board.agents["p1"].state == "logged_out"
        assert sim.channels() == [] and sim.bridges() == [], "nothing left up"
        assert [e["line"] for e in await events_of(app, "agent.line")] == ["connecting", "up", "down"]


async def test_the_log_in_code_keeps_the_agents_call_as_their_line(sim: Simulator, start_app) -> None:
    """As Asterisk's AgentLogin: the agent dials *41 and stays on; a caller is joined to that very call."""
    async with start_app(PERSISTENT.replace("persistent = true", "persistent = true\nlogged_in = false")) as app:
        assert app.acd.board.agents["p1"].state == "logged_out"
        await dial(sim, "PJSIP/agent1", "*41", "desk-1")
        await sim.advance(0.1)  # the phone answers
        assert app.acd.board.agents["p1"].state == "available", "p1 logged in"
        await sim.advance(5.0)  # the confirmation plays out; the call stays up
        assert sim.channel("desk-1") is not None
        await joined_call(app, sim, "desk-1", "+15550007004")
        assert sim.originates("PJSIP/agent1") == []


async def test_a_restart_keeps_the_agent_logged_in_on_the_line_still_up(sim: Simulator, start_app) -> None:
    """The line survives a restart of the application: the agent is still logged in, in their bridge, and is not
    called again; a line that ended while the application was down logs its agent out."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=1.0))
    async with start_app(PERSISTENT) as app:
        line = await line_up(app, sim)
        await app.store.flush()
    async with start_app(PERSISTENT) as app:
        assert app.standing.line("p1") is not None and app.acd.board.agents["p1"].state == "available"
        await joined_call(app, sim, line, "+15550007005")
        assert len(sim.originates("PJSIP/agent1")) == 1
        await app.store.flush()
    await sim.hangup(line, cause=16)
    async with start_app(PERSISTENT) as app:
        assert app.acd.board.agents["p1"].state == "logged_out"
        assert sim.channels() == [], "the caller, whose agent left, hung up"


RING_ALL = """
[queues.support]
strategy = "ring_all"
[agents.a1]
endpoint = "PJSIP/agent1"
queues = ["support"]
[agents.a2]
endpoint = "PJSIP/agent2"
queues = ["support"]
[agents.a3]
endpoint = "PJSIP/agent3"
queues = ["support"]
"""


@pytest.mark.parametrize("first_answers_after", [4.0, 1.0], ids=["one_answers", "two_answer_at_once"])
async def test_ring_all_rings_three_agents_and_the_others_are_released_when_one_answers(
    sim: Simulator, start_app, first_answers_after: float
) -> None:
    """Exactly one agent gets the call, even when two answer in the same instant; the others are available again
    (not "no answer"), their legs hung up, in Redis and in the statistics too."""
    sim.add_phone("PJSIP/agent1", PhoneBehaviour(answer_after=first_answers_after))
    sim.add_phone("PJSIP/agent2", PhoneBehaviour(answer_after=1.0))
    sim.add_phone("PJSIP/agent3", PhoneBehaviour(kind="noanswer"))
    async with start_app(RING_ALL) as app:
        channel = await sim.inject_call(did="5552000", caller="+15550008001")
        await through_greeting(sim, channel)
        assert len(sim.originates()) == 3, "three agents rung"
        await sim.advance(1.0)  # a2 answers (and a1 too, when it answers after 1 s)
        assert phase_of(app, channel) == "talking"
        agents = app.acd.board.agents
        task = app.services.channels.call(channel)
        winner, agent = task.machine.record.agent_channel, task.machine.record.agent_id
        states = {"a1": "available", "a2": "available", "a3": "available", agent: "talking"}
        assert {a: r.state for a, r in agents.items()} == states, "the others freed"
        assert {c["id"] for c in sim.channels()} == {channel, winner}, "losing legs hung up"
        await app.store.flush()
        assert {a.agent_id: a.state for a in await app.agent_store.read_all()} == states
        await sim.hangup(channel, cause=16)
        record = await ended_call(app, channel)
        offered = [e["agent"] for e in await events_of(app, "call.offered") if e["call_id"] == record.call_id]
        assert sorted(offered) == ["a1", "a2", "a3"]
        assert [e["agent"] for e in await events_of(app, "call.answered")] == [agent]
        assert await events_of(app, "call.agent_failed") == []  # the others were not "no answer"
        figures = app.stats.live(app.clock.now()).queues["support"].today
        assert (figures.entered, figures.answered) == (1, 1)
