"""Blended agents: inbound first while the hotline is at risk, outbound when they are spare."""

from __future__ import annotations

import pytest

from callcenter_ari.dialer.blend import Assessment, BlendPolicy, Inbound, assess

POLICY = BlendPolicy(service_level_floor=0.80, resume_above=0.85, longest_wait=30.0, keep_free=1)


@pytest.mark.parametrize(
    ("inbound", "expected"),
    [
        (Inbound(service_level=0.90, free_blended=2), Assessment("outbound", "spare", False)),
        (Inbound(service_level=None, free_blended=1), Assessment("outbound", "spare", False)),
        (Inbound(service_level=0.75, free_blended=3), Assessment("inbound", "service_level", True)),
        (Inbound(service_level=0.90, waiting=1, longest_wait=4.0), Assessment("inbound", "inbound_waiting", False)),
        (Inbound(service_level=0.95, waiting=1, longest_wait=31.0), Assessment("inbound", "long_wait", True)),
        (Inbound(service_level=0.90, free_blended=0), Assessment("inbound", "keep_free", False)),
    ],
    ids=["spare", "no_inbound_yet", "level_below_floor", "caller_waiting", "caller_waiting_long", "keep_one_free"],
)
def test_where_a_free_blended_agent_goes(inbound: Inbound, expected: Assessment) -> None:
    assert assess(POLICY, inbound) == expected


def test_the_hotline_keeps_its_agents_until_the_level_is_back_above_the_resume_mark() -> None:
    """Hysteresis: at risk below 80 %, lent out again only above 85 %."""
    risky = assess(POLICY, Inbound(service_level=0.79, free_blended=3))
    recovering = assess(POLICY, Inbound(service_level=0.83, free_blended=3), at_risk=risky.at_risk)
    recovered = assess(POLICY, Inbound(service_level=0.86, free_blended=3), at_risk=recovering.at_risk)
    assert [a.work for a in (risky, recovering, recovered)] == ["inbound", "inbound", "outbound"]
    assert assess(POLICY, Inbound(service_level=0.83, free_blended=3)).work == "outbound"


def test_a_quiet_hotline_is_not_at_risk_for_ever() -> None:
    assert assess(POLICY, Inbound(service_level=None, free_blended=1), at_risk=True).work == "outbound"


def test_the_policy_is_checked_when_built() -> None:
    with pytest.raises(ValueError, match="resume_above"):
        BlendPolicy(service_level_floor=0.9, resume_above=0.8)
