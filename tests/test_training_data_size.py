"""A new run's image size follows data smaller than its preset's size, unless one is given."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import main
from engine.training.config import resolve_config
from engine.training.data_size import data_side, size_for_data


@pytest.mark.parametrize("preset, overrides, side, size", [
    ("lite", {}, 64, 64), ("lite", {}, 100, 96), ("lite", {}, 512, 256), ("seed", {}, 256, 256),
    ("lite", {}, None, 256), ("lite", {"upsampling": "most"}, 64, 128), ("lite", {}, 20, 32),
    ("lite", {"image_size": 128}, 200, 128)])
def test_the_size_follows_only_smaller_data(preset, overrides, side, size):
    assert size_for_data(resolve_config(preset, **overrides), side) == size


@pytest.fixture
def small_data(tmp_path):
    data = tmp_path / "data"
    for sub in ("img", "label"):
        (data / "train" / sub).mkdir(parents=True)
    for stem, side in (("a", 64), ("b", 48)):
        Image.fromarray(np.zeros((side, side), np.uint8)).save(data / "train" / "img" / f"{stem}.png")
    return data


def dry_run(capsys, data, run, *flags) -> int:
    assert main(["train", "--data", str(data), "--run", str(run), "--preset", "lite", "--dry-run", *flags]) == 0
    return json.loads(capsys.readouterr().out)["image_size"]


def test_train_takes_the_data_s_size_unless_told_and_a_resume_keeps_its_own(small_data, tmp_path, capsys):
    assert data_side(small_data) == 64 and data_side(tmp_path / "none") is None
    assert dry_run(capsys, small_data, tmp_path / "new") == 64
    assert dry_run(capsys, small_data, tmp_path / "new", "--size", "256") == 256
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({**resolve_config("lite").to_dict(), "data": str(small_data)}))
    (run / "checkpoints" / "state_00000002.pt").write_bytes(b"state")
    assert dry_run(capsys, small_data, run, "--resume") == 256


def test_a_terminal_is_told_the_size_as_the_training_starts(small_data, tmp_path):
    import argparse
    import io

    from engine.cli.train import fit_size_to_data
    from engine.cli.train_view import TerminalTrainView
    from engine.training.events import Started

    config, note = fit_size_to_data(argparse.Namespace(resume=False), resolve_config("lite"), small_data)
    assert config.image_size == 64
    assert note == "training at 64 px, the data's size (the lite preset's is 256; --size changes it)"
    assert fit_size_to_data(argparse.Namespace(resume=False, image_size=256), resolve_config("lite"),
                            small_data) == (resolve_config("lite"), None)
    stream = io.StringIO()
    TerminalTrainView(stream, note=note)(Started("RUN", 1, 1, 0, "cpu", {}))
    assert stream.getvalue().splitlines()[:2] == [note, "training on cpu: 1 iteration (1 per epoch) -> RUN"]


def test_more_upsampling_takes_the_size_it_needs_and_says_why(small_data, tmp_path, capsys):
    import argparse

    from engine.cli.train import fit_size_to_data
    from engine.training.data_size import size_given_none

    most = resolve_config("lite", upsampling="most")
    assert size_given_none(most, 64) == 128 and size_given_none(resolve_config("lite"), 64) == 64
    assert dry_run(capsys, small_data, tmp_path / "new", "--upsampling", "most") == 128
    config, note = fit_size_to_data(argparse.Namespace(resume=False, upsampling="most"), most, small_data)
    assert config.image_size == 128
    assert note == ("training at 128 px, the size the network takes nearest the data's 64 px "
                    "(the lite preset's is 256; --size changes it)")


def test_a_resume_on_smaller_data_keeps_its_size_and_says_so(small_data):
    import argparse

    from engine.cli.train import fit_size_to_data

    config, note = fit_size_to_data(argparse.Namespace(resume=True), resolve_config("lite"), small_data)
    assert config.image_size == 256
    assert note == "resuming at 256 px, the run's size: the data's 64-px pairs are resized to it"
