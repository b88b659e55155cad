import json

import numpy as np
import pytest

from engine.cli.main import main
from engine.evaluation.evaluate import EvalSettings, evaluate, load_split
from engine.evaluation.fid import frechet_distance, kernel_inception_distance
from engine.evaluation.metrics import dice, dice_per_class
from engine.evaluation.segmenter import segment, train_segmenter


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    from engine.data.phantom import write_phantom

    out = tmp_path_factory.mktemp("phantom") / "data"
    write_phantom(out, count=20, size=64, seed=3)
    return out


def test_dice_on_known_masks():
    a = np.zeros((2, 8, 8), np.uint8)
    a[:, :4] = 1
    b = np.zeros_like(a)
    b[:, 4:] = 1
    assert dice(a, a, 1) == 1.0
    assert dice(a, b, 1) == 0.0
    half = a.copy()
    half[:, :2] = 0
    assert dice(half, a, 1) == pytest.approx(2 * 32 / (32 + 64))
    scores = dice_per_class(a, a)
    assert scores == {"lv": 1.0, "myo": 1.0, "la": 1.0, "mean": 1.0}  # absent classes count as 1


def test_segmenter_learns_phantom_data(phantom):
    images, labels, _ = load_split(phantom, "train", None)
    test_images, test_labels, _ = load_split(phantom, "test", None)
    model = train_segmenter(images, labels, iters=150, width=8, seed=0)
    scores = dice_per_class(segment(model, test_images), test_labels)
    assert scores["mean"] > 0.6, scores  # chance level is far below (classes cover <15 %)
    again = train_segmenter(images, labels, iters=5, width=8, seed=0)
    same = train_segmenter(images, labels, iters=5, width=8, seed=0)
    assert np.array_equal(segment(again, test_images), segment(same, test_images))


def test_fid_and_kid_behave():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 8))
    assert abs(frechet_distance(a, a)) < 1e-6
    shifted = a + 3.0
    assert frechet_distance(a, shifted) == pytest.approx(8 * 9.0, rel=1e-6)
    assert kernel_inception_distance(a, rng.normal(size=(200, 8))) < kernel_inception_distance(a, shifted)


def test_evaluate_produces_every_field(phantom, tmp_path, capsys):
    out = tmp_path / "evaluation.json"
    code = main(["evaluate", "--model", "simulator", "--data", str(phantom), "--quick",
                 "--seg-iters", "20", "--out", str(out), "--device", "cpu"])
    assert code == 0
    report = json.loads(out.read_text())
    for section, parts in (("fidelity", ("synthetic", "real")),
                           ("downstream", ("synthetic_trained", "real_trained"))):
        for part in parts:
            scores = report[section][part]
            assert set(scores) == {"lv", "myo", "la", "mean"}
            assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert report["model"]["name"] == "simulator" and report["data"]["test_pairs"] > 0
    assert report["settings"]["size"] == 64 and report["fid"] is None
    assert "mask fidelity" in capsys.readouterr().out


def test_evaluate_refuses_a_folder_without_test_split(tmp_path):
    from engine.errors import DataError

    with pytest.raises(DataError):
        evaluate("simulator", tmp_path, EvalSettings.quick(), device="cpu")
