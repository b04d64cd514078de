"""Interval reports: per queue and per agent, in 15-minute intervals, as call centers staff and report by."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import QueryParameter

from callcenter_ari.acd.stats import AgentFigures, QueueFigures
from callcenter_ari.http.auth import requires
from callcenter_ari.http.errors import NotFound, documented
from callcenter_ari.http.params import Caller, Deps


class IntervalList(msgspec.Struct, frozen=True):
    starts: list[float]  # unix seconds of every interval with figures, oldest first


class IntervalReport(msgspec.Struct, frozen=True):
    start: float
    end: float
    queues: dict[str, QueueFigures]  # docs/ACD.md has the formulas
    agents: dict[str, AgentFigures]  # seconds per state; not ready by reason


class ReportController(Controller):
    path = "/reports/intervals"
    tags = ["reports"]

    @get("/", guards=[requires("reports.read")], responses=documented(), sync_to_thread=False)
    def list_intervals(self, deps: Deps, principal: Caller) -> IntervalList:
        """The intervals that have figures (since the process started)."""
        return IntervalList(deps.stats.intervals() if principal.home else [])

    @get("/{start:float}", guards=[requires("reports.read")], responses=documented(), sync_to_thread=False)
    def interval(
        self,
        deps: Deps,
        principal: Caller,
        start: Annotated[float, QueryParameter(ge=0, le=1e11)],
    ) -> IntervalReport:
        """Figures of the interval that contains ``start`` (an open interval counts states up to now)."""
        if not principal.home:
            raise NotFound("no such interval")
        report = deps.stats.interval(deps.stats.interval_start(start), deps.clock.now())
        return IntervalReport(report.start, report.end, report.queues, report.agents)
