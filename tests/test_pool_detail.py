"""Pool detail: the blood pools' speckle scaled by where each pool lies, fitted to real pools."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from engine.cli.main import main
from engine.errors import CardiganError, ModelFileError
from engine.evaluation.pool_detail_fit import fit_model_pool_detail, fit_pool_gains, pool_details
from engine.fan import default_fan, fan_alpha, fan_mask
from engine.labels import LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM
from engine.models import load_model_file, open_model
from engine.models.tuning import tune_model
from engine.nets import GeneratorConfig
from engine.nets.pool_detail import apply_pool_detail, pool_depths, pool_problem
from engine.synthesizer import Synthesizer
from nets_util import fan_model_file, tune_inputs

SIZE = 128


def heart(lv_rows=(30, 60), la_rows=(80, 105)) -> np.ndarray:
    """A label map in the default fan: a wall around an LV, an atrium further down."""
    labels = np.zeros((SIZE, SIZE), np.uint8)
    labels[lv_rows[0] - 6:lv_rows[1] + 6, 44:84] = MYOCARDIUM
    labels[lv_rows[0]:lv_rows[1], 52:76] = LV_CAVITY
    labels[la_rows[0]:la_rows[1], 50:78] = LEFT_ATRIUM
    return labels


def textured(seed: int = 0) -> np.ndarray:
    """(1, 1, H, W) float image in [-1, 1]: a grey level with grain, black outside the fan."""
    rng = np.random.default_rng(seed)
    image = -0.2 + 0.15 * rng.standard_normal((SIZE, SIZE))
    return np.where(fan_mask(default_fan(), SIZE, SIZE), image, -1.0)[None, None].astype(np.float32)


def core(labels: np.ndarray, value: int) -> np.ndarray:
    return ndimage.binary_erosion(labels == value, iterations=4)


def test_curves_are_checked_and_need_a_fan_model():
    assert pool_problem(()) is None and pool_problem((0.5, 1.0, 1.5)) is None
    assert "between" in pool_problem((0.1,)) and "between" in pool_problem((True,))
    assert "at most" in pool_problem((1.0,) * 40) and "list" in pool_problem("1,2")
    with pytest.raises(ModelFileError, match="pool_detail holds"):
        GeneratorConfig(ngf=4, fan=True, noise_nc=4, pool_detail=(3.0,))
    with pytest.raises(ModelFileError, match="pool_detail needs a fan model"):
        GeneratorConfig(ngf=4, pool_detail=(0.8,))


def test_each_pool_gets_the_gain_at_its_own_depth_and_tissue_is_left_alone():
    labels = heart()
    image = textured()
    depths = pool_depths(labels, default_fan())
    assert depths[LV_CAVITY] < depths[LEFT_ATRIUM]
    # a curve that halves the detail of a shallow pool and leaves a deep one as it is
    gains = (0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0)
    assert depths[LV_CAVITY] < 0.45 and depths[LEFT_ATRIUM] > 0.55
    out = apply_pool_detail(image, labels[None], [default_fan()], gains)
    assert apply_pool_detail(image, labels[None], [default_fan()], ()) is image
    before, after = image[0, 0].astype(np.float64), out[0, 0].astype(np.float64)
    lv = core(labels, LV_CAVITY)
    detail = lambda x: x - ndimage.gaussian_filter(x, 2)  # noqa: E731
    assert detail(after)[lv].std() / detail(before)[lv].std() == pytest.approx(0.5, abs=0.1)
    assert ndimage.gaussian_filter(after, 3)[lv].mean() == pytest.approx(ndimage.gaussian_filter(before, 3)[lv].mean(),
                                                                         abs=0.01)  # the grey level kept
    assert np.array_equal(after[core(labels, LEFT_ATRIUM)], before[core(labels, LEFT_ATRIUM)])  # gain 1
    far = ndimage.distance_transform_edt(~np.isin(labels, (LV_CAVITY, LEFT_ATRIUM))) > 1
    assert np.array_equal(after[far], before[far])  # the wall and the rest of the fan untouched
    assert np.all(after[fan_alpha(default_fan(), SIZE, SIZE) == 0] == -1)


def test_a_pool_moved_deeper_takes_the_deeper_gain():
    gains = (0.5,) * 4 + (1.0,) * 4
    shallow, deep = heart((30, 60)), heart((70, 95), (100, 120))
    image = textured(1)
    for labels, expected in ((shallow, 0.5), (deep, 1.0)):
        out = apply_pool_detail(image, labels[None], [default_fan()], gains)[0, 0]
        lv = core(labels, LV_CAVITY)
        change = np.abs(out - image[0, 0])[lv].mean()
        assert (change > 0.02) == (expected != 1.0)


def test_the_fit_finds_a_grain_that_grows_near_the_probe():
    rng = np.random.default_rng(3)
    labels, real, drawn, fans = [], [], [], []
    for k in range(40):
        top = 20 + (k % 10) * 6
        mask = heart((top, top + 22), (top + 30, top + 46))
        image = 100 + 6 * rng.standard_normal((SIZE, SIZE))
        model_image = image.copy()
        lv_depth = pool_depths(mask, default_fan())[LV_CAVITY]
        pools = np.isin(mask, (LV_CAVITY, LEFT_ATRIUM))
        # the model's pools grainier the nearer they lie to the probe: 2x at the top, 1x at depth 0.8
        model_image[pools] = 100 + (image[pools] - 100) * np.interp(lv_depth, (0.0, 0.8), (2.0, 1.0))
        inside = fan_mask(default_fan(), SIZE, SIZE)
        real.append(np.where(inside, np.clip(image, 0, 255), 0).astype(np.uint8))
        drawn.append(np.where(inside, np.clip(model_image, 0, 255), 0).astype(np.uint8))
        labels.append(mask)
        fans.append(default_fan())
    real, drawn, labels = np.stack(real), np.stack(drawn), np.stack(labels)
    depths, _ = pool_details(real, labels, fans)
    assert len(depths) == 80
    fit = fit_pool_gains(real, drawn, labels, fans)
    gains = np.asarray(fit["gains"])
    assert len(gains) == 8 and gains.min() < 0.75 and np.all(np.diff(gains[np.asarray(fit["pools"]) > 0]) >= -0.05)
    # the gain at each LV's depth undoes its excess grain
    for depth in (0.25, 0.45):
        expected = 1.0 / np.interp(depth, (0.0, 0.8), (2.0, 1.0))
        assert np.interp(depth, (np.arange(8) + 0.5) / 8, gains) == pytest.approx(expected, abs=0.12)


def test_the_synthesizer_applies_it_and_model_files_keep_it(tmp_path):
    path = fan_model_file(tmp_path / "fan.safetensors", 64)
    source = open_model(path)
    labels = heart()[::2, ::2]
    plain = Synthesizer(source, device="cpu").synthesize(labels, seed=5)[0]
    smoothed = Synthesizer(tune_model(source, pool_detail=(0.3,) * 4), device="cpu").synthesize(labels, seed=5)[0]
    lv = ndimage.binary_erosion(labels == LV_CAVITY, iterations=2)
    assert np.abs(smoothed - plain)[lv].mean() > 1e-4
    assert np.array_equal(smoothed[labels == MYOCARDIUM], plain[labels == MYOCARDIUM])
    saved = fan_model_file(tmp_path / "pools.safetensors", 64, pool_detail=(0.8, 1.2))
    assert load_model_file(saved).config.pool_detail == (0.8, 1.2)


def test_tune_fits_and_removes_the_pool_detail(tmp_path, capsys, one_thread):
    source, data, fitted = tune_inputs(tmp_path, 128)
    assert main(["tune", "--model", str(source), "--out", str(fitted), "--fit-pool-detail", str(data)]) == 0
    out = capsys.readouterr().out
    expected = fit_model_pool_detail(data, open_model(source), "valid")
    assert f"pool detail fitted on {expected['images']} valid pairs" in out
    assert load_model_file(fitted).config.pool_detail == expected["gains"]
    from cardigan_app.panels.model_summary import summary_text
    assert "pool speckle by depth" in summary_text(open_model(fitted).summary())
    cleared = tmp_path / "cleared.safetensors"
    assert main(["tune", "--model", str(fitted), "--out", str(cleared), "--pool-detail", "none"]) == 0
    assert load_model_file(cleared).config.pool_detail == () and "pool detail none" in capsys.readouterr().out


def test_the_fit_refuses_models_without_a_fan(tmp_path):
    from nets_util import plain_model_file

    path = plain_model_file(tmp_path / "plain.safetensors")
    with pytest.raises(CardiganError, match="a pool detail needs a model that takes the fan"):
        fit_model_pool_detail(tmp_path, open_model(path))


def test_the_pools_box_gives_what_the_whole_image_would():
    from engine.fan import blur_within
    from engine.nets.depth_gain import gain_depths
    from engine.nets.pool_detail import pool_weight
    from engine.nets.speckle_shape import SPLIT

    labels, image, fan = heart(), textured(4)[0, 0], default_fan()
    gains = (0.4, 0.6, 0.8, 1.2, 1.5)
    inside = fan_mask(fan, SIZE, SIZE).astype(np.float64)
    picture = image.astype(np.float64)
    detail = picture - blur_within(picture, inside, SPLIT)
    factor = sum(pool_weight(labels == value, SIZE / 256) * (np.interp(depth, gain_depths(5), gains) - 1)
                 for value, depth in pool_depths(labels, fan).items())
    whole = np.clip(picture + factor * inside * detail, -1, 1)
    assert np.allclose(apply_pool_detail(image[None, None], labels[None], [fan], gains)[0, 0], whole, atol=1e-6)
