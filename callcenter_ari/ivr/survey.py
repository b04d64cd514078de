"""The post-call survey as an ordinary flow: a score from 1 to 5, an optional second question, a thank-you.

The runtime starts an ``IvrSession`` on ``survey_flow(name, survey)`` after the agent hangs up when the queue asks
for a survey; the session ends with ``Finished(SurveyResult(...))``, complete or not (a caller who hangs up after
the score still leaves the score).
"""

from __future__ import annotations

from callcenter_ari.ivr.config import CollectNode, Flow, Node, Survey, SurveyEndNode

SCORE = "score"
SECOND = "second"


def survey_flow(name: str, survey: Survey) -> Flow:
    answers = (SCORE, SECOND) if survey.second_question else (SCORE,)
    nodes: dict[str, Node] = {
        SCORE: _question(survey, survey.question, SCORE, "[1-5]", SECOND if survey.second_question else "end"),
        "end": SurveyEndNode(survey=name, answers=answers, prompt=survey.thanks),
    }
    if survey.second_question:
        nodes[SECOND] = _question(survey, survey.second_question, SECOND, survey.second_pattern, "end")
    return Flow(start=SCORE, nodes=nodes)


def _question(survey: Survey, prompt: tuple[str, ...], variable: str, pattern: str, then: str) -> CollectNode:
    return CollectNode(
        prompt=prompt,
        variable=variable,
        next=then,
        fallback="end",
        min_length=1,
        max_length=1,
        terminator="",
        first_digit_timeout=survey.timeout,
        pattern=pattern,
        max_retries=survey.max_retries,
        invalid_prompt=survey.invalid_prompt,
    )
