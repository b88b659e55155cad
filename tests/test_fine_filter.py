"""A fan model's fine filter (engine.nets.fine_filter, engine.evaluation.fine_filter_fit, the
Synthesizer, ``cardigan tune``)."""

import numpy as np
import pytest
from scipy import ndimage

from engine.cli.main import main
from engine.errors import ModelFileError
from engine.evaluation.fine_filter_fit import (COARSE, fit_fine_filter, fit_kernel, fit_model_fine_filter,
                                               kernel_response, window_power)
from engine.fan import default_fan, edge_distance, fan_alpha, fan_mask
from engine.models import load_model_file, open_model
from engine.models.tuning import tune_model
from engine.nets import GeneratorConfig
from engine.nets.fine_filter import apply_fine_filter, filter_problem
from engine.synthesizer import Synthesizer
from nets_util import fan_model_file, tune_inputs

IDENTITY = ((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 0.0))
DOUBLE = ((0.0, 0.0, 0.0), (0.0, 2.0, 0.0), (0.0, 0.0, 0.0))


def test_kernels_are_checked():
    assert filter_problem(()) is None and filter_problem(IDENTITY) is None
    assert "odd number" in filter_problem(((1.0, 0.0), (0.0, 0.0)))
    assert "at most 9" in filter_problem(tuple((0.0,) * 11 for _ in range(11)))
    assert "square" in filter_problem(((0.0, 1.0, 0.0),) * 2 + ((0.0,),))
    assert "finite" in filter_problem(((0.0, 0.0, 0.0), (0.0, float("nan"), 0.0), (0.0, 0.0, 0.0)))
    assert "tap beyond 2" in filter_problem(((0.0, 0.0, 0.0), (0.0, 3.0, -1.5), (0.0, 0.0, 0.0)))
    assert "sums to 0.1" in filter_problem(((0.0, 0.0, 0.0), (0.0, 0.1, 0.0), (0.0, 0.0, 0.0)))
    assert "list of rows" in filter_problem("7x7")


def test_the_filter_reshapes_the_detail_inside_the_fan_only():
    rng = np.random.default_rng(0)
    fan = default_fan()
    images = rng.uniform(-0.6, 0.6, size=(2, 1, 96, 96)).astype(np.float32)
    assert np.allclose(apply_fine_filter(images, [fan] * 2, IDENTITY), images, atol=1e-6)
    assert apply_fine_filter(images, [fan] * 2, ()) is images and apply_fine_filter(images, None, DOUBLE) is images
    doubled = apply_fine_filter(images, [fan] * 2, DOUBLE)
    distance = edge_distance(fan, 96, 96)
    deep, outside = distance >= 8.0, ~fan_mask(fan, 96, 96)
    from engine.fan import blur_within
    smooth = blur_within(images[0, 0].astype(np.float64), fan_mask(fan, 96, 96).astype(float), 2.0)
    detail = images[0, 0] - smooth
    unclipped = deep & (np.abs(smooth + 2 * detail) < 1)
    assert unclipped.sum() > 500
    assert np.allclose(doubled[0, 0][unclipped], (smooth + 2 * detail)[unclipped], atol=1e-5)
    assert np.array_equal(doubled[0, 0][outside], images[0, 0][outside])  # left for the fan's cut
    near_edge = (distance >= 0) & (distance < 4.0)
    assert np.array_equal(doubled[0, 0][near_edge], images[0, 0][near_edge])  # the edge band as drawn


def test_the_fit_finds_a_known_filter():
    rng = np.random.default_rng(1)
    fan = default_fan()
    size = 192
    inside = fan_mask(fan, size, size)
    model = rng.normal(120, 20, size=(12, size, size))
    # real images: the same kind of texture, blurred across the columns as a wide beam does
    real = ndimage.correlate1d(rng.normal(120, 20, size=(12, size, size)), [0.25, 0.5, 0.25], axis=2)
    real = np.where(inside, np.clip(real, 0, 255), 0).round().astype(np.uint8)
    model = np.where(inside, np.clip(model, 0, 255), 0).round().astype(np.uint8)
    fans = [fan] * 12
    real_power, count = window_power(real, fans)
    model_power, _ = window_power(model, fans)
    assert count > 12
    kernel = fit_kernel(real_power, model_power, 7)
    assert np.allclose(kernel, kernel[::-1, ::-1])  # point-symmetric
    response = kernel_response(kernel, 64)
    fy, fx = np.fft.fftfreq(64)[:, None], np.fft.fftfreq(64)[None, :]
    expected = 0.5 + 0.5 * np.cos(2 * np.pi * fx) + 0 * fy  # the blur's own response
    fine = (np.hypot(fx, fy) > 0.2) & (np.hypot(fx, fy) < 0.45)
    assert np.abs(response - expected)[fine].mean() < 0.08
    assert np.abs(response[np.hypot(fx, fy) < COARSE] - 1).max() < 0.25  # coarse scales kept
    fit = fit_fine_filter(real, model, fans, 7)
    octave = fit["finest_octave"]
    assert octave["real"]["anisotropy"] > octave["model"]["anisotropy"] + 1.0  # real runs along the rows
    assert abs(octave["filtered"]["anisotropy"] - octave["real"]["anisotropy"]) < 0.5
    from engine.errors import CardiganError
    with pytest.raises(CardiganError, match="no 16 x 16 window"):
        fit_fine_filter(real[:, :20, :20], model[:, :20, :20], fans, 7)


def test_the_synthesizer_filters_its_output(tmp_path):
    source = open_model(fan_model_file(tmp_path / "fan.safetensors", 64))
    labels = np.zeros((64, 64), np.uint8)
    labels[20:44, 24:40] = 2
    labels[26:38, 28:36] = 1
    plain = Synthesizer(source, device="cpu")
    same = Synthesizer(tune_model(source, fine_filter=IDENTITY), device="cpu")
    doubled = Synthesizer(tune_model(source, fine_filter=DOUBLE), device="cpu")
    a, b, c = (s.synthesize(labels, seed=5)[0] for s in (plain, same, doubled))
    assert np.allclose(a, b, atol=1e-5)
    alpha = fan_alpha(default_fan(), 64, 64)
    deep = edge_distance(default_fan(), 64, 64) >= 8
    assert np.abs(c - a)[deep].mean() > 1e-3 and np.all(c[alpha == 0] == -1)
    assert np.array_equal(doubled.synthesize(labels, seed=5), doubled.synthesize(labels, seed=5))


def test_model_files_keep_the_filter_and_refuse_damaged_ones(tmp_path):
    path = fan_model_file(tmp_path / "filtered.safetensors", 64, fine_filter=DOUBLE)
    assert load_model_file(path).config.fine_filter == DOUBLE
    with pytest.raises(ModelFileError, match="fine_filter has 2 rows"):
        GeneratorConfig(ngf=4, fan=True, noise_nc=4, fine_filter=((1.0, 0.0), (0.0, 0.0)))
    with pytest.raises(ModelFileError, match="fine_filter needs a fan model"):
        GeneratorConfig(ngf=4, fine_filter=IDENTITY)
    from engine.models.schema import ARCHITECTURE, check_fields
    with pytest.raises(ModelFileError, match="fine_filter is .* a list of lists of numbers"):
        check_fields({"fine_filter": [[0.0, 1.0, 0.0], ["x", 0, 0]]}, ARCHITECTURE, "architecture")


def test_tune_fits_and_removes_the_fine_filter(tmp_path, capsys, one_thread):
    source, data, fitted = tune_inputs(tmp_path, 128)
    assert main(["tune", "--model", str(source), "--out", str(fitted), "--fit-fine-filter", str(data)]) == 0
    out = capsys.readouterr().out
    expected = fit_model_fine_filter(data, open_model(source), "valid")
    assert f"fine filter fitted on {expected['images']} valid pairs" in out and "fine filter 7x7 kernel" in out
    assert load_model_file(fitted).config.fine_filter == expected["fine_filter"]
    assert main(["info", "--model", str(fitted)]) == 0
    assert "fine_filter=<7x7 kernel>" in capsys.readouterr().out
    from cardigan_app.panels.model_summary import summary_text
    assert "fine speckle filtered (7\u00d77)" in summary_text(open_model(fitted).summary())
    cleared = tmp_path / "cleared.safetensors"
    assert main(["tune", "--model", str(fitted), "--out", str(cleared), "--fine-filter", "none"]) == 0
    assert load_model_file(cleared).config.fine_filter == ()
    assert "fine filter none" in capsys.readouterr().out


def test_the_fit_refuses_models_without_a_fan(tmp_path):
    from engine.errors import CardiganError
    from nets_util import plain_model_file

    path = plain_model_file(tmp_path / "plain.safetensors")
    with pytest.raises(CardiganError, match="the fine filter needs a model that takes the fan"):
        fit_model_fine_filter(tmp_path, open_model(path))
