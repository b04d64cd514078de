"""The [recording] configuration: defaults as decoded from TOML, and every unusable value named by its path."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import msgspec
import pytest

from callcenter_ari.recording import (
    Criterion,
    GradeThresholds,
    QaSettings,
    RecordingPolicy,
    RecordingSection,
    RetentionSettings,
    ScoringForm,
    validate,
)

EXAMPLE = """
[default]
mode = "sampled"
percent = 25

[retention]
min_days = 180

[qa]
per_agent = 4
period = "week"

[qa.forms.sales.criteria]
opening = { label = "Opening", weight = 1 }
offer = { label = "Offer explained", weight = 2, max_points = 10 }
"""


def decode(text: str) -> RecordingSection:
    return msgspec.convert(tomllib.loads(text), RecordingSection)


class TestDecoding:
    def test_an_empty_section_records_no_call_and_uses_the_standard_form(self) -> None:
        section = decode("")
        assert section.default == RecordingPolicy(mode="none", percent=100.0, format="wav", beep=False)
        assert RecordingPolicy().mode == "all"  # a policy written down records every call unless it says otherwise
        assert section.retention == RetentionSettings(min_days=90.0, max_days=365.0)
        assert set(section.qa.forms) == {"standard"}
        assert set(section.qa.forms["standard"].criteria) == {
            "greeting",
            "identification",
            "resolution",
            "courtesy",
            "compliance",
        }
        assert section.qa.grade_weights == {"poor": 1.6, "average": 1.0, "good": 0.8, "ungraded": 1.0}
        assert section.qa.grades == GradeThresholds(good=85.0, poor=70.0, window=10)
        assert validate(section) == []

    def test_configured_values_replace_the_defaults_and_others_keep_theirs(self) -> None:
        section = decode(EXAMPLE)
        assert (section.default.mode, section.default.percent) == ("sampled", 25.0)
        assert (section.retention.min_days, section.retention.max_days) == (180.0, 365.0)
        assert (section.qa.per_agent, section.qa.period, section.qa.min_seconds) == (4, "week", 30.0)
        assert set(section.qa.forms) == {"sales"}  # configured forms replace the standard one
        assert section.qa.forms["sales"].criteria["offer"] == Criterion(
            label="Offer explained", weight=2.0, max_points=10
        )
        assert validate(section) == []

    def test_the_example_in_docs_recording_md_decodes_and_is_usable(self) -> None:
        text = (Path(__file__).parents[2] / "docs" / "RECORDING.md").read_text()
        block = re.search(r"```toml\n(.*?)```", text, re.DOTALL)
        assert block, "docs/RECORDING.md has no TOML example"
        section = msgspec.convert(tomllib.loads(block[1])["recording"], RecordingSection)
        assert validate(section) == []
        assert set(section.qa.forms["sales"].criteria) == {"opening", "needs", "offer", "compliance"}

    def test_an_unknown_key_is_refused_with_its_path(self) -> None:
        with pytest.raises(msgspec.ValidationError, match=r"unknown field `per_agents` - at `\$\.qa`"):
            decode("[qa]\nper_agents = 3\n")


def problems(**sections: Any) -> list[str]:
    return validate(RecordingSection(**sections))


FORM = ScoringForm(criteria={"greeting": Criterion(label="Greeting")})


@pytest.mark.parametrize(
    ("sections", "path"),
    [
        ({"default": RecordingPolicy(mode="sampled", percent=120.0)}, "recording.default.percent"),
        ({"default": RecordingPolicy(percent=-1.0)}, "recording.default.percent"),
        ({"default": RecordingPolicy(percent=float("nan"))}, "recording.default.percent"),
        ({"retention": RetentionSettings(min_days=-1.0)}, "recording.retention.min_days"),
        ({"retention": RetentionSettings(min_days=400.0, max_days=365.0)}, "recording.retention.max_days"),
        ({"qa": QaSettings(per_agent=0)}, "recording.qa.per_agent"),
        ({"qa": QaSettings(grade_weights={"excellent": 1.0})}, "recording.qa.grade_weights.excellent"),
        ({"qa": QaSettings(grade_weights={"poor": 0.0})}, "recording.qa.grade_weights.poor"),
        ({"qa": QaSettings(min_seconds=-5.0)}, "recording.qa.min_seconds"),
        ({"qa": QaSettings(forms={})}, "recording.qa.forms"),
        ({"qa": QaSettings(forms={"bad name": FORM})}, "recording.qa.forms.bad name"),
        ({"qa": QaSettings(forms={"x": ScoringForm(criteria={})})}, "recording.qa.forms.x.criteria"),
        (
            {"qa": QaSettings(forms={"x": ScoringForm(criteria={"a.b": Criterion(label="A")})})},
            "recording.qa.forms.x.criteria.a.b",
        ),
        (
            {"qa": QaSettings(forms={"x": ScoringForm(criteria={"a": Criterion(label=" ")})})},
            "recording.qa.forms.x.criteria.a.label",
        ),
        (
            {"qa": QaSettings(forms={"x": ScoringForm(criteria={"a": Criterion(label="A", weight=0.0)})})},
            "recording.qa.forms.x.criteria.a.weight",
        ),
        (
            {"qa": QaSettings(forms={"x": ScoringForm(criteria={"a": Criterion(label="A", max_points=0)})})},
            "recording.qa.forms.x.criteria.a.max_points",
        ),
        ({"qa": QaSettings(grades=GradeThresholds(good=70.0, poor=70.0))}, "recording.qa.grades.poor"),
        ({"qa": QaSettings(grades=GradeThresholds(good=101.0))}, "recording.qa.grades.good"),
        ({"qa": QaSettings(grades=GradeThresholds(window=0))}, "recording.qa.grades.window"),
        ({"qa": QaSettings(calibration_tolerance=-1.0)}, "recording.qa.calibration_tolerance"),
    ],
)
def test_each_unusable_value_is_named_by_its_path(sections: dict[str, Any], path: str) -> None:
    found = problems(**sections)
    assert len(found) == 1, found
    assert found[0].startswith(f"{path}: ")


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        default=RecordingPolicy(percent=200.0),
        qa=QaSettings(per_agent=0, grades=GradeThresholds(window=0)),
    )
    assert [problem.split(":")[0] for problem in found] == [
        "recording.default.percent",
        "recording.qa.per_agent",
        "recording.qa.grades.window",
    ]
