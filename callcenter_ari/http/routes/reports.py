"""Interval reports: per queue and per agent, in 15-minute intervals, as call centers staff and report by."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, get
from litestar.params import QueryParameter

from callcenter_ari.acd.stats import AgentFigures, QueueFigures, combined, occupancy
from callcenter_ari.http.auth import requires
from callcenter_ari.http.errors import BadRequest, FieldProblem, NotFound, documented
from callcenter_ari.http.params import Caller, Deps


class IntervalList(msgspec.Struct, frozen=True):
    starts: list[float]  # unix seconds of every interval with figures, oldest first


class IntervalReport(msgspec.Struct, frozen=True):
    start: float
    end: float
    queues: dict[str, QueueFigures]  # docs/ACD.md has the formulas
    agents: dict[str, AgentFigures]  # seconds per state; not ready by reason


class Period(msgspec.Struct, frozen=True):
    start: float
    end: float
    queues: dict[str, QueueFigures]  # the intervals' figures added up; rates and averages by the same formulas
    agents: dict[str, AgentFigures]
    occupancy: dict[str, float | None]  # per agent: (talk + hold + wrap-up) / (that + available + reserved)


class PeriodReport(msgspec.Struct, frozen=True):
    length: int  # seconds: 900, 1800 or 86400
    periods: list[Period]  # every period of [start, end) that has figures, oldest first


MAX_PERIODS = 3000  # a month of 15-minute periods


class PeriodController(Controller):
    path = "/reports/periods"
    tags = ["reports"]

    @get("/", guards=[requires("reports.read")], responses=documented(), sync_to_thread=False)
    def periods(
        self,
        deps: Deps,
        principal: Caller,
        start: Annotated[float, QueryParameter(ge=0, le=1e11, description="unix seconds")],
        end: Annotated[float, QueryParameter(ge=0, le=1e11, description="unix seconds, excluded")],
        length: Annotated[
            Literal[900, 1800, 86400], QueryParameter(description="15 or 30 minutes, or a day (UTC)")
        ] = 900,
    ) -> PeriodReport:
        """The 15-minute intervals' figures of ``[start, end)``, added up per 15 or 30 minutes or per UTC day:
        the same figures as ``/reports/intervals`` for the same period."""
        if end <= start or (end - start) / length > MAX_PERIODS:
            problem = f"end must be after start, at most {MAX_PERIODS} periods of {length} s"
            raise BadRequest(problem, [FieldProblem("end", problem)])
        if not principal.home:
            return PeriodReport(length, [])
        stats, now = deps.stats, deps.clock.now()
        by_period: dict[float, list[float]] = {}
        for interval in stats.intervals():
            if start <= interval < end:
                by_period.setdefault(interval - interval % length, []).append(interval)
        periods = []
        for first, starts in sorted(by_period.items()):
            period = combined([stats.interval(s, now) for s in starts], first, first + length)
            rates = {agent: occupancy(figures) for agent, figures in period.agents.items()}
            periods.append(Period(period.start, period.end, period.queues, period.agents, rates))
        return PeriodReport(length, periods)


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
