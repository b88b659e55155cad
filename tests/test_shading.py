"""A fan model's per-seed shading (engine.nets.shading, engine.evaluation.shading_fit, the
Synthesizer, ``cardigan tune``)."""

import json

import numpy as np
import pytest

from engine.cli.main import main
from engine.errors import ModelFileError
from engine.evaluation.shading_fit import LOG_OFFSET, fit_model_shading, fit_shading, shading_maps
from engine.fan import Fan, blur_within, default_fan, edge_distance, fan_alpha
from engine.models import load_model_file, open_model
from engine.models.tuning import tune_model
from engine.nets import GeneratorConfig
from engine.nets.shading import (ANGLE_BINS, CEILING, COEFFICIENT_CLIP, DEPTH_BINS, GRID, apply_shading, gain_map,
                                 grid_cells, log_gain_grid, shading_problem)
from engine.synthesizer import Synthesizer
from nets_util import fan_model_file, tune_inputs

SIZE = 64


def rows(mean=0.0, *directions):
    """A setting: a constant mean log-gain and the given direction rows."""
    return (tuple([float(mean)] * GRID),) + tuple(tuple(float(v) for v in d) for d in directions)


def band(depth_row, strength=0.4):
    """A direction that brightens one depth row of the grid across every direction."""
    grid = np.zeros((DEPTH_BINS, ANGLE_BINS))
    grid[depth_row] = strength
    return grid.ravel()


def side(strength=0.4):
    """A direction that darkens the left half of the fan as it brightens the right."""
    grid = np.zeros((DEPTH_BINS, ANGLE_BINS))
    grid[:, :ANGLE_BINS // 2], grid[:, ANGLE_BINS // 2:] = -strength, strength
    return grid.ravel()


def test_settings_are_checked():
    assert shading_problem(()) is None and shading_problem(rows(0.1, band(3))) is None
    assert f"rows of {GRID} numbers" in shading_problem(((0.0,) * 10,))
    assert "71 rows; at most 64" in shading_problem(rows(0.0, *[band(1)] * 70))
    assert "between -3 and 3" in shading_problem(rows(5.0))
    assert "between -3 and 3" in shading_problem((tuple([float("nan")] * GRID),))
    assert "list of rows" in shading_problem(3)


def test_the_grid_follows_the_fan_from_the_apex_down_and_left_to_right():
    fan = Fan(apex_x=0.5, apex_y=0.0, left=-30, right=30, depth=0.9, squash=1.0)
    cells = grid_cells(fan, 128, 128)
    column = cells[1:115, 64]
    assert np.all(np.diff(column // ANGLE_BINS) >= 0)  # deeper rows further down
    assert column[0] // ANGLE_BINS == 0 and column[-1] // ANGLE_BINS == DEPTH_BINS - 1
    row = cells[60][cells[60] >= 0]
    columns = row % ANGLE_BINS
    assert np.all(np.diff(columns) >= 0) and columns.min() == 0 and columns.max() == ANGLE_BINS - 1
    assert np.all(cells[fan_alpha(fan, 128, 128) == 1] >= 0)  # every pixel of the fan has a cell


def test_a_constant_mean_gains_every_pixel_alike():
    fan = default_fan("4CH")
    assert np.allclose(gain_map(fan, rows(0.3), seed=0, height=SIZE, width=SIZE), np.exp(0.3), atol=1e-5)


def test_each_seed_draws_its_own_layout_and_one_seed_always_the_same():
    setting = rows(0.0, band(10), side())
    first, again, other = (log_gain_grid(setting, s) for s in (7, 7, 8))
    assert np.array_equal(first, again) and not np.allclose(first, other)
    grids = np.stack([log_gain_grid(setting, s) for s in range(400)])
    # coefficients are clipped, so no seed goes wild
    assert np.abs(grids).max() <= COEFFICIENT_CLIP * 0.8 + 1e-9
    # the band brightens one row across the fan; the side turns left against right
    assert 0.3 < grids[:, 5, 0].std() < 0.5 and np.allclose(grids[:, 5, 0], -grids[:, 5, -1])
    assert np.allclose(grids[:, 10, 0] - grids[:, 5, 0], grids[:, 10, 3] - grids[:, 5, 3])


def test_darkening_scales_brightening_lifts_the_level_and_stops_at_the_ceiling():
    fan = default_fan()
    deep = edge_distance(fan, SIZE, SIZE) > 7  # well inside the fan: a local mean of the fan alone
    rng = np.random.default_rng(0)
    grey = np.full((1, 1, SIZE, SIZE), 0.0, np.float32)  # grey level 127.5
    speckled = grey + rng.uniform(-0.2, 0.2, grey.shape).astype(np.float32)
    # darkening: every pixel scaled, so the speckle dims with the level
    dark = apply_shading(speckled, [fan], rows(-0.5), [0])
    assert np.allclose(dark + 1, (speckled + 1) * np.exp(-0.5), atol=1e-6)
    # brightening: the level rises by the gain, the speckle about it stays as it was
    lift = (apply_shading(speckled, [fan], rows(0.2), [0]) - speckled)[0, 0][deep]
    assert abs(lift.mean() - (np.exp(0.2) - 1)) < 0.02 and lift.std() < 0.03
    # a lift stops at the ceiling; a level already above it is left alone
    ceiling = CEILING / 127.5 - 1
    assert np.allclose(apply_shading(grey, [fan], rows(2.0), [0])[0, 0][deep], ceiling, atol=1e-5)
    high = np.full_like(grey, ceiling + 0.2)
    assert np.allclose(apply_shading(high, [fan], rows(1.0), [0])[0, 0][deep], ceiling + 0.2, atol=1e-5)
    # nothing goes past white or below black
    assert apply_shading(speckled, [fan], rows(-3.0), [0]).min() >= -1.0
    assert apply_shading(np.full_like(grey, 0.95), [fan], rows(0.0, band(3, 3.0)), [1]).max() <= 1.0
    assert apply_shading(grey, [fan], (), [0]) is grey and apply_shading(grey, None, rows(1.0), [0]) is grey


def test_the_local_mean_counts_the_fan_only():
    from scipy.ndimage import gaussian_filter

    image = np.zeros((SIZE, SIZE), np.float32)
    image[:, : SIZE // 2] = 1.5  # bright inside the "fan" (the left half), something else outside
    image[:, SIZE // 2:] = 0.3
    weight = np.zeros_like(image)
    weight[:, : SIZE // 2] = 1.0
    mean = blur_within(image, weight, 3.0, 2.0, gaussian_filter(weight.astype(np.float64), 3.0, truncate=2.0))
    assert np.allclose(mean[:, : SIZE // 2], 1.5, atol=1e-5)  # the outside's 0.3 is not averaged in


def heart_mask(size=SIZE):
    labels = np.zeros((size, size), np.uint8)
    labels[size // 3:2 * size // 3, size // 3:2 * size // 3] = 1
    return labels


def test_shading_scales_the_network_image_by_the_seed_map(tmp_path):
    source = open_model(fan_model_file(tmp_path / "fan.safetensors", SIZE))
    labels = heart_mask()
    setting = rows(0.0, band(8, 0.5), side(0.3))
    shaded = Synthesizer(tune_model(source, shading=setting), device="cpu")
    plain = Synthesizer(source, device="cpu")
    fan = default_fan()
    alpha = fan_alpha(fan, SIZE, SIZE)
    for seed in (3, 4):
        a, b = plain.synthesize(labels, seed=seed)[0], shaded.synthesize(labels, seed=seed)[0]
        gain = gain_map(fan, setting, seed, SIZE, SIZE)
        darker = (alpha == 1) & (gain < 1)  # there the shading scales the network's image
        assert darker.sum() > 50 and np.allclose(b[darker] + 1, (a[darker] + 1) * gain[darker], atol=1e-5)
        brighter = (alpha == 1) & (gain > 1.05) & (a < 0.2)  # lifted there, below the ceiling
        assert brighter.sum() > 10 and np.all(b[brighter] >= a[brighter] - 1e-6)
        assert (b[brighter] - a[brighter]).mean() > 0.01
        assert np.all(b[alpha == 0] == -1)
    assert np.array_equal(shaded.synthesize(labels, seed=3), shaded.synthesize(labels, seed=3))
    assert not np.allclose(shaded.synthesize(labels, seed=3), shaded.synthesize(labels, seed=4))


def test_model_files_keep_the_setting_and_refuse_damaged_ones(tmp_path):
    setting = rows(0.05, band(4), side())
    path = fan_model_file(tmp_path / "shaded.safetensors", SIZE, shading=setting)
    assert load_model_file(path).config.shading == setting
    with pytest.raises(ModelFileError, match=f"shading needs rows of {GRID}"):
        GeneratorConfig(ngf=4, fan=True, noise_nc=4, shading=((0.0, 1.0),))
    with pytest.raises(ModelFileError, match="shading needs a fan model"):
        GeneratorConfig(ngf=4, shading=rows(0.1))
    from engine.models.schema import ARCHITECTURE, check_fields
    with pytest.raises(ModelFileError, match="shading is .* a list of lists of numbers") as error:
        check_fields({"shading": [[0.0] * GRID, ["x"] * GRID]}, ARCHITECTURE, "architecture")
    assert len(str(error.value)) < 200  # a huge value is cut: the message stays one short line
    with pytest.raises(ModelFileError, match="shading"):
        check_fields({"shading": json.loads("[1, 2]")}, ARCHITECTURE, "architecture")


def layout_images(fans, coefficients, direction, size=128, base=100.0):
    """Flat grey images whose cell means follow (base + offset) * exp(c_i * direction) - offset."""
    out = []
    for fan, c in zip(fans, coefficients):
        cells = grid_cells(fan, size, size)
        image = np.full((size, size), base)
        on = cells >= 0
        image[on] = (base + LOG_OFFSET) * np.exp(c * direction[cells[on]]) - LOG_OFFSET
        out.append(np.where(fan_alpha(fan, size, size) > 0.5, np.clip(image, 0, 255), 0))
    return np.stack(out).round().astype(np.uint8)


def test_the_fit_finds_a_known_layout_and_its_spread():
    rng = np.random.default_rng(0)
    fans = [default_fan("2CH"), default_fan("4CH")] * 20
    direction = side(1.0)
    coefficients = rng.standard_normal(len(fans)) * 0.2
    real = layout_images(fans, coefficients, direction)
    model = layout_images(fans, np.zeros(len(fans)), direction, base=90.0)
    fit = fit_shading(real, model, fans, components=2)
    mean, first = np.asarray(fit["shading"][0]), np.asarray(fit["shading"][1])
    seen = np.isfinite(shading_maps(real, fans)).all(axis=0)
    assert seen.mean() > 0.8
    # the mean brings the model's flat 90 to the real 100 (the layout's own mean is small),
    # less half the drawn variance, so that the gain averages that over seeds
    variance = np.square(np.asarray(fit["shading"][1:])).sum(axis=0)
    expected = np.log(105 / 95) + coefficients.mean() * direction[seen] - variance[seen] / 2
    assert np.allclose(mean[seen], expected, atol=0.01) and variance[seen].min() > 0.02
    # the first direction is the layout, scaled by the coefficients' spread
    assert np.allclose(np.abs(first[seen]), coefficients.std(ddof=1), atol=0.01)
    assert np.sign(first[seen] * direction[seen]).std() == 0  # one sign throughout: the same layout
    assert fit["explained"] > 0.95
    doubled = fit_shading(real, model, fans, components=2, strength=2.0)
    assert np.allclose(doubled["shading"][1], 2 * first, atol=2e-4)


def test_tune_fits_and_removes_the_shading(tmp_path, capsys, one_thread):
    source, data, fitted = tune_inputs(tmp_path, SIZE)
    assert main(["tune", "--model", str(source), "--out", str(fitted), "--fit-shading", str(data)]) == 0
    out = capsys.readouterr().out
    expected = fit_model_shading(data, open_model(source), "valid")
    assert f"shading fitted on {expected['images']} valid pairs" in out and "strength 1" in out
    assert load_model_file(fitted).config.shading == expected["shading"]
    assert main(["info", "--model", str(fitted)]) == 0
    assert f"shading=<{len(expected['shading']) - 1} directions>" in capsys.readouterr().out
    from cardigan_app.panels.model_summary import summary_text
    assert f"shading per seed ({len(expected['shading']) - 1} directions)" in summary_text(
        open_model(fitted).summary())
    cleared = tmp_path / "cleared.safetensors"
    assert main(["tune", "--model", str(fitted), "--out", str(cleared), "--shading", "none"]) == 0
    assert load_model_file(cleared).config.shading == ()
    assert "shading none" in capsys.readouterr().out
    assert main(["tune", "--model", str(source), "--out", str(tmp_path / "x.safetensors"),
                 "--shading-strength", "2"]) != 0
    assert "--shading-strength goes with --fit-shading" in capsys.readouterr().err


def test_the_fit_refuses_models_without_a_fan(tmp_path):
    from engine.errors import CardiganError
    from engine.models import GeneratorModel, save_model_file
    from nets_util import randomized_generator

    config = GeneratorConfig(ngf=4, modulation="clade", noise_nc=4, image_size=SIZE)
    path = save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=SIZE)),
                           tmp_path / "plain.safetensors")
    with pytest.raises(CardiganError, match="shading needs a model that takes the fan"):
        fit_model_shading(tmp_path, open_model(path))
    with pytest.raises(CardiganError, match="only a generator model"):
        fit_model_shading(tmp_path, open_model("simulator"))


def test_residuals_that_do_not_vary_give_no_directions_of_zeros():
    fans = [default_fan("2CH"), default_fan("4CH")] * 3
    direction = side(1.0)
    model = layout_images(fans, np.zeros(len(fans)), direction, base=90.0)
    brighter = layout_images(fans, np.zeros(len(fans)), direction, base=100.0)
    fit = fit_shading(brighter, model, fans)
    assert len(fit["shading"]) == 1 and any(fit["shading"][0])  # the mean gain alone
    black = np.zeros_like(model)  # no real cell to compare: nothing to draw
    assert fit_shading(black, model, fans)["shading"] == ()
