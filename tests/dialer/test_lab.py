"""The pacer against simulated campaigns on a virtual clock: the limit holds at every moment, predictive wins."""

from __future__ import annotations

import time

import msgspec
import pytest

from callcenter_ari.cli import main
from callcenter_ari.dialer.lab import LabSettings, run

ANSWER_RATES = (0.10, 0.20, 0.35, 0.60)
MACHINE_RATES = (0.0, 0.15, 0.30)


@pytest.mark.parametrize("machine_rate", MACHINE_RATES, ids=lambda rate: f"machines{rate:.0%}")
@pytest.mark.parametrize("answer_rate", ANSWER_RATES, ids=lambda rate: f"answered{rate:.0%}")
def test_predictive_keeps_the_limit_and_beats_progressive(answer_rate: float, machine_rate: float) -> None:
    """Two hours of a new campaign, 20 agents. ``worst_headroom`` is read after every ledger entry: never below
    zero means the rate over the period was at or under 3 % at every moment, not only at the end."""
    settings = LabSettings(hours=2.0, answer_rate=answer_rate, machine_rate=machine_rate, seed=11)
    started = time.process_time()
    progressive = run(settings, "progressive")
    predictive = run(settings, "predictive")
    assert time.process_time() - started < 5.0
    assert predictive.worst_headroom >= 0.0
    assert predictive.abandon_rate <= settings.limit
    assert predictive.paused == 0
    assert predictive.talk_minutes > progressive.talk_minutes
    assert progressive.abandoned == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_limit_holds_whatever_the_draw(seed: int) -> None:
    """A small team, where one unlucky burst of answers weighs most."""
    predictive = run(LabSettings(agents=5, lines=15, hours=3.0, seed=seed), "predictive")
    assert predictive.worst_headroom >= 0.0 and predictive.abandon_rate <= 0.03


def test_under_the_uk_rule_the_false_positive_estimate_counts_and_the_day_stays_under_the_limit() -> None:
    settings = LabSettings(hours=3.0, rule="uk", machine_rate=0.30, amd_false_positives=0.02, seed=5)
    predictive = run(settings, "predictive")
    assert predictive.true_abandoned > predictive.abandoned  # people hung up on as machines
    assert predictive.abandon_rate <= settings.limit and predictive.paused == 0


def test_the_modes_rank_as_expected_on_the_default_campaign() -> None:
    settings = LabSettings(hours=2.0)
    preview, progressive, predictive = (run(settings, mode) for mode in ("preview", "progressive", "predictive"))
    assert preview.talk_minutes < progressive.talk_minutes < predictive.talk_minutes
    assert predictive.idle_minutes < progressive.idle_minutes


def test_a_seed_gives_the_same_run() -> None:
    settings = LabSettings(hours=0.5, seed=9)
    assert run(settings, "predictive") == run(settings, "predictive")
    assert run(settings, "predictive") != run(msgspec.structs.replace(settings, seed=10), "predictive")


class TestCommand:
    def test_it_prints_a_row_per_mode(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["dialer-lab", "--hours", "0.25", "--agents", "5", "--modes", "progressive,predictive"]) == 0
        out = capsys.readouterr().out
        assert "5 agents, 60 lines, 0.25 h" in out
        assert "| mode | talk min/agent-h |" in out
        assert "| progressive |" in out and "| predictive |" in out and "| preview |" not in out

    @pytest.mark.parametrize("arguments", [["--modes", "turbo"], ["--answer-rate", "1.5"], ["--ring-timeout", "10"]])
    def test_bad_parameters_are_refused(self, arguments: list[str], capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["dialer-lab", "--hours", "0.1", *arguments]) == 2
        assert capsys.readouterr().err.startswith("dialer-lab:")
