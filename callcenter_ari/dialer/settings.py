"""How a campaign is paced and which abandon rules it answers to: frozen settings, checked when built."""

from __future__ import annotations

from typing import Literal

import msgspec

Mode = Literal["preview", "progressive", "predictive"]
Period = Literal["30_days", "calendar_day"]

DAY = 86_400.0


class AbandonRule(msgspec.Struct, frozen=True, kw_only=True):
    """One regulator's way of counting abandoned calls.

    ``period``: ``30_days`` measures successive 30-day periods from the campaign's start (the US Telemarketing Sales
    Rule: "over the duration of a single calling campaign, if less than 30 days, or separately over each successive
    30-day period"); ``calendar_day`` measures each day from midnight in the ledger's time zone (Ofcom's 24 hours,
    clarified in 2010 as midnight to midnight). ``amd_false_positives`` adds the reasoned estimate of people that
    answering-machine detection took for machines, as Ofcom requires, to both the abandoned and the answered count.
    ``judge_after``: the answered calls a period needs before its rate is acted on (pausing the campaign): one
    abandon among the first 33 is already over 3 %, and the abandon budget keeps the pacer from causing one
    meanwhile, so an early excess can only come from the noise of the false-positive estimate.
    """

    name: str
    limit: float = 0.03
    period: Period = "30_days"
    amd_false_positives: bool = False
    judge_after: int = 100

    def __post_init__(self) -> None:
        if not 0.0 < self.limit < 1.0:
            raise ValueError(f"abandon rule {self.name}: limit {self.limit} must be between 0 and 1")
        if self.judge_after < 0:
            raise ValueError(f"abandon rule {self.name}: judge_after must be >= 0")


US_TSR = AbandonRule(name="us_tsr", period="30_days")
UK_OFCOM = AbandonRule(name="uk_ofcom", period="calendar_day", amd_false_positives=True)


class LedgerSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``started_at`` anchors the 30-day periods; ``timezone`` says where calendar days begin;
    ``amd_false_positive_share`` is the share of machine verdicts that were in fact people (measured by listening to
    a sample of them), the basis of the reasoned estimate."""

    rules: tuple[AbandonRule, ...] = (US_TSR,)
    started_at: float = 0.0
    timezone: str = "UTC"
    amd_false_positive_share: float = 0.0

    def __post_init__(self) -> None:
        if not self.rules:
            raise ValueError("at least one abandon rule is needed")
        if not 0.0 <= self.amd_false_positive_share < 1.0:
            raise ValueError(f"amd_false_positive_share {self.amd_false_positive_share} must be in [0, 1)")

    @property
    def limit(self) -> float:
        """The strictest limit of the rules in force."""
        return min(rule.limit for rule in self.rules)


class PacingSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the pacer needs to know about its campaign.

    ``ratio``: progressive mode's lines per available agent; the first line of each agent is reserved for them, the
    rest may be answered with nobody free and are held to the abandon budget like predictive calls.
    ``max_lines_per_agent`` caps predictive over-dialing (VICIdial's ``adaptive_maximum_level`` does the same).
    ``connect_seconds``: a person who answered is with an agent within this or hears the safe-harbour message.
    ``ring_seconds``: how long a call rings before it counts as not answered (both rules ask for at least 15).
    ``preview_seconds``: preview mode starts the call by itself after this (0: only the agent starts it).
    ``tick_seconds``: how often predictive mode looks again with nothing else happening.
    ``hopper``: leads kept at hand, asked for again at half (0: twice the calls the agents may have in flight, at
    least 10); ``leads_retry_seconds``: how long to wait before asking again when the campaign had none to give.
    ``setpoint``: the share of the limit the feedback controller aims at; the rest is margin.
    """

    campaign: str
    mode: Mode = "predictive"
    ratio: float = 1.0
    max_lines_per_agent: float = 3.0
    connect_seconds: float = 2.0
    ring_seconds: int = 25
    preview_seconds: float = 0.0
    tick_seconds: float = 1.0
    hopper: int = 0
    leads_retry_seconds: float = 5.0
    setpoint: float = 0.75
    ledger: LedgerSettings = LedgerSettings()

    def __post_init__(self) -> None:
        problems = [
            f"{name} {value} {rule}"
            for name, value, ok, rule in (
                ("ratio", self.ratio, 1.0 <= self.ratio <= 5.0, "must be between 1 and 5"),
                ("max_lines_per_agent", self.max_lines_per_agent, self.max_lines_per_agent >= 1.0, "must be >= 1"),
                ("connect_seconds", self.connect_seconds, 0.0 < self.connect_seconds <= 2.0, "must be in (0, 2]"),
                ("ring_seconds", self.ring_seconds, self.ring_seconds >= 15, "must be >= 15 (TSR and Ofcom)"),
                ("preview_seconds", self.preview_seconds, self.preview_seconds >= 0.0, "must be >= 0"),
                ("tick_seconds", self.tick_seconds, self.tick_seconds > 0.0, "must be > 0"),
                ("hopper", self.hopper, self.hopper >= 0, "must be >= 0"),
                ("setpoint", self.setpoint, 0.0 < self.setpoint <= 1.0, "must be in (0, 1]"),
            )
            if not ok
        ]
        if problems:
            raise ValueError(f"campaign {self.campaign}: " + "; ".join(problems))
