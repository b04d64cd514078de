"""Campaigns dialed end to end: the dialer claims leads, places calls on the trunk through the simulator, runs
answering-machine detection in the dialplan, joins people to persistent agents, plays the message to those nobody
can take (abandons, in the ledger), and writes every attempt on its lead."""

from __future__ import annotations

import csv
import io
import itertools
import random
from collections import Counter
from typing import Any

import anyio
import httpx

from callcenter_ari.campaigns.model import CampaignSpec, RetryRule, RetryRules
from callcenter_ari.dialer.messages import Recorded
from callcenter_ari.http.app import build_app, serve
from callcenter_ari.http.deps import ApiDeps
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


OPEN_AT = 40 * 60  # the late lead's hours open about this long after the campaign starts
RULES = RetryRules(
    busy=RetryRule(after_seconds=600, max_retries=1),
    no_answer=RetryRule(after_seconds=900),  # up to the campaign's max_attempts (3)
    machine=RetryRule(after_seconds=3600, max_retries=0),
    failed=RetryRule(after_seconds=3600, max_retries=0),
    abandoned=RetryRule(after_seconds=3600, max_retries=0),
)
EXPORTER = '[api.tokens.sup]\ntoken = "supervisor-token-0123456789"\nrole = "supervisor"\n'


def toll_free(n: int) -> str:
    """A number that tells no time zone of its own: the lead list's zone column gives it."""
    return f"+1800555{n:04d}"


def etc_zone(hours: int) -> str:
    return f"Etc/GMT{-hours:+d}"  # the IANA sign is inverted: Etc/GMT-9 is UTC+9


def lead_clocks(now: float) -> tuple[str, str, str, float]:
    """Two zones two hours apart and calling hours on the leads' clocks: at ``now`` the open zone's clock is near
    noon, inside the hours; the late zone's is outside them until about OPEN_AT later. Returns the zones, the
    hours and the instant the late zone's hours open."""
    utc = now % 86400
    offset = max(-12, min(12, round((12 * 3600 - utc) / 3600)))
    late = offset - 2 if offset - 2 >= -12 else offset + 22  # UTC-14 is UTC+10 a day later: every day may be called
    late_local = (utc + late * 3600) % 86400
    opens_local = (late_local // 60 + 1) * 60 + OPEN_AT
    hours = f"{int(opens_local // 3600):02d}:{int(opens_local % 3600 // 60):02d}-22:00"
    return etc_zone(offset), etc_zone(late), hours, now + (opens_local - late_local)


def dials(sim: Simulator, number: str) -> int:
    return len(sim.originates(f"PJSIP/{number}@provider1"))


async def advance_to(app: Application, sim: Simulator, instant: float) -> None:
    await sim.advance(max(0.0, instant - app.clock.now()))


async def dialed_by(app: Application, sim: Simulator, number: str, count: int, instant: float) -> None:
    """Second by second until ``number`` has been dialed ``count`` times, which must happen by ``instant``: a retry
    comes at the pacer's next look for leads after its rule's wait, not at one exact second."""
    while dials(sim, number) < count and app.clock.now() < instant:
        await sim.advance(1.0)
    assert dials(sim, number) == count, f"{number} dialed {count} times by {instant - app.clock.now():+.0f} s"


async def exported(app: Application, campaign_id: str) -> dict[str, dict[str, str]]:
    """The campaign's results as the API's export gives them (GET /campaigns/{id}/export), by number."""
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve, build_app(ApiDeps.from_application(app)), "127.0.0.1", 0)
        auth = {"authorization": "Bearer supervisor-token-0123456789"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=auth, timeout=10) as http:
            answer = await http.get(f"/api/v1/campaigns/{campaign_id}/export")
        tg.cancel_scope.cancel()
    assert answer.status_code == 200, answer.text
    return {row["number"]: row for row in csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig")))}


class TestCampaignRules:
    async def test_calling_hours_retries_do_not_call_and_the_export_match_the_simulators_originates(
        self, sim: Simulator, start_app
    ) -> None:
        """Five leads, one agent, progressive. In the open zone: a person (dialed once), a busy line (again only
        600 s after its first attempt ended, and no more: busy's max_retries is 1), a line nobody answers (every
        900 s, three times: the campaign's max_attempts). In the late zone, outside the hours at the start: a person,
        dialed once its hours open and not before, and a number put on the do-not-call list while the campaign
        runs, never dialed and closed as do_not_call. The export lists each lead with the attempts the simulator
        saw and the last outcome."""
        person, busy, silent, late, listed = (toll_free(n) for n in range(5))
        sim.add_phone(f"PJSIP/{person}@provider1", PhoneBehaviour(answer_after=3.0, talk=20.0))
        sim.add_phone(f"PJSIP/{busy}@provider1", PhoneBehaviour(kind="busy"))
        sim.add_phone(f"PJSIP/{silent}@provider1", PhoneBehaviour(kind="noanswer"))
        sim.add_phone(f"PJSIP/{late}@provider1", PhoneBehaviour(answer_after=3.0, talk=20.0))
        sim.add_phone(f"PJSIP/{listed}@provider1", PhoneBehaviour(answer_after=3.0, talk=20.0))
        phones(sim, "p1")
        async with start_app(DIALER + agents("p1") + EXPORTER) as app:
            await lines_up(app, sim, "p1")
            open_zone, late_zone, hours, opens = lead_clocks(app.clock.now())
            spec = CampaignSpec(
                name="Renewals", queue="sales", trunk="provider1", time_zone="UTC", dial_mode="progressive",
                calling_hours=[hours], calling_days=ALL_DAY["calling_days"], retry=RULES, max_attempts=3,
                ring_seconds=15,
            )  # fmt: skip
            await app.campaigns.create("renewals", spec, by="test")
            rows = [f"{n},{number},{late_zone if number in (late, listed) else open_zone}"
                    for n, number in enumerate((person, busy, silent, late, listed))]  # fmt: skip
            report = await load(app.campaigns, "renewals", csv_of(rows, header="name,phone,tz"))
            assert report.loaded == 5, report
            await app.campaigns.act("renewals", "start", by="test")

            await run_for(sim, 60.0)
            assert {n: dials(sim, n) for n in (person, busy, silent, late, listed)} == {
                person: 1, busy: 1, silent: 1, late: 0, listed: 0
            }, "the open zone's leads dialed once each, the late zone's not yet"  # fmt: skip
            added, _ = await app.campaigns.add_dnc([listed], "US", "asked by letter", by="test")
            assert [e.number for e in added] == [listed]

            by_number = await leads(app)
            busy_ended = by_number[busy].attempts[0].end
            await advance_to(app, sim, busy_ended + 600 - 1)
            assert dials(sim, busy) == 1, "not before the busy rule's 600 s"
            await dialed_by(app, sim, busy, 2, busy_ended + 600 + 30)  # "dialed again once the 600 s were over"
            for attempt in range(2):
                ended = (await leads(app))[silent].attempts[attempt].end
                await advance_to(app, sim, ended + 900 - 1)
                assert dials(sim, silent) == attempt + 1, "not before the no-answer rule's 900 s"
                await dialed_by(app, sim, silent, attempt + 2, ended + 900 + 30)
                await sim.advance(spec.ring_seconds + 1)  # rung out: the attempt has ended

            await advance_to(app, sim, opens - 1)
            assert (dials(sim, late), dials(sim, listed)) == (0, 0), "outside the late zone's hours"
            await advance_to(app, sim, opens + 30)
            assert dials(sim, late) == 1, "dialed once its hours opened"

            await run_for(sim, 2 * 3600.0, 60.0)
            counted = {n: dials(sim, n) for n in (person, busy, silent, late, listed)}
            assert counted == {person: 1, busy: 2, silent: 3, late: 1, listed: 0}, "no more than the rules allow"
            by_number = await leads(app)
            assert by_number[listed].state == "do_not_call" and by_number[listed].attempts == []
            assert all(a.at >= opens for a in by_number[late].attempts)
            busy_tries, silent_tries = by_number[busy].attempts, by_number[silent].attempts
            assert busy_tries[1].at >= busy_tries[0].end + 600
            assert all(later.at >= earlier.end + 900 for earlier, later in itertools.pairwise(silent_tries))
            assert (await app.campaigns.campaigns.require("renewals")).state == "finished"

            table = await exported(app, "renewals")
            assert {n: (row["state"], row["last_outcome"], int(row["attempts"])) for n, row in table.items()} == {
                person: ("done", "answered", counted[person]),
                busy: ("exhausted", "busy", counted[busy]),
                silent: ("exhausted", "no_answer", counted[silent]),
                late: ("done", "answered", counted[late]),
                listed: ("do_not_call", "", counted[listed]),
            }
            assert (table[person]["last_agent"], table[late]["last_agent"]) == ("p1", "p1")
            assert {row["time_zone"] for row in table.values()} == {open_zone, late_zone}
