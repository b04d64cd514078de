"""Builders shared by the dialer tests."""

from __future__ import annotations

from typing import Any

from callcenter_ari.dialer.messages import Decision, Input, Lead, LeadsReady, LinesFree, Recorded, WantLeads
from callcenter_ari.dialer.pacer import Pacer
from callcenter_ari.dialer.settings import PacingSettings


def leads(count: int, first: int = 0) -> LeadsReady:
    return LeadsReady(tuple(Lead(f"l{n}", f"+1555000{n:04d}") for n in range(first, first + count)))


def history(connected: int, abandoned: int = 0, at: float = 0.0) -> list[Recorded]:
    """Ledger entries of a campaign that has run a while: headroom for the pacer to spend."""
    return [Recorded(at, f"old{n}", "connected") for n in range(connected)] + [
        Recorded(at, f"dropped{n}", "abandoned", message=True) for n in range(abandoned)
    ]


class Run:
    """A pacer and a clock; ``feed`` moves the clock (never back) and returns the decisions, without the requests
    for more leads unless ``refills`` (most tests are about something else). The hopper is ``hopper`` leads."""

    def __init__(
        self, mode: str = "predictive", *, lines: int = 10, hopper: int = 5, refills: bool = False, **settings: Any
    ) -> None:
        ledger = settings.pop("ledger_entries", ())
        settings = {"campaign": "c", "mode": mode, "hopper": hopper or 10, **settings}
        self.pacer = Pacer(PacingSettings(**settings), ledger=ledger)
        self.refills = refills
        self.now = 0.0
        self.feed(LinesFree(lines))
        if hopper:
            self.feed(leads(hopper))  # all that was asked: no retry pending

    def feed(self, message: Input, at: float | None = None) -> list[Decision]:
        if at is not None:
            self.now = max(self.now, at)
        decisions = self.pacer.handle(message, self.now)
        return decisions if self.refills else [d for d in decisions if not isinstance(d, WantLeads)]


def of(decisions: list[Decision], kind: type) -> list[Any]:
    return [decision for decision in decisions if isinstance(decision, kind)]
