"""Supervisors listen to, whisper into and barge into a live call through the API (snoop channels)."""

from __future__ import annotations

import pytest

from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.api.conftest import OpenApi, call_with_agent

SUPERVISOR = '\n[supervisors.sv1]\nendpoint = "PJSIP/sup1"\nname = "Sam"\n'


def bridge_with(sim: Simulator, channel: str) -> dict | None:  # type: ignore[type-arg]
    return next((b for b in sim.bridges() if channel in b["channels"]), None)


@pytest.mark.parametrize("mode", ["listen", "whisper"])
async def test_supervisor_hears_the_call_through_a_snoop(sim: Simulator, open_api: OpenApi, mode: str) -> None:
    sim.add_phone("PJSIP/sup1", PhoneBehaviour(answer_after=0.5))
    async with open_api(SUPERVISOR) as api:
        channel = await call_with_agent(api.app, sim, "+15550606060")
        call_id = api.app.services.channels.call(channel).call_id
        agent_leg = api.app.services.channels.call(channel).machine.record.agent_channel
        async with api.client("supervisor") as http:
            answer = await http.post(f"/api/v1/calls/{call_id}/monitor", json={"supervisor": "sv1", "mode": mode})
            assert answer.status_code == 202, answer.text
            session = answer.json()["session_id"]
        supervisor_leg = f"{session}-sup"
        await sim.settle()
        await sim.advance(0.5)  # the supervisor's phone answers
        snoop = bridge_with(sim, supervisor_leg)
        assert snoop is not None, "supervisor bridged"
        assert set(snoop["channels"]) == {supervisor_leg, f"{session}-snoop"}  # not the call's own bridge
        assert sim.channel(f"{session}-snoop")["name"].startswith(f"Snoop/{agent_leg}")
        await sim.hangup(supervisor_leg, cause=16)  # the supervisor is done
        assert sim.channel(f"{session}-snoop") is None, "snoop cleaned up"
        assert api.app.services.channels.call(channel).machine.record.phase == "talking"  # the call goes on


async def test_barge_joins_the_call_and_ends_with_it(sim: Simulator, open_api: OpenApi) -> None:
    sim.add_phone("PJSIP/sup1", PhoneBehaviour(answer_after=0.5))
    async with open_api(SUPERVISOR) as api:
        channel = await call_with_agent(api.app, sim, "+15550707070")
        record = api.app.services.channels.call(channel).machine.record
        async with api.client("supervisor") as http:
            answer = await http.post(
                f"/api/v1/calls/{record.call_id}/monitor", json={"supervisor": "sv1", "mode": "barge"}
            )
            session = answer.json()["session_id"]
        supervisor_leg = f"{session}-sup"
        await sim.settle()
        await sim.advance(0.5)  # the supervisor's phone answers
        bridge = bridge_with(sim, supervisor_leg)
        assert bridge is not None, "supervisor in the call"
        assert bridge["id"] == record.bridge_id and {channel, record.agent_channel} <= set(bridge["channels"])
        await sim.hangup(channel, cause=16)  # the caller hangs up: the call ends, and the supervisor with it
        assert sim.channel(supervisor_leg) is None, "supervisor hung up"
        assert not api.app.monitor.sessions


async def test_monitoring_needs_a_configured_supervisor_and_the_right_role(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api(SUPERVISOR) as api:
        channel = await call_with_agent(api.app, sim, "+15550808080")
        call_id = api.app.services.channels.call(channel).call_id
        async with api.client("supervisor") as http:
            unknown = await http.post(f"/api/v1/calls/{call_id}/monitor", json={"supervisor": "nobody"})
            assert unknown.status_code == 409 and "no supervisor" in unknown.json()["message"]
            dial_string = await http.post(f"/api/v1/calls/{call_id}/monitor", json={"supervisor": "PJSIP/x&DAHDI/g1"})
            assert dial_string.status_code == 422  # never a dial string from a request
        async with api.client("agent1") as http:
            forbidden = await http.post(f"/api/v1/calls/{call_id}/monitor", json={"supervisor": "sv1"})
            assert forbidden.status_code == 403


async def test_the_supervisor_changes_mode_during_the_session(sim: Simulator, open_api: OpenApi) -> None:
    """Asking again with another mode moves the supervisor of the live session (no second ring): listen -> barge
    (into the call's bridge, the snoop and its bridge gone) -> whisper (a new snoop heard by the agent) -> the
    supervisor hangs up, nothing of the session left."""
    sim.add_phone("PJSIP/sup1", PhoneBehaviour(answer_after=0.5))
    async with open_api(SUPERVISOR) as api:
        channel = await call_with_agent(api.app, sim, "+15550909090")
        record = api.app.services.channels.call(channel).machine.record
        ask = f"/api/v1/calls/{record.call_id}/monitor"
        async with api.client("supervisor") as http:
            session = (await http.post(ask, json={"supervisor": "sv1", "mode": "listen"})).json()["session_id"]
            leg = f"{session}-sup"
            await sim.settle()
            await sim.advance(0.5)  # the supervisor's phone answers
            assert set(bridge_with(sim, leg)["channels"]) == {leg, f"{session}-snoop"}  # type: ignore[index]

            again = await http.post(ask, json={"supervisor": "sv1", "mode": "barge"})
            assert again.status_code == 202 and again.json()["session_id"] == session
            await sim.settle()
            barged = bridge_with(sim, leg)
            assert barged is not None and barged["id"] == record.bridge_id
            assert sim.channel(f"{session}-snoop") is None and not [
                b for b in sim.bridges() if b["id"] == f"{session}-b"
            ]

            await http.post(ask, json={"supervisor": "sv1", "mode": "whisper"})
            await sim.settle()
            own = bridge_with(sim, leg)
            assert own is not None and own["id"] != record.bridge_id
            [snoop] = [c for c in own["channels"] if c != leg]
            assert sim.channel(snoop)["name"].startswith(f"Snoop/{record.agent_channel}")
            assert leg not in bridge_with(sim, channel)["channels"]  # type: ignore[index]
        await sim.hangup(leg, cause=16)
        await sim.settle()
        assert sim.channel(snoop) is None and bridge_with(sim, leg) is None
        assert not [b for b in sim.bridges() if b["id"].startswith(session)]
        assert not api.app.monitor.sessions
        assert api.app.services.channels.call(channel).machine.record.phase == "talking"
