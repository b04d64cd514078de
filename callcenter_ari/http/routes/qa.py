"""Quality assurance: the scoring forms, scores per recording and reviewer with calibration between reviewers,
agents' grades from their recent scores, and each period's sample (drawn reproducibly from a seed, weighted
toward agents with lower grades)."""

from __future__ import annotations

import itertools
from typing import Annotated

import msgspec
import structlog
from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.http.errors import FieldProblem, NotFound, Unprocessable, documented
from callcenter_ari.http.params import Caller, Deps, Id
from callcenter_ari.http.routes.recordings import RecordingView, recording_view, viewer, visible
from callcenter_ari.recording.access import can_score
from callcenter_ari.recording.model import Score
from callcenter_ari.recording.qa import Calibration, InvalidScore, calibrate, grade, period_bounds, period_key, sample
from callcenter_ari.recording.qa import score as score_recording
from callcenter_ari.recording.settings import ScoringForm
from callcenter_ari.store.recordings import Sample

log = structlog.get_logger(__name__)

_PERIOD = r"^\d{4}-(W\d{2}|\d{2})$(?!\n)"  # 2026-11 (month) or 2026-W48 (ISO week)
_SEED = r"^[A-Za-z0-9_.:-]{1,64}$(?!\n)"


class FormList(msgspec.Struct, frozen=True):
    forms: dict[str, ScoringForm]


class ScoreRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    form: Annotated[str, msgspec.Meta(max_length=64)] = "standard"
    points: dict[Annotated[str, msgspec.Meta(max_length=64)], int]
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ScoreList(msgspec.Struct, frozen=True):
    scores: list[Score]
    calibrations: list[Calibration]  # every pair of reviewers who scored on the same form


class AgentGrade(msgspec.Struct, frozen=True, kw_only=True):
    agent_id: str
    grade: str  # good, average, poor, ungraded
    mean: float | None  # of the scores that make the grade
    scores: int


class GradeList(msgspec.Struct, frozen=True):
    agents: list[AgentGrade]


class SampleRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    period: Annotated[str, msgspec.Meta(pattern=_PERIOD)] | None = None  # the current one if absent
    seed: Annotated[str, msgspec.Meta(pattern=_SEED)] | None = None  # the period if absent


class SampleView(msgspec.Struct, frozen=True, kw_only=True):
    period: str
    seed: str
    drawn_at: float
    drawn_by: str
    recordings: list[RecordingView]
    scored: list[str]  # the sampled recordings that have at least one score


async def agent_grade(deps: ApiDeps, agent_id: str) -> AgentGrade:
    thresholds = deps.recording_settings.qa.grades
    percents = [s.percent for s in await deps.recordings.agent_scores(agent_id, thresholds.window)]
    mean = round(sum(percents) / len(percents), 1) if percents else None
    return AgentGrade(agent_id=agent_id, grade=grade(percents, thresholds), mean=mean, scores=len(percents))


async def sample_view(deps: ApiDeps, principal: Principal, drawn: Sample) -> SampleView:
    who = viewer(principal)
    recordings = [r for r in await deps.recordings.get_many(drawn.recordings) if r.tenant == who.tenant]
    scored = await deps.recordings.scored([r.name for r in recordings])
    return SampleView(
        period=drawn.period,
        seed=drawn.seed,
        drawn_at=drawn.drawn_at,
        drawn_by=drawn.drawn_by,
        recordings=[recording_view(r) for r in recordings],
        scored=[r.name for r in recordings if r.name in scored],
    )


class QaController(Controller):
    path = "/qa"
    tags = ["quality"]

    @get("/forms", guards=[requires("qa.read")], responses=documented(), sync_to_thread=False)
    def forms(self, deps: Deps, principal: Caller) -> FormList:
        """The scoring forms from the configuration: criteria with their weights and maximum points."""
        return FormList(dict(deps.recording_settings.qa.forms) if principal.home else {})

    @get("/grades", guards=[requires("qa.read")], responses=documented())
    async def grades(self, deps: Deps, principal: Caller) -> GradeList:
        """Each agent's grade from their recent scores (an agent token: their own)."""
        agents = sorted(a for a in deps.agent_names if principal.sees_agent(a))
        return GradeList([await agent_grade(deps, agent_id) for agent_id in agents])

    @post("/samples", guards=[requires("qa.sample")], status_code=HTTP_201_CREATED, responses=documented())
    async def draw(self, deps: Deps, principal: Caller, data: JSONBody[SampleRequest]) -> SampleView:
        """Draw the period's sample: ``per_agent`` finished recordings per agent, more for weaker grades. The same
        seed over the same recordings draws the same sample; drawing again replaces the stored one."""
        if not principal.home:
            raise NotFound("no recordings")
        settings = deps.recording_settings.qa
        period = data.period or period_key(deps.clock.now(), settings.period)
        try:
            start, end = period_bounds(period)
            candidates = await deps.recordings.all_in(start, end)
            grades = {a: (await agent_grade(deps, a)).grade for a in {r.agent_id for r in candidates if r.agent_id}}
            chosen = sample(candidates, grades, settings, period, data.seed or period)
        except ValueError as exc:
            problem = FieldProblem("period", f"a {settings.period}, as 2026-11 or 2026-W48")
            raise Unprocessable(str(exc), [problem]) from None
        drawn = Sample(
            period=period,
            seed=data.seed or period,
            drawn_at=deps.clock.now(),
            drawn_by=principal.name,
            recordings=[r.name for r in chosen],
        )
        await deps.recordings.save_sample(drawn)
        log.info("api.qa_sample", period=period, recordings=len(chosen), by=principal.name)
        return await sample_view(deps, principal, drawn)

    @get("/samples/{period:str}", guards=[requires("qa.sample")], responses=documented())
    async def get_sample(self, deps: Deps, principal: Caller, period: Id) -> SampleView:
        drawn = await deps.recordings.sample(period) if principal.home else None
        if drawn is None:
            raise NotFound(f"no sample drawn for {period[:16]!r}")
        return await sample_view(deps, principal, drawn)


class ScoreController(Controller):
    path = "/recordings/{name:str}/scores"
    tags = ["quality"]

    @get("/", guards=[requires("qa.read")], responses=documented())
    async def list_scores(self, deps: Deps, principal: Caller, name: Id) -> ScoreList:
        """Every reviewer's score of the recording, and how each pair of reviewers compares (calibration)."""
        rec = await visible(deps, principal, name)
        scores = await deps.recordings.scores(rec.name)
        forms = deps.recording_settings.qa.forms
        tolerance = deps.recording_settings.qa.calibration_tolerance
        pairs = [
            calibrate(a, b, forms[a.form], tolerance)
            for a, b in itertools.combinations(scores, 2)
            if a.form == b.form and a.form in forms
        ]
        return ScoreList(scores, pairs)

    @post("/", guards=[requires("qa.score")], status_code=HTTP_200_OK, responses=documented())
    async def score(self, deps: Deps, principal: Caller, name: Id, data: JSONBody[ScoreRequest]) -> Score:
        """Score the recording on a configured form; every criterion is scored, 0 to its maximum. A reviewer's
        second score of the same recording replaces the first."""
        rec = await visible(deps, principal, name)
        if not can_score(viewer(principal), rec):
            raise NotFound(f"no recording {name[:64]!r}")
        form = deps.recording_settings.qa.forms.get(data.form)
        if form is None:
            raise Unprocessable(f"no scoring form {data.form!r}", [FieldProblem("form", "not a configured form")])
        try:
            result = score_recording(
                data.form,
                form,
                data.points,
                recording=rec.name,
                reviewer=principal.name,
                agent_id=rec.agent_id,
                at=deps.clock.now(),
                comment=data.comment,
            )
        except InvalidScore as exc:
            raise Unprocessable(str(exc), [FieldProblem(exc.field, str(exc))]) from None
        await deps.recordings.save_score(result)
        log.info("api.qa_scored", recording=rec.name, percent=result.percent, by=principal.name)
        return result
