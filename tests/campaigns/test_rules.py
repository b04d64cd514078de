"""The pure campaign rules with plain asserts: the state table, whether a lead may be dialled now and when next,
calling hours across zones and a DST change, and dial strings built only from validated numbers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import msgspec
import pytest

from callcenter_ari.campaigns import Attempt, Campaign, InvalidTransition, Lead, dial_decision, dial_target, transition
from callcenter_ari.campaigns.checks import check_spec
from callcenter_ari.campaigns.hours import next_open
from callcenter_ari.campaigns.states import TRANSITIONS
from callcenter_ari.trunks import DahdiTrunk, InvalidNumber
from tests.campaigns.conftest import SPEC, TRUNKS, at

NOW = at("2026-12-07 09:30")  # a Monday
CAMPAIGN = Campaign(**msgspec.structs.asdict(SPEC), id="c", state="running", created_at=0.0, updated_at=0.0)
LEAD = Lead(id="l", number="+8613800138000", zone="Asia/Shanghai")


class TestStates:
    @pytest.mark.parametrize(("state", "action", "target"), [(s, a, t) for (s, a), t in TRANSITIONS.items()])
    def test_every_transition_of_the_table(self, state: str, action: str, target: str) -> None:
        campaign = msgspec.structs.replace(CAMPAIGN, state=state)
        assert transition(campaign, action, 5.0).state == target  # type: ignore[arg-type]

    @pytest.mark.parametrize(("state", "action"), [("draft", "pause"), ("stopped", "start"), ("finished", "resume")])
    def test_an_illegal_action_raises_and_says_what_is_allowed(self, state: str, action: str) -> None:
        campaign = msgspec.structs.replace(CAMPAIGN, state=state)
        with pytest.raises(InvalidTransition, match=f"is {state}: cannot {action}"):
            transition(campaign, action, 5.0)  # type: ignore[arg-type]


class TestDialDecision:
    def test_a_new_lead_in_hours_may_be_dialled(self) -> None:
        assert dial_decision(CAMPAIGN, LEAD, NOW).allowed

    @pytest.mark.parametrize(
        ("change", "reason", "next_at"),
        [
            ({"state": "paused"}, "campaign_not_running", None),
            ({"max_calls_per_day": 10, "_calls": 10}, "daily_limit", at("2026-12-08 08:00")),
        ],
    )
    def test_campaign_limits(self, change: dict[str, object], reason: str, next_at: float | None) -> None:
        calls = int(change.pop("_calls", 0))  # type: ignore[call-overload]
        decision = dial_decision(msgspec.structs.replace(CAMPAIGN, **change), LEAD, NOW, calls_today=calls)
        assert (decision.allowed, decision.reason, decision.next_at) == (False, reason, next_at)

    def test_the_do_not_call_list_closes_the_lead(self) -> None:
        decision = dial_decision(CAMPAIGN, LEAD, NOW, on_dnc=True)
        assert (decision.allowed, decision.final_state) == (False, "do_not_call")

    def test_the_retry_wait_and_then_the_hours(self) -> None:
        """No answer at 10:30: an hour's wait ends at 11:30, outside the hours; next is 13:00."""
        tried = msgspec.structs.replace(
            LEAD,
            state="scheduled",
            attempts=[Attempt(at=at("2026-12-07 10:29"), ended_at=at("2026-12-07 10:30"), outcome="no_answer")],
        )
        decision = dial_decision(CAMPAIGN, tried, at("2026-12-07 10:45"))
        assert (decision.reason, decision.next_at) == ("retry_wait", at("2026-12-07 13:00"))
        assert dial_decision(CAMPAIGN, tried, at("2026-12-07 13:00")).allowed

    def test_attempts_used_up_exhaust_the_lead(self) -> None:
        tries = [Attempt(at=NOW - 86400 * n, outcome="busy") for n in range(5, 0, -1)]
        decision = dial_decision(CAMPAIGN, msgspec.structs.replace(LEAD, attempts=tries, state="scheduled"), NOW)
        assert (decision.reason, decision.final_state) == ("max_attempts", "exhausted")

    def test_an_abandoned_number_waits_72_hours(self) -> None:
        decision = dial_decision(CAMPAIGN, LEAD, NOW, abandoned_at=NOW - 3600)
        assert decision.reason == "recently_abandoned" and decision.next_at == at("2026-12-10 08:30")

    def test_a_lead_without_a_zone_of_its_own_uses_the_campaigns(self) -> None:
        lead = msgspec.structs.replace(LEAD, zone="")
        assert dial_decision(msgspec.structs.replace(CAMPAIGN, time_zone="Europe/Berlin"), lead, NOW).next_at == at(
            "2026-12-07 08:00", ZoneInfo("Europe/Berlin")
        )


class TestHours:
    def test_weekends_and_holidays_are_skipped(self) -> None:
        friday = msgspec.structs.replace(SPEC, holidays=["12-14"])
        assert next_open(friday, "Asia/Shanghai", at("2026-12-11 16:00")) == at("2026-12-15 08:00")

    def test_wall_clock_hours_hold_across_a_dst_change(self) -> None:
        spec = msgspec.structs.replace(SPEC, calling_days=["sun", "mon"], calling_hours=["08:00-11:00"])
        berlin = ZoneInfo("Europe/Berlin")
        assert next_open(spec, "Europe/Berlin", at("2026-10-24 12:00", berlin)) == at("2026-10-25 08:00", berlin)


class TestChecks:
    def test_every_field_at_fault_is_named(self) -> None:
        bad = msgspec.structs.replace(
            SPEC,
            queue="nope",
            trunk="nope",
            time_zone="Mars/Base",
            calling_hours=["11:00-08:00", "08:00-12:00", "10:00-13:00"],
            no_agent_message=["sound:../../etc/passwd"],
            skills="billing>=",
        )
        fields = [path for path, _ in check_spec(bad, trunks=TRUNKS, queues={"support"})]
        assert fields == [
            "queue",
            "skills",
            "trunk",
            "time_zone",
            "calling_hours[0]",
            "calling_hours",
            "no_agent_message[0]",
        ]


class TestDialTarget:
    def test_the_dial_string_comes_from_the_trunk_and_the_validated_number(self) -> None:
        assert dial_target(SPEC, LEAD, dict(TRUNKS)) == ("PJSIP/+8613800138000@provider1", "+862161234567")
        dahdi = {"provider1": DahdiTrunk(region="CN", group=1, interface="e1_pri")}
        assert dial_target(SPEC, LEAD, dahdi)[0] == "DAHDI/g1/13800138000"

    def test_a_number_that_is_not_one_never_becomes_a_dial_string(self) -> None:
        with pytest.raises(InvalidNumber):
            dial_target(SPEC, msgspec.structs.replace(LEAD, number="100@other-context"), dict(TRUNKS))
