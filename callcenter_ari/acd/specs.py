"""What the board is told about agents, queues and teams: frozen Structs, built from the configuration."""

from __future__ import annotations

from typing import Literal, get_args

import msgspec

from callcenter_ari.acd.skills import Requirement

Strategy = Literal[
    "longest_idle",
    "fewest_calls",
    "least_talk_time",
    "round_robin",
    "ring_all",
    "linear",
    "random",
    "weighted_random",
    "best_skill",
]
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)

StepAction = Literal["lower_level", "widen", "overflow", "callback", "end"]


class AgentSpec(msgspec.Struct, frozen=True):
    """An agent. ``queues`` are the queues the agent is a member of; ``persistent`` agents sit in their own
    bridge all shift long, so a call is joined to them with no ring (and no ring-no-answer)."""

    agent_id: str
    endpoint: str
    queues: tuple[str, ...] = ()
    name: str = ""
    teams: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    skills: dict[str, int] = {}
    persistent: bool = False
    server: str = ""  # the Asterisk server (node) the phone registers to; empty: reachable from every server


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """A relaxation step, taken when a call has waited ``after`` seconds (counted from its enqueue time).

    lower_level: every minimum level in the queue's requirement drops by ``by`` (never below 1);
    widen: agents who meet ``skills`` qualify too; overflow: members of ``queue`` qualify too (with the same skill
    requirement); callback: the caller is offered a callback (a decision; the call keeps its place);
    end: the call leaves the queue with ``message`` (a decision)."""

    after: float
    action: StepAction
    by: int = 1
    skills: Requirement | None = None
    queue: str = ""
    message: str = ""


EmptyMeans = Literal["none_logged_in", "none_ready"]


class QueueSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A queue. "Empty" (for ``join_empty``/``leave_empty``) means that no agent who could serve a call (its widest
    relaxation step included) is logged in (``none_logged_in``) or, with ``none_ready``, that every such agent is
    logged out or not ready."""

    name: str
    strategy: Strategy = "longest_idle"
    skills: Requirement | None = None
    steps: tuple[Step, ...] = ()
    wrapup_seconds: float = 5.0
    # Wrap-up may be extended by the agent, up to this many seconds in total.
    wrapup_max_seconds: float = 120.0
    # None: the queue puts no limit (the call machine may still have its own timer).
    max_wait_seconds: float | None = None
    max_length: int | None = None
    join_empty: bool = True
    leave_empty: bool = False
    empty_means: EmptyMeans = "none_logged_in"
    moh_class: str = "default"
    # Position and estimated-wait announcements, every so many seconds; None: none.
    announce_every: float | None = None
    # Estimated wait uses the average handle time of this many recent calls.
    handle_window: int = 20
    sla_seconds: float = 20.0
    short_abandon_seconds: float = 5.0


OverLimit = Literal["refuse", "alert"]


class TeamSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A team's break policy: at most ``max_on_break`` members on a break (reasons in ``break_reasons``) at once,
    ``break_minutes`` each. Beyond the count the request is refused or granted with a supervisor alert."""

    name: str
    max_on_break: int = 2
    break_minutes: float = 10.0
    over_limit: OverLimit = "refuse"
    break_reasons: tuple[str, ...] = ("break",)
