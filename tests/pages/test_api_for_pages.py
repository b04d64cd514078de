"""The API the pages use beyond the existing one: reports per 15 or 30 minutes or per day (the interval reports'
figures added up), forcing an agent's state (supervisors, audited), and the token's own session."""

from __future__ import annotations

from callcenter_ari.acd.stats import AgentFigures, Interval, QueueFigures, combined, occupancy
from callcenter_ari.sim import Simulator
from tests.api.conftest import OpenApi, call_with_agent


class TestCombined:
    def test_counts_add_up_and_rates_follow_the_same_formulas(self) -> None:
        first = Interval(
            start=0,
            end=900,
            queues={"s": QueueFigures(entered=3, answered=2, answered_in_sl=2, abandoned=1, wait_seconds=10.0)},
            agents={"a1": AgentFigures(calls=2, talk=100.0, available=100.0, not_ready={"lunch": 50.0})},
        )
        second = Interval(
            start=900,
            end=1800,
            queues={"s": QueueFigures(entered=2, answered=2, answered_in_sl=0, wait_seconds=70.0, longest_wait=40.0)},
            agents={"a1": AgentFigures(calls=2, talk=300.0, wrapup=100.0, not_ready={"lunch": 10.0})},
        )
        period = combined([first, second], 0, 1800)
        s = period.queues["s"]
        assert (s.entered, s.answered, s.abandoned, s.longest_wait) == (5, 4, 1, 40.0)
        assert (s.service_level, s.abandon_rate, s.asa) == (2 / 5, 1 / 5, 80.0 / 4)
        a1 = period.agents["a1"]
        assert (a1.calls, a1.talk, a1.not_ready) == (4, 400.0, {"lunch": 60.0})
        assert occupancy(a1) == 500.0 / 600.0
        assert first.agents["a1"].not_ready == {"lunch": 50.0}  # the intervals given are not changed

    def test_no_time_ready_has_no_occupancy(self) -> None:
        assert occupancy(AgentFigures(not_ready={"lunch": 60.0})) is None


async def test_periods_give_the_interval_reports_figures(sim: Simulator, open_api: OpenApi) -> None:
    async with open_api() as api:
        await sim.hangup(await call_with_agent(api.app, sim, "+15550404040"))
        await sim.advance(900)
        await sim.hangup(await call_with_agent(api.app, sim, "+15550505050"))
        async with api.client("supervisor") as http:
            starts = (await http.get("/api/v1/reports/intervals")).json()["starts"]
            intervals = [(await http.get(f"/api/v1/reports/intervals/{s}")).json() for s in starts]
            window = {"start": starts[0], "end": starts[-1] + 900}
            quarter = (await http.get("/api/v1/reports/periods", params=window)).json()
            day = (await http.get("/api/v1/reports/periods", params={**window, "length": 86400})).json()
            bad = await http.get("/api/v1/reports/periods", params={"start": 100, "end": 50})
            odd = await http.get("/api/v1/reports/periods", params={**window, "length": 600})
        assert len(intervals) == 2
        assert [p["queues"] for p in quarter["periods"]] == [i["queues"] for i in intervals]
        assert sum(p["queues"]["support"]["entered"] for p in day["periods"]) == 2
        assert all(p["start"] % 86400 == 0 and p["end"] - p["start"] == 86400 for p in day["periods"])
        assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "end")
        assert odd.status_code == 400


async def test_a_supervisor_forces_a_state_and_an_agent_on_a_call_changes_after_wrapup(
    sim: Simulator, open_api: OpenApi
) -> None:
    async with open_api() as api:
        channel = await call_with_agent(api.app, sim, "+15550606060")
        async with api.client("supervisor") as http:
            on_call = await http.post("/api/v1/agents/a1/force", json={"state": "not_ready", "reason": "coaching"})
            bad = await http.post("/api/v1/agents/a1/force", json={"state": "talking"})
            unknown = await http.post("/api/v1/agents/zz/force", json={"state": "available"})
        assert on_call.status_code == 200 and on_call.json()["pending"] is True
        assert on_call.json()["agent"]["state"] == "talking"
        assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "state")
        assert unknown.status_code == 404
        await sim.hangup(channel)  # the call ends; wrap-up is 0 s in these queues
        assert (api.app.acd.board.agents["a1"].state, api.app.acd.board.agents["a1"].reason) == (
            "not_ready",
            "coaching",
        )
        await api.app.store.flush()
        forced = [f for _, kind, f in await api.app.store.events() if kind == "agent.forced"]
        assert forced == [
            {"agent": "a1", "state": "not_ready", "reason": "coaching", "pending": True, "by": "supervisor"}
        ]


async def test_session_tells_the_token_who_it_is(open_api: OpenApi) -> None:
    async with open_api() as api:
        async with api.client("agent1") as http:
            me = (await http.get("/api/v1/session")).json()
        async with api.client("other_supervisor") as http:
            stranger = (await http.get("/api/v1/session")).json()
    assert (me["name"], me["role"], me["tenant"], me["agent_id"], me["served"]) == ("agent1", "agent", "t1", "a1", True)
    assert "calls.hangup" in me["permissions"] and "agents.force" not in me["permissions"]
    assert "agent1-token" not in str(me)
    assert (stranger["tenant"], stranger["served"]) == ("t2", False)
