"""What `cardigan evaluate --quick` changes, and that the full run's budgets stay as they were."""

from dataclasses import asdict

import pytest

from engine.cli.main import main
from engine.evaluation.settings import QUICK_NOTE, EvalSettings


def test_the_full_runs_budgets_are_those_its_published_figures_were_measured_with():
    assert asdict(EvalSettings()) == {
        "size": 128, "seg_iters": 800, "seg_width": 16, "variations": 2, "max_train": None, "max_test": None,
        "seed": 0, "two_sample_iters": 300, "two_sample_seeds": 3, "diversity_masks": 16, "diversity_seeds": 8,
        "sector_images": 60, "border_jitter": 3.0, "auc_parts": True, "cine_loops": 3, "cine_frames": 16}


def test_quick_keeps_enough_of_everything_for_every_field():
    quick = EvalSettings.quick()
    # the two-sample test's real-vs-real check needs 4 patients: 16 pairs of CAMUS's 4 per patient
    assert quick.max_train >= 16 and quick.max_test >= 4
    assert quick.diversity_seeds >= 2 and quick.diversity_masks >= 1  # a spread across seeds
    assert quick.sector_images >= 1 and quick.cine_loops >= 1 and quick.cine_frames >= 4
    assert quick.auc_parts and quick.two_sample_seeds >= 1 and quick.seg_iters >= 1


@pytest.fixture
def stubbed(monkeypatch, tmp_path):
    """The evaluate command with the evaluation and torch's thread setting replaced: what it
    asks for is recorded (threads set, settings given)."""
    import torch

    import engine.evaluation.evaluate as evaluation

    seen = {"threads": [], "settings": []}
    monkeypatch.setattr(torch, "set_num_threads", seen["threads"].append)

    def evaluate(model, data, settings, **kwargs):
        seen["settings"].append(settings)
        return {"model": model, "data": {}, "fidelity": {}, "downstream": {}}  # what --overwrite replaces

    monkeypatch.setattr(evaluation, "evaluate", evaluate)
    monkeypatch.setattr(evaluation, "format_report", lambda report: "the table")
    data = tmp_path / "data"
    data.mkdir()
    return seen, ["evaluate", "--model", "simulator", "--data", str(data), "--out", str(tmp_path / "e.json"),
                  "--overwrite"]


def test_quick_runs_on_one_thread_unless_told_and_the_full_run_keeps_pytorchs_choice(stubbed, capsys):
    seen, command = stubbed
    assert main([*command, "--quick"]) == 0
    assert main([*command, "--quick", "--threads", "2"]) == 0
    assert main(command) == 0
    assert seen["threads"] == [1, 2]  # none set for the full run
    assert seen["settings"] == [EvalSettings.quick(), EvalSettings.quick(), EvalSettings()]


def test_quick_says_its_figures_are_rough_and_the_full_run_does_not(stubbed, capsys):
    seen, command = stubbed
    assert main([*command, "--quick"]) == 0
    assert f"the table\n--quick: {QUICK_NOTE}\n" in capsys.readouterr().out
    assert main(command) == 0
    assert "rough" not in capsys.readouterr().out


def test_quick_help_says_its_figures_are_rough_and_how_long_it_takes(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "not comparable with a full run's" in text and "seconds on a 2-core CPU" in text
    assert "one CPU thread unless --threads" in text
