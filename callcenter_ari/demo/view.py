"""The demo's live view: what a supervisor's wallboard would show, rendered in the terminal with rich."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.table import Table

from callcenter_ari.runtime.app import Application


class Tally:
    """Counts fed from the event stream as events happen."""

    def __init__(self, sla_seconds: float = 20.0) -> None:
        self.sla = sla_seconds
        self.offered = 0
        self.answered = 0
        self.answered_in_sla = 0
        self.wait_total = 0.0
        self.talk_total = 0.0
        self.outcomes: Counter[str] = Counter()
        self.recordings = 0  # finished recordings (policy or on demand)

    def __call__(self, kind: str, fields: dict[str, Any]) -> None:
        if kind == "call.started":
            self.offered += 1
        elif kind == "call.answered":
            wait = float(fields.get("wait", 0.0))
            self.answered += 1
            self.wait_total += wait
            self.answered_in_sla += wait <= self.sla
        elif kind == "call.ended":
            self.outcomes[str(fields.get("outcome", "?"))] += 1
            self.talk_total += float(fields.get("talk") or 0.0)
        elif kind == "recording.finished":
            self.recordings += 1

    @property
    def ended(self) -> int:
        return sum(self.outcomes.values())

    @property
    def service_level(self) -> float | None:
        judged = self.answered + self.outcomes["abandoned"]
        return self.answered_in_sla / judged if judged else None

    @property
    def asa(self) -> float | None:
        return self.wait_total / self.answered if self.answered else None


def live_counts(app: Application) -> Counter[str]:
    return Counter(task.machine.record.phase for task in list(app.services.calls.values()))


def agent_counts(app: Application) -> Counter[str]:
    return Counter(agent.state for agent in app.acd.confirmed.values())


def render(app: Application, tally: Tally, elapsed: float, speed: float) -> Table:
    phases, agents = live_counts(app), agent_counts(app)
    table = Table(title=f"callcenter-ari demo  ·  {elapsed:6.1f} s  ·  simulator at {speed:g}x", min_width=60)
    table.add_column("calls", justify="left")
    table.add_column("", justify="right")
    table.add_column("agents", justify="left")
    table.add_column("", justify="right")
    sl, asa = tally.service_level, tally.asa
    rows = [
        ("in the IVR", phases["new"] + phases["greeting"] + phases["ivr"], "available", agents["available"]),
        ("waiting", phases["queued"], "ringing (reserved)", agents["reserved"]),
        ("ringing an agent", phases["ringing"], "talking", agents["talking"]),
        ("talking", phases["talking"], "wrap-up", agents["wrapup"]),
        ("completed", tally.outcomes["completed"], "not ready", agents["not_ready"]),
        ("abandoned", tally.outcomes["abandoned"], "recordings", tally.recordings),
        ("offered", tally.offered, "service level", f"{sl:.0%}" if sl is not None else "-"),
        ("answered", tally.answered, "avg speed of answer", f"{asa:.1f} s" if asa is not None else "-"),
    ]
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    return table


def summary(tally: Tally, stored_calls: int, stored_events: int) -> str:
    sl, asa = tally.service_level, tally.asa
    lines = [
        "demo summary",
        f"  calls offered      {tally.offered}",
        f"  answered by agents {tally.answered}",
        f"  completed          {tally.outcomes['completed']}",
        f"  abandoned in queue {tally.outcomes['abandoned']}",
        f"  other endings      {tally.ended - tally.outcomes['completed'] - tally.outcomes['abandoned']}",
        f"  service level      {f'{sl:.0%} answered within {tally.sla:g} s' if sl is not None else '-'}",
        f"  avg speed answer   {f'{asa:.1f} s' if asa is not None else '-'}",
        f"  recordings         {tally.recordings} finished",
        f"  in Redis           {stored_calls} call records, {stored_events} events",
    ]
    return "\n".join(lines)
