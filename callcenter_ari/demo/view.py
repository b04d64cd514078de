"""The demo's live view: what a supervisor's wallboard would show, rendered in the terminal with rich.

The call rows are computed by one pure function (``call_rows``) from two counts: the live calls by phase and the
ended calls by outcome. "offered" is their sum, so the rows add up at every refresh by construction: every call
is in exactly one row, whatever phase or outcome it has (ones the view does not name go to "other").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.table import Table

from callcenter_ari.runtime.app import Application

# Live phases (calls/records.py: CallPhase) by row, in the order a call goes through them.
LIVE_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("in the IVR", ("new", "greeting", "ivr")),
    ("waiting", ("queued",)),
    ("asking for a callback", ("callback",)),
    ("ringing an agent", ("ringing", "joining", "transfer", "handover")),
    ("talking", ("talking", "consulting", "conference")),
    ("survey or message", ("survey", "voicemail", "leaving")),
)
# Outcomes (calls/machine.py) by row. The IVR's own endings: the caller hung up in it, or it ended the call
# (a hang-up node, a voicemail).
ENDED_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("completed", ("completed",)),
    ("abandoned", ("abandoned",)),
    ("took a callback", ("callback_requested",)),
    ("ended in the IVR", ("hung_up_in_ivr", "ivr_hangup", "voicemail")),
    ("hung up by supervisor", ("hung_up_by_supervisor",)),
)
AGENT_ROWS = (
    ("available", "available"),
    ("ringing (reserved)", "reserved"),
    ("talking", "talking"),
    ("wrap-up", "wrapup"),
    ("not ready", "not_ready"),
)


def call_rows(phases: Mapping[str, int], outcomes: Mapping[str, int]) -> list[tuple[str, int]]:
    """("offered", total) and then one row per live stage and per ending; the rows after the first add up to it.

    ``phases``: live calls by phase ("ended" is skipped: such a call is in ``outcomes`` or about to be);
    ``outcomes``: ended calls by outcome."""
    live = {phase: n for phase, n in phases.items() if phase != "ended"}
    rows = _grouped(live, LIVE_ROWS, "other (live)") + _grouped(outcomes, ENDED_ROWS, "other endings")
    return [("offered", sum(n for _, n in rows)), *rows]


def _grouped(
    counts: Mapping[str, int], groups: tuple[tuple[str, tuple[str, ...]], ...], rest: str
) -> list[tuple[str, int]]:
    named = {key for _, keys in groups for key in keys}
    rows = [(label, sum(counts.get(key, 0) for key in keys)) for label, keys in groups]
    return [*rows, (rest, sum(n for key, n in counts.items() if key not in named))]


class Tally:
    """Counts fed from the event stream as events happen."""

    def __init__(self, sla_seconds: float = 20.0) -> None:
        self.sla = sla_seconds
        self.started = 0
        self.answered = 0
        self.answered_in_sla = 0
        self.wait_total = 0.0
        self.talk_total = 0.0
        self.outcomes: Counter[str] = Counter()
        self.recordings = 0  # finished recordings (policy or on demand)
        self.callbacks: Counter[str] = Counter()  # callback events: requested, attempted, connected, ...

    def __call__(self, kind: str, fields: dict[str, Any]) -> None:
        if kind == "call.started":
            self.started += 1
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
        elif kind.startswith("callback."):
            self.callbacks[kind.removeprefix("callback.")] += 1

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


def render(app: Application, tally: Tally, elapsed: float, speed: float, *, surge: bool = False) -> Table:
    calls = call_rows(live_counts(app), tally.outcomes)
    agents = agent_counts(app)
    sl, asa = tally.service_level, tally.asa
    figures = [
        *((label, agents[state]) for label, state in AGENT_ROWS),
        ("", ""),
        (f"service level (in {tally.sla:g} s)", f"{sl:.0%}" if sl is not None else "-"),
        ("avg speed of answer", f"{asa:.1f} s" if asa is not None else "-"),
        ("answered by agents", tally.answered),
        ("recordings finished", tally.recordings),
        ("callbacks requested / connected", f"{tally.callbacks['requested']} / {tally.callbacks['connected']}"),
    ]
    title = f"callcenter-ari demo  ·  {elapsed:6.1f} s  ·  simulator at {speed:g}x" + ("  ·  SURGE" if surge else "")
    table = Table(title=title, min_width=60)
    table.add_column("calls", justify="left")
    table.add_column("", justify="right")
    table.add_column("agents", justify="left")
    table.add_column("", justify="right")
    for n in range(max(len(calls), len(figures))):
        left = calls[n] if n < len(calls) else ("", "")
        right = figures[n] if n < len(figures) else ("", "")
        table.add_row(*(str(cell) for cell in (*left, *right)), end_section=n == 0)
    return table


def summary(tally: Tally, stored_calls: int, stored_events: int, log_file: str = "") -> str:
    """What happened, once the demo has stopped: every call offered is in one of the lines under it."""
    sl, asa = tally.service_level, tally.asa
    called_back = tally.callbacks
    endings = [(label, n) for label, n in call_rows({}, tally.outcomes)[1:] if n]
    still_up = tally.started - tally.ended  # cut off by the stop (they resume if the records are kept)
    lines = [
        "demo summary",
        f"  calls offered            {tally.started}",
        *(f"    {label:<22} {n}" for label, n in [*endings, ("still up at the stop", still_up)] if n),
        f"  answered by agents       {tally.answered}",
        f"  service level            {f'{sl:.0%} answered within {tally.sla:g} s' if sl is not None else '-'}",
        f"  avg speed of answer      {f'{asa:.1f} s' if asa is not None else '-'}",
        f"  recordings               {tally.recordings} finished",
        f"  callbacks                {called_back['requested']} requested, {called_back['connected']} connected",
        f"  in Redis                 {stored_calls} call records, {stored_events} events",
    ]
    if log_file:
        lines.append(f"  the application's log    {log_file}")
    return "\n".join(lines)
