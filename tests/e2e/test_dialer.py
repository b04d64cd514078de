"""Campaigns dialed end to end: the dialer claims leads, places calls on the trunk through the simulator, runs
answering-machine detection in the dialplan, joins people to persistent agents, plays the message to those nobody
can take (abandons, in the ledger), and writes every attempt on its lead."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from callcenter_ari.campaigns.model import CampaignSpec, RetryRule, RetryRules
from callcenter_ari.dialer.messages import Recorded
from callcenter_ari.runtime.app import Application
from callcenter_ari.sim import PhoneBehaviour, Simulator
from tests.campaigns.conftest import csv_of, load
from tests.e2e.helpers import phase_of, through_greeting
from tests.e2e.test_persistent_agents import in_bridge

DIALER = """
[trunks.provider1]
kind = "pjsip"
endpoint = "provider1"
capacity = 2
region = "US"
[queues.sales]
wrapup_seconds = 2
[campaigns]
lease_seconds = 30
"""


def agents(*ids: str, queues: str = '["sales"]') -> str:
    return "".join(
        f'[agents.{agent}]\nendpoint = "PJSIP/{agent}"\nqueues = {queues}\npersistent = true\n' for agent in ids
    )


ALL_DAY = {"calling_hours": ["00:00-23:59"], "calling_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
QUICK_RETRIES = RetryRules(
    busy=RetryRule(after_seconds=3600, max_retries=0),
    no_answer=RetryRule(after_seconds=3600, max_retries=0),
    machine=RetryRule(after_seconds=3600, max_retries=0),
    failed=RetryRule(after_seconds=3600, max_retries=0),
    abandoned=RetryRule(after_seconds=3600, max_retries=0),
)


def number(n: int) -> str:
    return f"+1202555{n:04d}"


def endpoint(n: int) -> str:
    return f"PJSIP/{number(n)}@provider1"


async def campaign(app: Application, count: int, **spec: Any) -> str:
    fields: dict[str, Any] = {"name": "Renewals", "queue": "sales", "trunk": "provider1", "time_zone": "UTC"}
    fields |= ALL_DAY | {"retry": QUICK_RETRIES} | spec
    await app.campaigns.create("renewals", CampaignSpec(**fields), by="test")
    await load(app.campaigns, "renewals", csv_of(f"n{n},{number(n)}," for n in range(count)))
    await app.campaigns.act("renewals", "start", by="test")
    return "renewals"


def phones(sim: Simulator, *ids: str) -> None:
    for agent in ids:
        sim.add_phone(f"PJSIP/{agent}", PhoneBehaviour(answer_after=0.5))


async def lines_up(app: Application, sim: Simulator, *ids: str) -> None:
    await sim.advance(1.0)
    for agent in ids:
        assert app.standing.line(agent) is not None, f"{agent}'s line up"


async def leads(app: Application) -> dict[str, Any]:
    return {lead.number: lead async for batch in app.campaigns.leads.scan("renewals") for lead in batch}


async def events(app: Application, kind: str) -> list[dict[str, Any]]:
    return [fields for _, k, fields in await app.store.events() if k == kind]


async def run_for(sim: Simulator, seconds: float, step: float = 1.0) -> None:
    for _ in range(int(seconds / step)):
        await sim.advance(step)


class TestProgressive:
    async def test_a_person_is_joined_to_the_reserved_agent_and_a_machine_and_busy_line_are_written_down(
        self, sim: Simulator, start_app
    ) -> None:
        """Three leads, one agent: the person (AMD says HUMAN) talks to p1 in p1's own bridge; the machine (AMD
        says MACHINE) is hung up; the busy line is busy. Each lead was dialed once, one call at a time."""
        sim.add_phone(endpoint(0), PhoneBehaviour(answer_after=4.0, talk=30.0))
        sim.add_phone(endpoint(1), PhoneBehaviour(answer_after=3.0, kind="machine"))
        sim.add_phone(endpoint(2), PhoneBehaviour(kind="busy"))
        phones(sim, "p1")
        async with start_app(DIALER + agents("p1")) as app:
            await lines_up(app, sim, "p1")
            await campaign(app, 3, dial_mode="progressive", amd=True)
            line = app.standing.line("p1")
            assert line is not None
            connected = False
            for _ in range(120):
                await sim.advance(0.5)
                customers = [c["id"] for c in sim.channels() if c["id"].startswith("dl-")]
                connected = connected or any(in_bridge(sim, line.channel, c) for c in customers)
                stats = await app.campaigns.stats("renewals")
                if stats.attempts == 3:
                    break
            stats = await app.campaigns.stats("renewals")
            assert stats.outcomes == {"answered": 1, "machine": 1, "busy": 1}, stats.outcomes
            assert connected, "the person was in p1's bridge"
            by_number = await leads(app)
            assert [a.agent_id for a in by_number[number(0)].attempts] == ["p1"]
            dialed = Counter(o["endpoint"] for o in sim.originates() if o["endpoint"].endswith("@provider1"))
            assert dialed == {endpoint(0): 1, endpoint(1): 1, endpoint(2): 1}
            [joined] = await events(app, "dialer.connected")
            assert joined["agent"] == "p1" and joined["wait"] <= 2.0
            entries = await app.dialer.ledger.entries("renewals")
            assert sorted(e.kind for e in entries) == ["connected", "machine"]


class TestDetection:
    async def test_a_person_who_hangs_up_during_detection_is_no_answer_and_the_line_comes_back(
        self, sim: Simulator, start_app
    ) -> None:
        """The channel is out of Stasis in AMD() when the far end hangs up: the application still hears it (it
        subscribed to the channel), the attempt is written down and the trunk line given back."""
        sim.add_phone(endpoint(0), PhoneBehaviour(answer_after=2.0, talk=None))
        phones(sim, "p1")
        async with start_app(DIALER + agents("p1")) as app:
            await lines_up(app, sim, "p1")
            await campaign(app, 1, dial_mode="progressive", amd=True)
            await until_dialed(sim, 1)
            [call] = [c["id"] for c in sim.channels() if c["id"].startswith("dl-")]
            await sim.advance(3.0)  # answered, in AMD() (which takes 2.963 s here)
            assert sim.channel(call) is not None and app.dialer.detecting(call)
            await sim.hangup(call)
            await run_for(sim, 2.0)
            stats = await app.campaigns.stats("renewals")
            assert stats.outcomes == {"no_answer": 1}
            [lead] = (await leads(app)).values()
            assert lead.attempts[-1].detail == "hung up during answering-machine detection"
            assert await app.services.lines.busy("provider1") == 0
            assert app.acd.board.agents["p1"].state == "available"


class TestAbandons:
    async def test_a_person_with_no_agent_hears_the_message_and_counts_as_abandoned(
        self, sim: Simulator, start_app
    ) -> None:
        """p1's line goes down while p1's call rings: the person who answers has nobody within 2 seconds, hears
        the campaign's message, is hung up, and the ledger has an abandon with the message played."""
        sim.add_phone(endpoint(0), PhoneBehaviour(answer_after=6.0, talk=None))
        phones(sim, "p1")
        async with start_app(DIALER + agents("p1")) as app:
            await lines_up(app, sim, "p1")
            await campaign(app, 1, dial_mode="progressive", no_agent_message=["sound:hello-world"])
            await until_dialed(sim, 1)
            line = app.standing.line("p1")
            assert line is not None
            await sim.hangup(line.channel)
            media = set()
            for _ in range(40):
                await sim.advance(0.5)
                media |= {p.media[0] for p in sim.core.playbacks.values() if p.id.endswith(".message")}
            stats = await app.campaigns.stats("renewals")
            assert stats.outcomes == {"abandoned": 1}
            [entry] = await app.dialer.ledger.entries("renewals")
            assert (entry.kind, entry.message) == ("abandoned", True)
            assert media == {"sound:hello-world"}, "the message was played to the person"
            figures = await app.dialer.figures(await app.campaigns.campaigns.require("renewals"))
            assert figures.last_24h == {"answered": 1, "abandoned": 1, "rate": 1.0}
            assert [e["message"] for e in await events(app, "dialer.abandoned")] == [True]
            outcome = {"campaign": "renewals", "outcome": "abandoned"}
            assert app.metrics.registry.get_sample_value("callcenter_dialer_calls_total", outcome) == 1.0

    async def test_an_abandon_that_puts_the_rate_over_the_limit_pauses_the_campaign(
        self, sim: Simulator, start_app
    ) -> None:
        """The ledger (in Redis) holds 97 connected calls and 3 abandons today: 3.0 %, at the limit. The next
        abandon makes it 4 in 101: the campaign is paused for every process, with an event, and dials no more."""
        sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=6.0, talk=None))
        phones(sim, "p1")
        async with start_app(DIALER + agents("p1")) as app:
            await lines_up(app, sim, "p1")
            now = app.clock.now()  # the campaign's start: its first 30-day period begins here
            for n in range(100):
                entry = Recorded(now, f"old-{n}", "abandoned" if n in (0, 40, 80) else "connected", True)
                await app.dialer.ledger.append("renewals", entry)
            await campaign(app, 5, dial_mode="progressive")
            await until_dialed(sim, 1)
            line = app.standing.line("p1")
            assert line is not None
            await sim.hangup(line.channel)
            await run_for(sim, 20.0, 0.5)
            assert (await app.campaigns.campaigns.require("renewals")).state == "paused"
            [paused] = await events(app, "campaign.paused")
            assert (paused["by"], paused["rule"], paused["answered"], paused["abandoned"]) == (
                "dialer",
                "us_tsr",
                101,
                4,
            )
            assert len([o for o in sim.originates() if o["endpoint"].endswith("@provider1")]) == 1
            figures = await app.dialer.figures(await app.campaigns.campaigns.require("renewals"))
            assert figures.paused and figures.periods[0].rate > 0.03
            registry, labels = app.metrics.registry, {"campaign": "renewals", "rule": "us_tsr"}
            assert registry.get_sample_value("callcenter_dialer_abandon_rate", labels) == 4 / 101


async def until_dialed(sim: Simulator, count: int, within: float = 5.0) -> None:
    for _ in range(int(within / 0.5)):
        if len([o for o in sim.originates() if o["endpoint"].endswith("@provider1")]) >= count:
            return
        await sim.advance(0.5)
    raise AssertionError(f"fewer than {count} calls placed")


class TestWholeCampaign:
    async def test_a_predictive_campaign_of_two_hundred_leads_runs_to_completion_within_its_lines(
        self, sim: Simulator, start_app
    ) -> None:
        """200 leads (a third people, some machines, busy lines and no answers), 3 persistent agents, 4 trunk
        lines: every lead is dialed exactly once, never more than 4 calls at once (counted from the simulator's
        channels), agents talk to people, abandons stay within 3 %, and the campaign finishes by itself."""
        rng = random.Random(5)
        kinds: dict[int, str] = {}
        for n in range(200):
            draw = rng.random()
            kind = "answer" if draw < 0.35 else "machine" if draw < 0.45 else "busy" if draw < 0.55 else "noanswer"
            kinds[n] = kind
            talk = rng.uniform(10.0, 40.0) if kind == "answer" else None
            sim.add_phone(endpoint(n), PhoneBehaviour(answer_after=rng.uniform(2.0, 8.0), talk=talk, kind=kind))  # type: ignore[arg-type]
        phones(sim, "p1", "p2", "p3")
        config = DIALER.replace("capacity = 2", "capacity = 4") + agents("p1", "p2", "p3")
        async with start_app(config) as app:
            await lines_up(app, sim, "p1", "p2", "p3")
            await campaign(app, 200, dial_mode="predictive", amd=True, ring_seconds=15)
            most = 0
            for _ in range(3 * 3600):
                await sim.advance(1.0)
                most = max(most, len([c for c in sim.channels() if c["id"].startswith("dl-")]))
                if (await app.campaigns.campaigns.require("renewals")).state == "finished":
                    break
            assert (await app.campaigns.campaigns.require("renewals")).state == "finished"
            assert most <= 4, f"{most} calls at once on 4 lines"
            dialed = Counter(o["endpoint"] for o in sim.originates() if o["endpoint"].endswith("@provider1"))
            assert set(dialed.values()) == {1} and len(dialed) == 200, "each lead dialed exactly once"
            stats = await app.campaigns.stats("renewals")
            assert stats.attempts == 200
            expected = Counter({"answer": "answered", "machine": "machine", "busy": "busy", "noanswer": "no_answer"}[k]
                               for k in kinds.values())  # fmt: skip
            abandoned = stats.outcomes.get("abandoned", 0)
            assert stats.outcomes.get("answered", 0) + abandoned == expected["answered"]
            assert {k: stats.outcomes.get(k, 0) for k in ("machine", "busy", "no_answer")} == {
                k: expected[k] for k in ("machine", "busy", "no_answer")
            }
            assert abandoned <= 0.03 * expected["answered"]
            joined = Counter(e["agent"] for e in await events(app, "dialer.connected"))
            assert set(joined) == {"p1", "p2", "p3"}
            assert all(e["wait"] <= 2.0 for e in await events(app, "dialer.connected"))


class TestPreview:
    async def test_the_agent_sees_the_lead_skips_one_and_starts_the_next(self, sim: Simulator, start_app) -> None:
        """Preview mode: nothing is dialed until the agent starts the call; a skipped lead is not dialed and goes
        back to the campaign; the lead started is dialed once, and the person is joined to the agent."""
        sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=3.0, talk=20.0))
        phones(sim, "p1")
        async with start_app(DIALER + agents("p1")) as app:
            await lines_up(app, sim, "p1")
            await campaign(app, 2, dial_mode="preview")
            await run_for(sim, 3.0)
            first = app.dialer.preview_of("p1")
            assert first.campaign_id == "renewals" and first.attempts == [] and first.number.startswith("+1202555")
            assert [o for o in sim.originates() if "@provider1" in o["endpoint"]] == [], "nothing dialed yet"
            app.dialer.answer_preview("p1", first.call_id, start=False)
            await run_for(sim, 2.0)
            second = app.dialer.preview_of("p1")
            assert second.lead_id != first.lead_id
            app.dialer.answer_preview("p1", second.call_id, start=True)
            await run_for(sim, 5.0)
            assert [o["endpoint"] for o in sim.originates() if "@provider1" in o["endpoint"]] == [
                f"PJSIP/{second.number}@provider1"
            ]
            [joined] = await events(app, "dialer.connected")
            assert (joined["agent"], joined["lead"]) == ("p1", second.lead_id)
            skipped = await app.campaigns.leads.get("renewals", first.lead_id)
            assert skipped is not None and skipped.attempts == [], "skipped: back to the campaign, not an attempt"


class TestBlended:
    async def test_blended_agents_keep_one_free_for_the_hotline_which_takes_a_caller_at_once(
        self, sim: Simulator, start_app
    ) -> None:
        """b1 and b2 serve both the campaign's queue and the hotline's. The hotline is calm, so the campaign gets
        one of them (keep_free = 1): one call at a time. A caller to the hotline is answered by the other at once."""
        sim.add_phone("PJSIP/*@provider1", PhoneBehaviour(answer_after=3.0, talk=60.0))
        phones(sim, "b1", "b2")
        async with start_app(DIALER + agents("b1", "b2", queues='["sales", "support"]')) as app:
            await lines_up(app, sim, "b1", "b2")
            await campaign(app, 5, dial_mode="progressive")
            await until_dialed(sim, 1)
            await run_for(sim, 10.0)
            assert len([c for c in sim.channels() if c["id"].startswith("dl-")]) == 1, "one agent lent"
            on_campaign = {e["agent"] for e in await events(app, "dialer.connected")}
            assert len(on_campaign) == 1
            caller = await sim.inject_call(did="5552000", caller="+15550009001")
            await through_greeting(sim, caller)
            assert phase_of(app, caller) == "talking"
            task = app.services.channels.call(caller)
            assert task.machine.record.agent_id in {"b1", "b2"} - on_campaign
