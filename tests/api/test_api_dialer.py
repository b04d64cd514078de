"""The dialer through the real API: a campaign's live figures for those who read campaigns, preview mode's screen
pop for an agent's own screen only, and a request body at fault named."""

from __future__ import annotations

from tests.api.conftest import OpenApi
from tests.api.test_api_campaigns import TRUNK, created


async def test_a_campaigns_dialer_figures_are_for_campaign_readers(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api:
        await created(api)
        async with api.client("supervisor") as supervisor:
            answer = await supervisor.get("/api/v1/campaigns/loans/dialer")
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert (body["state"], body["mode"], body["dialing_here"], body["abandon_limit"]) == (
                "draft",
                "progressive",
                False,
                0.03,
            )
            assert body["last_24h"] == {"answered": 0, "abandoned": 0, "rate": 0.0}
            assert [p["rule"] for p in body["periods"]] == ["us_tsr"]
            assert (await supervisor.get("/api/v1/campaigns/nope/dialer")).status_code == 404
        async with api.client("agent1") as agent:
            assert (await agent.get("/api/v1/campaigns/loans/dialer")).status_code == 403


async def test_an_agent_sees_only_their_own_preview_and_a_bad_answer_is_named(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api:
        async with api.client("agent1") as agent:
            own = await agent.get("/api/v1/agents/a1/preview")
            assert own.status_code == 404 and "no lead" in own.text  # no preview campaign runs
            assert (await agent.get("/api/v1/agents/a2/preview")).status_code == 404
            wrong = await agent.post("/api/v1/agents/a1/preview", json={"call_id": "x", "action": "dial"})
            assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "action", wrong.text
        async with api.client("qa") as qa:
            assert (await qa.get("/api/v1/agents/a1/preview")).status_code == 403
