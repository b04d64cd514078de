"""The campaign, its leads and their attempts, as frozen msgspec Structs (stored as JSON, shown by the API).

A ``CampaignSpec`` is what a manager sets (the API body, checked by ``checks.check_spec``); a ``Campaign`` is the
spec with its id, state and times. A ``Lead`` is one customer to call, with every ``Attempt`` made so far.
New persisted fields get defaults, so records written by an older version still decode.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from callcenter_ari.recording.settings import RecordingPolicy

Outcome = Literal["answered", "machine", "busy", "no_answer", "failed", "abandoned"]
# Outcomes after which a lead may be tried again; "answered" hands the lead to the agent's disposition.
RETRY_OUTCOMES: tuple[Outcome, ...] = ("busy", "no_answer", "machine", "failed", "abandoned")
LeadState = Literal["new", "scheduled", "dialing", "done", "exhausted", "do_not_call"]
LEAD_STATES: tuple[LeadState, ...] = ("new", "scheduled", "dialing", "done", "exhausted", "do_not_call")
DialMode = Literal["preview", "progressive", "predictive"]
CampaignState = Literal["draft", "running", "paused", "stopped", "finished"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

Seconds = Annotated[float, msgspec.Meta(ge=0, le=366 * 86400)]
Text = Annotated[str, msgspec.Meta(max_length=200)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]

HOUR = 3600.0
DAY = 86400.0


class CampaignError(ValueError):
    """A campaign, lead or disposition request that cannot be carried out; the message says why."""


class _Body(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class RetryRule(_Body, frozen=True):
    """When a lead may be tried again after an outcome, and how often."""

    after_seconds: Seconds  # at least this long after the attempt ended
    max_retries: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None  # None: up to the campaign's max_attempts


class RetryRules(_Body, frozen=True):
    busy: RetryRule = RetryRule(after_seconds=10 * 60)
    no_answer: RetryRule = RetryRule(after_seconds=HOUR)
    machine: RetryRule = RetryRule(after_seconds=4 * HOUR)
    failed: RetryRule = RetryRule(after_seconds=30 * 60)
    # An answered call that found no agent: the person heard the message; do not bother them again for 72 hours.
    abandoned: RetryRule = RetryRule(after_seconds=72 * HOUR)

    def rule(self, outcome: Outcome) -> RetryRule | None:
        return None if outcome == "answered" else getattr(self, outcome)


class Disposition(_Body, frozen=True):
    """A result the agent picks at wrap-up, and what it does to the lead."""

    code: Code
    label: Text = ""
    then: Literal["done", "retry", "do_not_call"] = "done"
    retry_after_seconds: Seconds = DAY  # with then = "retry"
    success: bool = False  # counted as a success in the statistics (a sale, a promise to pay)


DEFAULT_DISPOSITIONS: tuple[Disposition, ...] = (
    Disposition(code="success", label="Success", success=True),
    Disposition(code="callback", label="Call back later", then="retry"),
    Disposition(code="not_interested", label="Not interested"),
    Disposition(code="wrong_number", label="Wrong number"),
    Disposition(code="do_not_call", label="Asked not to be called", then="do_not_call"),
)


class CampaignSpec(_Body, frozen=True):
    """What a campaign manager sets; ``checks.check_spec`` says what is wrong with it, naming the fields."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    queue: str  # whose agents take the answered calls
    trunk: str  # a configured trunk ([trunks.<name>])
    skills: Annotated[str, msgspec.Meta(max_length=2000)] = ""  # further skills the agent needs
    dial_mode: DialMode = "progressive"
    caller_id: Annotated[str, msgspec.Meta(max_length=40)] = ""  # empty: the trunk's caller_id
    region: str = ""  # ISO 3166 region national numbers are read in; empty: campaigns.default_region, else the trunk's
    # For leads whose number tells none, and for the daily limit; empty: campaigns.default_time_zone.
    time_zone: str = ""
    # Plain lists (checks.check_spec checks their lengths): the OpenAPI document Litestar writes for a tuple, or
    # for a list with a length constraint, would let any item through, and answers would not fit it.
    calling_hours: list[str] = msgspec.field(default_factory=lambda: ["09:00-12:00", "13:00-18:00"])
    calling_days: list[Weekday] = msgspec.field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    holidays: list[str] = []  # "YYYY-MM-DD" once, "MM-DD" yearly
    retry: RetryRules = RetryRules()
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5  # per lead, all outcomes together
    max_calls_per_day: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 0  # the campaign's; 0: no limit
    recording: RecordingPolicy | None = None  # None: the queue's policy
    # Played to a person who answers when no agent is free (then the call is "abandoned").
    no_agent_message: list[str] = msgspec.field(default_factory=lambda: ["sound:vm-nobodyavail"])
    dispositions: list[Disposition] = msgspec.field(default_factory=lambda: list(DEFAULT_DISPOSITIONS))
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    # The dialer (docs/DIALER.md). ``ratio``: progressive mode's lines per agent; ``ring_seconds``: at least 15
    # (TSR and Ofcom); ``preview_seconds``: preview mode dials by itself after this (0: only the agent starts it).
    ratio: Annotated[float, msgspec.Meta(ge=1.0, le=5.0)] = 1.0
    ring_seconds: Annotated[int, msgspec.Meta(ge=15, le=120)] = 25
    preview_seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 0.0
    # Asterisk's AMD() on every answered call; a machine is hung up or hears ``machine_message`` (then hung up).
    amd: bool = False
    on_machine: Literal["hang_up", "message"] = "hang_up"
    machine_message: list[str] = []
    # The abandon rule the campaign answers to, and its limit (the share of answered calls; 3 % by both rules).
    abandon_rule: Literal["us_tsr", "uk_ofcom"] = "us_tsr"
    abandon_limit: Annotated[float, msgspec.Meta(gt=0.0, le=0.03)] = 0.03

    def disposition(self, code: str) -> Disposition | None:
        return next((d for d in self.dispositions if d.code == code), None)

    def succeeds(self, code: str) -> bool:
        """Whether the disposition ``code`` counts as a success."""
        disposition = self.disposition(code)
        return disposition is not None and disposition.success


class Campaign(CampaignSpec, frozen=True, kw_only=True):
    id: str
    state: CampaignState = "draft"
    created_at: float
    updated_at: float
    created_by: str = ""
    data_columns: list[str] = []  # the extra columns imports have brought, in order (the export's columns)


class Attempt(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One call to a lead, as the dialer reports it, with the agent's disposition once given."""

    at: float  # when dialling started
    outcome: Outcome
    ended_at: float = 0.0
    trunk: str = ""
    agent_id: str = ""
    call_id: str = ""
    detail: str = ""  # e.g. Asterisk's hang-up cause, or "lease expired"
    disposition: str = ""
    note: str = ""
    disposed_at: float = 0.0
    disposed_by: str = ""

    @property
    def end(self) -> float:
        return self.ended_at or self.at


class Lead(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: str
    number: str  # E.164, validated at import
    name: str = ""
    zone: str = ""  # IANA time zone from the number (or the file); empty: the campaign's
    data: dict[str, str] = {}  # the file's other columns, for the agent's screen
    state: LeadState = "new"
    next_at: float = 0.0  # not before this (new and scheduled leads)
    attempts: list[Attempt] = []
    holder: str = ""  # while dialing: who claimed it
    lease_until: float = 0.0  # while dialing: the claim lapses then
    line: int = 0  # its line in the imported file
    import_id: str = ""
    created_at: float = 0.0

    @property
    def last(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None
