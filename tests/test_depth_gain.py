"""A fan model's depth gain (engine.nets.depth_gain, engine.evaluation.depth_fit, the
Synthesizer, ``cardigan tune``)."""

import shutil

import numpy as np
import pytest

from engine.cli.main import main
from engine.errors import ModelFileError
from engine.evaluation.depth_fit import depth_profile, fit_gains, fit_model_depth_gain
from engine.fan import Fan, default_fan, edge_distance, fan_alpha
from engine.models import load_model_file, open_model
from engine.models.tuning import tune_model
from engine.nets import GeneratorConfig
from engine.nets.depth_gain import apply_depth_gain, depth_fraction, gain_depths, gain_map
from engine.synthesizer import Synthesizer
from nets_util import fan_model_file

SIZE = 64


def fan_model(tmp_path, name="fan.safetensors", **changes):
    return fan_model_file(tmp_path / name, SIZE, **changes)


def heart_mask(size=SIZE):
    labels = np.zeros((size, size), np.uint8)
    labels[size // 4:size // 2, size // 3:2 * size // 3] = 1
    return labels


def test_depth_fraction_runs_from_the_apex_to_the_arc():
    fan = Fan(apex_x=0.5, apex_y=0.1, left=-30, right=30, depth=0.8, squash=1.2)
    depth = depth_fraction(fan, 100, 100)
    assert depth[10, 50] < 0.02  # the apex pixel
    arc_row = int(round(100 * (0.1 + 0.8))) - 1  # the arc straight down
    assert abs(depth[arc_row, 50] - 1.0) < 0.02
    # one arc, one depth: a point on the arc off the centre line has depth 1 too
    phi = np.radians(20)
    reach = 1 / np.hypot(np.sin(phi) / (0.8 * 1.2), np.cos(phi) / 0.8)
    y, x = 100 * (0.1 + reach * np.cos(phi)), 100 * (0.5 + reach * np.sin(phi))
    assert abs(depth[int(y), int(x)] - 1.0) < 0.03


def test_gain_map_interpolates_between_the_bin_centres():
    fan = default_fan()
    gains = (0.5, 1.0, 2.0)
    assert np.allclose(gain_depths(3), [1 / 6, 0.5, 5 / 6])
    depth, gain = depth_fraction(fan, 128, 128), gain_map(fan, gains, 128, 128)
    assert np.allclose(gain[depth <= 1 / 6], 0.5) and np.allclose(gain[depth >= 5 / 6], 2.0)
    middle = (depth > 1 / 6) & (depth < 0.5)
    assert np.allclose(gain[middle], 0.5 + (depth[middle] - 1 / 6) / (1 / 3) * 0.5, atol=1e-5)


def test_apply_depth_gain_scales_grey_levels_keeps_black_and_clips_white():
    fan = default_fan()
    images = np.full((1, 1, 64, 64), 0.0, np.float32)  # grey level 127.5 everywhere
    images[0, 0, :, :4] = -1.0  # black stays black
    out = apply_depth_gain(images, [fan], (0.5, 3.0))
    depth = depth_fraction(fan, 64, 64)
    assert np.all(out[0, 0, :, :4] == -1.0)
    lit = (np.arange(64) >= 4)[None, :]
    assert np.allclose(out[0, 0][(depth < 0.25) & lit], 0.5 * 1 - 1)  # grey * 0.5
    assert np.all(out[0, 0][(depth > 0.75) & lit] == 1.0)  # grey * 3 clips to white
    assert apply_depth_gain(images, [fan], ()) is images and apply_depth_gain(images, None, (2.0,)) is images


def test_fit_gains_recovers_a_known_fall_off():
    rng = np.random.default_rng(0)
    fans = [default_fan("2CH"), default_fan("4CH")] * 3
    real = rng.integers(60, 160, size=(6, 96, 96)).astype(np.uint8)
    true_gains = (0.8, 0.9, 1.0, 1.1, 1.25)
    drawn = np.stack([np.clip(image / gain_map(fan, true_gains, 96, 96), 0, 255).round()
                      for image, fan in zip(real, fans)]).astype(np.uint8)
    fit = fit_gains(real, drawn, fans, bins=5, ceiling=4.0)
    # pixel-wise ratios vary within a bin, so the fit is near, not exact, and in the right order
    assert np.allclose(fit["gains"], true_gains, atol=0.04)
    assert list(fit["gains"]) == sorted(fit["gains"])
    # by default the fit only darkens: where the model is too dark it leaves the bin alone
    capped = fit_gains(real, drawn, fans, bins=5)["gains"]
    assert capped == tuple(min(g, 1.0) for g in fit["gains"]) and capped[3:] == (1.0, 1.0)
    assert capped[0] < 0.85
    assert np.allclose(depth_profile(real, fans, 5), fit["real"], equal_nan=True)


def test_the_fit_may_brighten_the_near_field_only():
    """Real frames are brightest under the probe: a model drawn too dark there is lifted (up
    to MAX_NEAR_FIELD_GAIN), while deeper bins are still only darkened."""
    from engine.evaluation.depth_fit import MAX_NEAR_FIELD_GAIN, NEAR_FIELD

    rng = np.random.default_rng(1)
    fans = [default_fan("2CH"), default_fan("4CH")] * 3
    real = rng.integers(60, 120, size=(6, 96, 96)).astype(np.uint8)
    true_gains = (1.5, 1.3, 0.7, 1.2, 1.1)  # bin 0's centre (0.1) is in the near field, bin 1's (0.3) not
    assert 0.1 < NEAR_FIELD < 0.3
    drawn = np.stack([np.clip(image / gain_map(fan, true_gains, 96, 96), 0, 255).round()
                      for image, fan in zip(real, fans)]).astype(np.uint8)
    gains = fit_gains(real, drawn, fans, bins=5)["gains"]
    assert 1.4 < gains[0] <= MAX_NEAR_FIELD_GAIN  # lifted
    assert gains[1] == gains[3] == gains[4] == 1.0 and gains[2] < 0.9  # below it: only darkened
    far_too_dark = fit_gains(real, (drawn // 4).astype(np.uint8), fans, bins=5)["gains"]
    assert far_too_dark[0] == MAX_NEAR_FIELD_GAIN  # capped
    assert fit_gains(real, drawn, fans, bins=5, near_ceiling=1.0)["gains"][0] == 1.0  # as before


def test_a_depth_gain_changes_the_image_by_depth_only(tmp_path):
    source = open_model(fan_model(tmp_path))
    labels = heart_mask()
    plain = Synthesizer(source, device="cpu").synthesize(labels, seed=3)
    gains = (0.6, 0.8, 1.0, 1.2)
    gained = Synthesizer(tune_model(source, depth_gain=gains), device="cpu").synthesize(labels, seed=3)
    fan = default_fan()
    expected = np.minimum((plain + 1) * gain_map(fan, gains, SIZE, SIZE), 2) - 1
    inside = edge_distance(fan, SIZE, SIZE) > 1
    assert np.allclose(gained[0][inside], expected[0][inside], atol=1e-5)
    assert np.all(gained[0][fan_alpha(fan, SIZE, SIZE) == 0] == -1)
    assert not np.allclose(gained, plain)


def test_model_files_keep_the_settings_and_refuse_bad_ones(tmp_path):
    path = fan_model(tmp_path, depth_gain=(0.85, 1.0, 1.05))
    assert load_model_file(path).config.depth_gain == (0.85, 1.0, 1.05)
    with pytest.raises(ModelFileError, match="depth_gain holds"):
        GeneratorConfig(ngf=4, fan=True, noise_nc=4, depth_gain=(0.1,))
    with pytest.raises(ModelFileError, match="depth_gain needs a fan model"):
        GeneratorConfig(ngf=4, depth_gain=(1.1,))
    # a damaged file: a gain that is text
    from engine.models.schema import check_fields, ARCHITECTURE
    with pytest.raises(ModelFileError, match="depth_gain is .* a list of numbers"):
        check_fields({"depth_gain": [1.0, "x"]}, ARCHITECTURE, "architecture")


def test_tune_sets_and_fits_the_depth_gain(tmp_path, capsys, one_thread):
    from engine.data.phantom import write_phantom

    source = fan_model(tmp_path)
    out = tmp_path / "gained.safetensors"
    assert main(["tune", "--model", str(source), "--out", str(out), "--depth-gain", "0.9,1,1.1"]) == 0
    assert "depth gain 0.9,1,1.1" in capsys.readouterr().out
    assert load_model_file(out).config.depth_gain == (0.9, 1.0, 1.1)
    assert main(["tune", "--model", str(out), "--out", str(out), "--overwrite", "--depth-gain", "none"]) == 0
    assert load_model_file(out).config.depth_gain == ()
    assert main(["tune", "--model", str(source), "--out", str(tmp_path / "x.safetensors"),
                 "--depth-gain", "1,9"]) == 2
    assert "between 0.25 and 4" in capsys.readouterr().err

    data = tmp_path / "data"
    write_phantom(data, count=2, size=SIZE, seed=2)
    shutil.copytree(data / "train", data / "valid")  # the fit reads the valid split
    fitted = tmp_path / "fitted.safetensors"
    assert main(["tune", "--model", str(source), "--out", str(fitted), "--fit-depth-gain", str(data)]) == 0
    assert "depth gain fitted on" in capsys.readouterr().out
    expected = fit_model_depth_gain(data, open_model(source), "valid")
    assert load_model_file(fitted).config.depth_gain == expected["gains"]
    assert len(expected["gains"]) == 10 and all(0.25 <= g <= 4 for g in expected["gains"])
