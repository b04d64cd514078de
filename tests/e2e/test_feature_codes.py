"""Agents change their state by dialling feature codes from their phones."""

from __future__ import annotations

import anyio
import pytest

from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.transport import Endpoint
from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.e2e.helpers import AGENT, PASSWORD, USER

CONFIRMATION_SECONDS = 1.3  # the longest confirmation prompt (sound:invalid)

TEAM = """
[teams.t1]
max_on_break = 0
"""


async def dial(sim: Simulator, endpoint: str, code: str, channel_id: str) -> None:
    """What the dialplan's agent-phones context does: the phone's call enters Stasis with the code (originated by a
    harness of its own, which answers after 0.1 s)."""
    sim.add_phone("PJSIP/desk", PhoneBehaviour(answer_after=0.1))
    client = AriClient(Endpoint(sim.base_url, "callcenter-harness", USER, PASSWORD), transport=sim.transport)

    async def ignore(message: object) -> None:
        pass

    async with anyio.create_task_group() as tg:
        await tg.start(client.run, ignore)
        query = {"endpoint": "PJSIP/desk", "app": "callcenter", "appArgs": f"agentphone,{endpoint},{code}"}
        await client.request("POST", f"channels/{channel_id}", query)
        tg.cancel_scope.cancel()


@pytest.mark.parametrize(
    ("code", "before", "after"),
    [("*42", "available", "logged_out"), ("*44", "available", "not_ready"), ("*43", "not_ready", "available")],
)
async def test_a_code_changes_the_agent_state_and_the_phone_is_hung_up(
    sim: Simulator, start_app, code: str, before: str, after: str
) -> None:
    async with start_app(AGENT) as app:
        if before == "not_ready":
            await app.acd.not_ready("a1", "lunch", policed=False)
        assert app.acd.board.agents["a1"].state == before
        await dial(sim, "PJSIP/agent1", code, "desk-1")
        await sim.advance(0.1)  # the phone answers: the code is taken
        assert app.acd.board.agents["a1"].state == after
        await sim.advance(CONFIRMATION_SECONDS)
        assert sim.channel("desk-1") is None, "phone hung up after the confirmation"


async def test_unknown_phone_or_code_changes_nothing(sim: Simulator, start_app) -> None:
    async with start_app(AGENT) as app:
        await dial(sim, "PJSIP/stranger", "*42", "desk-2")
        await dial(sim, "PJSIP/agent1", "*99", "desk-3")
        await sim.advance(0.1 + CONFIRMATION_SECONDS)
        assert sim.channel("desk-2") is None and sim.channel("desk-3") is None, "both hung up"
        assert app.acd.board.agents["a1"].state == "available"


async def test_a_break_beyond_the_team_policy_is_refused(sim: Simulator, start_app) -> None:
    async with start_app(AGENT.replace('queues = ["support"]', 'queues = ["support"]\nteams = ["t1"]') + TEAM) as app:
        await dial(sim, "PJSIP/agent1", "*45", "desk-4")
        await sim.advance(0.1 + CONFIRMATION_SECONDS)
        assert sim.channel("desk-4") is None, "phone hung up"
        assert app.acd.board.agents["a1"].state == "available"
