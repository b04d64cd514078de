"""The post-call survey: a score 1-5, an optional second question, a result carrying the answers."""

from __future__ import annotations

import msgspec

from callcenter_ari.ivr import IvrConfig, Survey, SurveyResult, survey_flow, validate
from tests.ivr.helpers import Runtime

SURVEY = Survey(question=("sound:rate-us",), second_question=("sound:solved",), second_pattern="[12]")


def test_score_and_second_answer() -> None:
    rt = Runtime(survey_flow("hotline", SURVEY))
    rt.start()
    assert rt.media == ("sound:rate-us",)
    rt.press("4")
    assert rt.media == ("sound:solved",)
    rt.press("1")
    assert rt.media == ("sound:thank-you-for-calling",)
    rt.finish_prompt()
    assert rt.result == SurveyResult(survey="hotline", answers={"score": "4", "second": "1"}, complete=True)


def test_scores_outside_1_to_5_are_invalid() -> None:
    rt = Runtime(survey_flow("s", Survey(question=("sound:q",), max_retries=2)))
    rt.start()
    rt.press("09*")
    assert rt.media == ("sound:thank-you-for-calling",)
    rt.finish_prompt()
    assert rt.result == SurveyResult(survey="s", answers={}, complete=False)


def test_score_only_survey() -> None:
    rt = Runtime(survey_flow("s", Survey(question=("sound:q",), thanks=())))
    rt.start()
    rt.press("5")
    assert rt.result == SurveyResult(survey="s", answers={"score": "5"}, complete=True)


def test_hanging_up_after_the_score_keeps_the_score() -> None:
    rt = Runtime(survey_flow("s", SURVEY))
    rt.start()
    rt.press("3")
    rt.hang_up()
    assert rt.result == SurveyResult(survey="s", answers={"score": "3"}, complete=False)


def test_silence_ends_the_survey_incomplete() -> None:
    rt = Runtime(survey_flow("s", SURVEY))
    rt.start()
    for _ in range(10):
        if rt.result is not None:
            break
        if rt.playing:
            rt.finish_prompt()
        else:
            rt.fire_timer()
    assert rt.result == SurveyResult(survey="s", answers={}, complete=False)


def test_the_survey_flow_validates() -> None:
    ivr = IvrConfig(flows={"survey": survey_flow("s", SURVEY)}, surveys={"s": SURVEY})
    assert validate(ivr) == []
    assert msgspec.convert(msgspec.to_builtins(ivr), IvrConfig, strict=True) == ivr
