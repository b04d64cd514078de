"""Recordings end to end: bridged calls recorded in the simulator, metadata in Redis, files and control through the
API, access by role and tenant, retention on a clock months ahead, and a month's QA sample drawn from a seed and
scored. The tests that download a file need the simulator's HTTP server (``wire``): a file never travels REST over
WebSocket (ari/files.py)."""

from __future__ import annotations

import io
import wave

import pytest

from callcenter_ari.recording import Recording, RetentionRefused
from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.api.conftest import Api, OpenApi, call_with_agent
from tests.e2e.helpers import agent_leg_up_in_sim, ended_record, phase_of, until

RECORD_ALL = """
[recording.default]
mode = "all"
[recording.retention]
min_days = 30
max_days = 90
[recording.qa]
per_agent = 1
min_seconds = 0
"""

DAY = 86400.0


def live_recordings(sim: Simulator) -> dict[str, str]:
    return {name: rec.state for name, rec in sim.core.live_recordings.items()}


async def talk_and_hang_up(api: Api, sim: Simulator, caller: str, agent: str, seconds: float) -> tuple[str, str]:
    """A call answered by ``agent`` that lasts ``seconds`` of simulated time; returns (call id, recording name)."""
    if api.app.acd.board.agents[agent].state == "logged_out":
        await api.app.acd.log_in(agent)
    channel = await call_with_agent(api.app, sim, caller, agent)
    call_id = api.app.services.channels.call(channel).call_id
    await until(api.app, lambda: f"{call_id}-r1" in live_recordings(sim), "recording started")
    await sim.advance(seconds)
    await sim.hangup(channel)
    await until(api.app, lambda: ended_record(api.app, channel), "call ended")
    return call_id, f"{call_id}-r1"


async def finished(api: Api, name: str) -> dict:  # type: ignore[type-arg]
    async def done() -> dict | None:  # type: ignore[type-arg]
        await api.app.store.flush()
        rec = await api.app.recordings.recordings.get(name)
        return rec if rec is not None and rec.state == "done" else None

    await until(api.app, done, f"{name} finished")
    async with api.client("admin") as admin:
        return (await admin.get(f"/api/v1/recordings/{name}")).json()  # type: ignore[no-any-return]


@pytest.mark.wire
async def test_bridged_call_is_recorded_paused_and_fetched(sim: Simulator, open_api: OpenApi) -> None:
    """The recording starts with the bridge; a pause keeps the card number out; the file comes back as audio."""
    async with open_api(RECORD_ALL) as api, api.client("agent1") as agent:
        channel = await call_with_agent(api.app, sim, "+15550001001", "a1")
        call_id = api.app.services.channels.call(channel).call_id
        name = f"{call_id}-r1"
        await until(api.app, lambda: live_recordings(sim).get(name) == "recording", "recording")
        await sim.advance(20)
        reply = await agent.post(f"/api/v1/calls/{call_id}/recording", json={"action": "pause"})
        assert reply.status_code == 202, reply.text
        await until(api.app, lambda: live_recordings(sim).get(name) == "paused", "paused in Asterisk")
        await sim.advance(8)
        again = await agent.post(f"/api/v1/calls/{call_id}/recording", json={"action": "pause"})
        assert again.status_code == 409 and "already paused" in again.json()["message"]
        assert (await agent.post(f"/api/v1/calls/{call_id}/recording", json={"action": "resume"})).status_code == 202
        await until(api.app, lambda: live_recordings(sim).get(name) == "recording", "recording again")
        await sim.advance(10)
        await sim.hangup(channel)
        view = await finished(api, name)
        assert view["duration"] == 30  # 20 + 10 seconds of audio: the 8 paused seconds are not in the file
        assert view["paused_seconds"] > 0
        assert (view["agent_id"], view["queue"], view["call_id"]) == ("a1", "support", call_id)
        assert view["reason"] == "policy"
        listed = (await agent.get("/api/v1/recordings")).json()["recordings"]
        assert [r["name"] for r in listed] == [name]
        async with agent.stream("GET", f"/api/v1/recordings/{name}/file") as download:
            assert download.status_code == 200
            audio = b"".join([chunk async for chunk in download.aiter_bytes()])
        with wave.open(io.BytesIO(audio)) as wav:
            assert wav.getframerate() == 8000
        far = await agent.get("/api/v1/recordings/review", params={"day": "9999-12-31"})
        assert far.status_code == 400 and far.json()["errors"][0]["field"] == "day"
        review = (await agent.get("/api/v1/recordings/review")).json()
        assert review["agent_id"] == "a1" and review["played"] == 1
        assert [(r["name"], r["played"]) for r in review["recordings"]] == [(name, True)]


@pytest.mark.wire
async def test_who_sees_a_recording_by_role_and_tenant(sim: Simulator, open_api: OpenApi) -> None:
    """Agents their own, supervisors, QA and the CRM their tenant's, nobody another tenant's."""
    async with open_api(RECORD_ALL) as api:
        _, name = await talk_and_hang_up(api, sim, "+15550001002", "a1", 5)
        await finished(api, name)
        expected = {
            "admin": 200,
            "supervisor": 200,
            "qa": 200,
            "crm": 200,
            "agent1": 200,
            "agent2": 404,
            "other_admin": 404,
            "other_supervisor": 404,
            "other_agent1": 404,
        }
        for token, status in expected.items():
            async with api.client(token) as client:
                assert (await client.get(f"/api/v1/recordings/{name}")).status_code == status, token
                listed = (await client.get("/api/v1/recordings")).json()["recordings"]
                assert [r["name"] for r in listed] == ([name] if status == 200 else []), token
                file = await client.get(f"/api/v1/recordings/{name}/file")
                assert file.status_code == status, token
        async with api.client("agent2") as other:
            assert (await other.get("/api/v1/recordings", params={"agent_id": "a1"})).json()["recordings"] == []
            assert (await other.post(f"/api/v1/recordings/{name}/scores", json={"points": {}})).status_code == 403
        async with api.client("supervisor") as supervisor:
            assert (await supervisor.delete(f"/api/v1/recordings/{name}")).status_code == 403


async def test_transfer_records_each_agent_in_a_segment_of_its_own(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api(RECORD_ALL) as api, api.client("supervisor") as supervisor:
        channel = await call_with_agent(api.app, sim, "+15550001003", "a1")
        call_id = api.app.services.channels.call(channel).call_id
        assert f"{call_id}-r1" in live_recordings(sim), "first segment"
        await sim.advance(5)
        sim.add_phone("PJSIP/agent2", PhoneBehaviour(answer_after=0.5, kind="answer"))
        await api.app.acd.log_in("a2")
        reply = await supervisor.post(f"/api/v1/calls/{call_id}/transfer", json={"queue": "billing"})
        assert reply.status_code == 202
        await sim.settle()
        assert f"{call_id}-r1" not in live_recordings(sim), "first segment stopped"
        assert agent_leg_up_in_sim(api.app, sim, channel), "a2 ringing"
        await sim.advance(1.0)
        assert phase_of(api.app, channel) == "talking", "talking to a2"
        assert f"{call_id}-r2" in live_recordings(sim), "second segment"
        await sim.advance(7)
        await sim.hangup(channel)
        first, second = await finished(api, f"{call_id}-r1"), await finished(api, f"{call_id}-r2")
        assert (first["agent_id"], first["segment"], first["duration"]) == ("a1", 1, 5)
        assert (second["agent_id"], second["segment"], second["queue"]) == ("a2", 2, "billing")
        listed = (await supervisor.get("/api/v1/recordings", params={"call_id": call_id})).json()["recordings"]
        assert sorted(r["name"] for r in listed) == [f"{call_id}-r1", f"{call_id}-r2"]


async def test_queue_that_does_not_record_can_be_recorded_on_demand(sim: Simulator, open_api: OpenApi) -> None:
    config = RECORD_ALL + '\n[queues.support.recording]\nmode = "none"\n'
    async with open_api(config) as api, api.client("agent1") as agent:
        channel = await call_with_agent(api.app, sim, "+15550001004", "a1")
        call_id = api.app.services.channels.call(channel).call_id
        await sim.advance(2)
        assert live_recordings(sim) == {}
        refused = await agent.post(f"/api/v1/calls/{call_id}/recording", json={"action": "pause"})
        assert refused.status_code == 409 and "not recording" in refused.json()["message"]
        bad = await agent.post(f"/api/v1/calls/{call_id}/recording", json={"action": "rewind"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "action"
        assert (await agent.post(f"/api/v1/calls/{call_id}/recording", json={"action": "start"})).status_code == 202
        await sim.settle()
        assert f"{call_id}-r1" in live_recordings(sim), "recording on demand"
        await sim.advance(4)
        assert (await agent.post(f"/api/v1/calls/{call_id}/recording", json={"action": "stop"})).status_code == 202
        view = await finished(api, f"{call_id}-r1")
        assert (view["reason"], view["duration"]) == ("on_demand", 4)
        await sim.hangup(channel)
        assert await ended_record(api.app, channel), "call ended"
        assert f"{call_id}-r2" not in live_recordings(sim)


async def test_retention_refuses_early_deletion_and_sweeps_expired_ones(sim: Simulator, open_api: OpenApi) -> None:
    """Nothing goes before min_days; an admin may delete after it; the sweeper deletes after max_days; all audited."""
    async with open_api(RECORD_ALL) as api, api.client("admin") as admin:
        _, kept = await talk_and_hang_up(api, sim, "+15550001005", "a1", 3)
        _, swept = await talk_and_hang_up(api, sim, "+15550001006", "a1", 3)
        await finished(api, kept)
        await finished(api, swept)
        early = await admin.delete(f"/api/v1/recordings/{kept}")
        assert early.status_code == 409 and early.json()["errors"] == [{"field": "name", "message": "too_young"}]
        assert await api.app.recordings.sweep() == 0
        await sim.advance(31 * DAY)
        stale = await api.app.recordings.recordings.get(kept)  # as a second deleter read it, a moment earlier
        deleted = await admin.delete(f"/api/v1/recordings/{kept}")
        assert deleted.status_code == 200, deleted.text
        with pytest.raises(RetentionRefused):
            await api.app.recordings.delete(stale, "another-admin", "requested")  # type: ignore[arg-type]
        assert (deleted.json()["by"], deleted.json()["reason"]) == ("admin", "requested")
        assert kept not in sim.core.stored_recordings
        assert (await admin.get(f"/api/v1/recordings/{kept}")).json()["state"] == "deleted"
        assert (await admin.get(f"/api/v1/recordings/{kept}/file")).status_code == 409
        await sim.advance(60 * DAY)
        assert await api.app.recordings.sweep() == 1
        assert swept not in sim.core.stored_recordings
        audit = (await admin.get("/api/v1/recordings/audit")).json()["deletions"]
        assert [(a["recording"], a["by"], a["reason"]) for a in audit] == [
            (swept, "retention", "retention_expired"),
            (kept, "admin", "requested"),
        ]
        assert (await admin.get("/api/v1/recordings")).json()["recordings"] == []


async def test_month_sample_is_reproducible_from_its_seed_and_scored(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api(RECORD_ALL) as api:
        names = {}
        for n, agent in enumerate(("a1", "a1", "a2", "a2")):
            _, name = await talk_and_hang_up(api, sim, f"+1555000200{n}", agent, 10 + n)
            names[name] = agent
        for name in names:
            await finished(api, name)
        async with api.client("qa") as qa, api.client("supervisor") as supervisor:
            first = await qa.post("/api/v1/qa/samples", json={"seed": "nov-audit"})
            assert first.status_code == 201, first.text
            drawn = [r["name"] for r in first.json()["recordings"]]
            assert sorted(names[n] for n in drawn) == ["a1", "a2"]  # one per agent (per_agent = 1)
            again = await qa.post("/api/v1/qa/samples", json={"seed": "nov-audit", "period": first.json()["period"]})
            assert [r["name"] for r in again.json()["recordings"]] == drawn
            for period in ("2026-13", "9999-W52", "9999-12"):
                bad = await qa.post("/api/v1/qa/samples", json={"period": period})
                assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "period", period
            target = drawn[0]
            points = {"greeting": 5, "identification": 4, "resolution": 3, "courtesy": 5, "compliance": 4}
            scored = await qa.post(f"/api/v1/recordings/{target}/scores", json={"points": points})
            assert scored.status_code == 200, scored.text
            assert scored.json()["percent"] == 80.0 and scored.json()["reviewer"] == "qa"
            missing = await qa.post(f"/api/v1/recordings/{target}/scores", json={"points": {"greeting": 5}})
            assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "points.identification"
            harsher = {**points, "resolution": 1}
            assert (await supervisor.post(f"/api/v1/recordings/{target}/scores", json={"points": harsher})).is_success
            scores = (await qa.get(f"/api/v1/recordings/{target}/scores")).json()
            assert [s["reviewer"] for s in scores["scores"]] == ["qa", "supervisor"]
            [pair] = scores["calibrations"]
            assert pair["criteria"]["resolution"] == -2 and pair["agreed"] is (abs(pair["delta"]) <= 10)
            stored = (await qa.get(f"/api/v1/qa/samples/{first.json()['period']}")).json()
            assert stored["seed"] == "nov-audit" and stored["scored"] == [target]
            grades = {g["agent_id"]: g for g in (await qa.get("/api/v1/qa/grades")).json()["agents"]}
            assert grades[names[target]]["scores"] == 2 and grades[names[target]]["grade"] in ("average", "poor")
        async with api.client("agent1") as agent:
            own = (await agent.get("/api/v1/qa/grades")).json()["agents"]
            assert [g["agent_id"] for g in own] == ["a1"]


async def test_a_restart_keeps_the_live_segment_under_control(sim: Simulator, open_api: OpenApi) -> None:
    """The process restarts mid-call: the segment is still known, can be paused, and is closed when the call ends."""
    async with open_api(RECORD_ALL) as api:
        channel = await call_with_agent(api.app, sim, "+15550001007", "a1")
        call_id = api.app.services.channels.call(channel).call_id
        name = f"{call_id}-r1"
        assert name in live_recordings(sim), "recording"
        await sim.advance(6)
        await api.app.store.flush()
    async with open_api(RECORD_ALL) as api, api.client("supervisor") as supervisor:
        assert phase_of(api.app, channel) == "talking", "call resumed"
        reply = await supervisor.post(f"/api/v1/calls/{call_id}/recording", json={"action": "pause"})
        assert reply.status_code == 202, reply.text
        await sim.settle()
        assert live_recordings(sim).get(name) == "paused", "paused after the restart"
        await sim.hangup(channel)
        view = await finished(api, name)
        assert view["duration"] == 6 and view["paused_seconds"] >= 0


async def test_segments_stuck_recording_do_not_hold_back_the_sweeper(sim: Simulator, open_api: OpenApi) -> None:
    """Segments whose end was never heard stay in the index; older than them or not, expired ones still go."""
    async with open_api(RECORD_ALL) as api:
        service, now = api.app.recordings, api.app.clock.now()
        for n in range(5):  # the oldest five never finished
            service.recordings.stage(Recording(name=f"cstuck-r{n + 1}", call_id="cstuck", tenant="t1", started_at=n))
        service.recordings.stage(
            Recording(name="cold-r1", call_id="cold", tenant="t1", started_at=now - 200 * DAY, state="done")
        )
        await api.app.store.flush()
        assert await service.sweep(batch=2) == 1
        assert (await service.recordings.get("cold-r1")).state == "deleted"  # type: ignore[union-attr]
        assert (await service.recordings.get("cstuck-r1")).state == "recording"  # type: ignore[union-attr]
