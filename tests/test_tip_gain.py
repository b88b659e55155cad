"""A fan model's tip gain (engine.nets.tip_gain, engine.evaluation.tip_fit, the Synthesizer,
``cardigan tune``)."""

import numpy as np
import pytest

from engine.cli.main import main
from engine.errors import ModelFileError
from engine.evaluation.tip_fit import fit_model_tip_gain, fit_tip_gain, tip_profile
from engine.fan import default_fan, fan_alpha, fan_mask
from engine.models import load_model_file, open_model
from engine.models.tuning import tune_model
from engine.nets import GeneratorConfig
from engine.nets.tip_gain import apply_tip_gain, tip_map, tip_problem
from engine.synthesizer import Synthesizer
from nets_util import fan_model_file, tune_inputs

SIZE = 64


def depth_of(fan, size=SIZE):
    ys = (np.arange(size) + 0.5)[:, None]
    xs = (np.arange(size) + 0.5)[None, :]
    return fan.beam_coordinates(ys, xs, size, size)[0]


def test_gains_are_checked():
    assert tip_problem(()) is None and tip_problem((1.0, 2.5, 1.0)) is None
    assert "at most 16" in tip_problem((1.0,) * 17)
    assert "between 0.25 and 8" in tip_problem((1.0, 9.0))
    assert "finite" in tip_problem((1.0, float("nan")))
    assert "list of gains" in tip_problem(2.0)


def test_the_gain_follows_the_depth_from_the_apex_and_ends_at_one():
    fan = default_fan()
    gains = (1.0, 1.0, 3.0, 2.0, 1.0)
    g = tip_map(fan, gains, SIZE, SIZE)
    depth = depth_of(fan)
    assert np.allclose(g, np.interp(depth, np.arange(5), gains, right=1.0), atol=1e-6)
    assert np.all(g[depth >= 4] == 1.0) and g[np.abs(depth - 2) < 0.2].min() > 2.5
    images = np.full((1, 1, SIZE, SIZE), -0.2, np.float32)  # grey 102
    out = apply_tip_gain(images, [fan], gains)
    assert np.allclose((out[0, 0] + 1) * 127.5, np.minimum(102 * g, 255), atol=1e-3)
    assert apply_tip_gain(images, [fan], ()) is images and apply_tip_gain(images, None, gains) is images


def test_the_fit_finds_a_known_tip():
    fan = default_fan()
    size = 96
    depth = depth_of(fan, size)
    inside = fan_mask(fan, size, size)
    known = np.interp(depth, [0, 1, 2, 3, 4, 5], [1.0, 1.0, 2.0, 1.5, 1.2, 1.0], right=1.0)
    rng = np.random.default_rng(0)
    model = np.where(inside, rng.normal(80, 5, size=(6, size, size)), 0)
    real = np.where(inside, model * known, 0)
    fit = fit_tip_gain(real.round().astype(np.uint8), model.round().astype(np.uint8), [fan] * 6, points=6)
    _, counts = tip_profile(real.round().astype(np.uint8), [fan] * 6, 6)
    assert counts[3] > 0 and fit["gains"][-1] == 1.0
    lit = [k for k in range(5) if counts[k] > 0]
    for k in lit:  # each point: real's mean over the model's at that depth
        assert fit["gains"][k] == pytest.approx(fit["real"][k] / fit["synthetic"][k], abs=1e-3)
    assert fit["gains"][3] == pytest.approx(1.5, abs=0.1) and fit["gains"][4] == pytest.approx(1.2, abs=0.1)
    with pytest.raises(ValueError, match="points"):
        fit_tip_gain(real, model, [fan] * 6, points=40)


def test_the_synthesizer_applies_it_and_model_files_keep_it(tmp_path):
    source = open_model(fan_model_file(tmp_path / "fan.safetensors", SIZE))
    gains = (1.0, 1.0, 1.5, 1.5, 1.5, 1.5, 1.0)
    labels = np.zeros((SIZE, SIZE), np.uint8)
    labels[20:44, 24:40] = 2
    plain = Synthesizer(source, device="cpu").synthesize(labels, seed=2)[0]
    tipped = Synthesizer(tune_model(source, fine_filter=(), tip_gain=gains), device="cpu").synthesize(labels, seed=2)[0]
    depth = depth_of(default_fan())
    deep = depth > 7
    assert np.allclose(plain[deep], tipped[deep], atol=1e-6)  # beyond the tip, as drawn
    tip = (depth > 3) & (depth < 5) & (fan_alpha(default_fan(), SIZE, SIZE) > 0)
    assert tip.any() and np.all(tipped[tip] >= plain[tip] - 1e-6) and np.mean(tipped[tip] - plain[tip]) > 0
    path = fan_model_file(tmp_path / "tipped.safetensors", SIZE, tip_gain=gains)
    assert load_model_file(path).config.tip_gain == gains
    with pytest.raises(ModelFileError, match="tip_gain needs a fan model"):
        GeneratorConfig(ngf=4, tip_gain=gains)
    with pytest.raises(ModelFileError, match="tip_gain holds 20"):
        GeneratorConfig(ngf=4, fan=True, noise_nc=4, tip_gain=(1.0, 20.0))


def test_tune_fits_and_removes_the_tip_gain(tmp_path, capsys, one_thread):
    source, data, fitted = tune_inputs(tmp_path, SIZE)
    assert main(["tune", "--model", str(source), "--out", str(fitted), "--fit-tip-gain", str(data)]) == 0
    out = capsys.readouterr().out
    expected = fit_model_tip_gain(data, open_model(source), "valid")
    assert f"tip gain fitted on {expected['images']} valid pairs" in out
    assert load_model_file(fitted).config.tip_gain == expected["gains"]
    from cardigan_app.panels.model_summary import summary_text
    assert f"tip gain over {len(expected['gains'])} px" in summary_text(open_model(fitted).summary())
    cleared = tmp_path / "cleared.safetensors"
    assert main(["tune", "--model", str(fitted), "--out", str(cleared), "--tip-gain", "none"]) == 0
    assert load_model_file(cleared).config.tip_gain == ()
    assert "tip gain none" in capsys.readouterr().out
