"""Recording across a conference and an attended transfer, end to end: each agent's part is a segment of its own,
and every segment is finished in Asterisk and in Redis when the call ends."""

from __future__ import annotations

from callcenter_ari.calls.messages import CompleteTransfer, StartConference
from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import Simulator
from tests.e2e.helpers import ended_call
from tests.e2e.test_transfers import AGENTS, connected_to_a1, consult_answered, nothing_left

RECORDED = AGENTS + '\n[recording.default]\nmode = "all"\n'


async def segments(app: Application, call_id: str) -> dict[str, tuple[str, str, float]]:
    """name -> (agent, state, duration) of the call's recordings in Redis."""
    await app.store.flush()
    names = await app.recordings.recordings.names(call_id=call_id)
    return {r.name: (r.agent_id, r.state, r.duration) for r in await app.recordings.recordings.get_many(names)}


async def test_a_conference_keeps_recording_and_the_agent_who_stays_gets_the_next_segment(
    sim: Simulator, start_app
) -> None:
    async with start_app(RECORDED) as app:
        task = await connected_to_a1(app, sim, "+15550401001")
        caller, first_leg, call_id = task.caller_channel, task.machine.record.agent_channel, task.call_id
        assert f"{call_id}-r1" in sim.core.live_recordings, "first segment"
        leg = await consult_answered(app, sim, task)
        app.deliver(call_id, StartConference())
        await sim.settle()
        assert task.machine.record.phase == "conference", "conference"
        await sim.advance(10)
        assert set(sim.core.live_recordings) == {f"{call_id}-r1"}  # the conference is in the first segment
        await sim.hangup(first_leg, cause=16)
        assert f"{call_id}-r2" in sim.core.live_recordings, "a2's segment"
        await sim.advance(5)
        await sim.hangup(caller, cause=16)
        await ended_call(app, caller)

        async def both_done() -> bool:
            found = await segments(app, call_id)
            return len(found) == 2 and all(state == "done" for _, state, _ in found.values())

        assert await both_done(), "both segments finished"
        found = await segments(app, call_id)
        assert found[f"{call_id}-r1"][0] == "a1" and found[f"{call_id}-r2"] == ("a2", "done", 5.0)
        assert sim.core.live_recordings == {}
        await nothing_left(app, sim, first_leg, leg)


async def test_an_attended_transfer_gives_the_target_a_segment_of_their_own(sim: Simulator, start_app) -> None:
    async with start_app(RECORDED) as app:
        task = await connected_to_a1(app, sim, "+15550401002")
        caller, call_id = task.caller_channel, task.call_id
        assert f"{call_id}-r1" in sim.core.live_recordings, "first segment"
        await consult_answered(app, sim, task)
        app.deliver(call_id, CompleteTransfer())
        await sim.settle()
        assert f"{call_id}-r2" in sim.core.live_recordings, "a2's segment"
        assert f"{call_id}-r1" not in sim.core.live_recordings
        await sim.advance(3)
        await sim.hangup(caller, cause=16)
        await ended_call(app, caller)
        assert not sim.core.live_recordings, "recordings finished"
        found = await segments(app, call_id)
        assert {name: agent for name, (agent, _, _) in found.items()} == {f"{call_id}-r1": "a1", f"{call_id}-r2": "a2"}
