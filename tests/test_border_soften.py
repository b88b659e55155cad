"""Border softening: the edges drawn on the mask's borders faded in patches, fitted to real."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from engine.cli.main import main
from engine.errors import CardiganError, ModelFileError
from engine.evaluation.border_soften_fit import fit_model_border_soften, fit_strengths
from engine.evaluation.borders import border_edge_ratio
from engine.fan import default_fan, fan_mask
from engine.labels import LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM
from engine.models import load_model_file, open_model
from engine.models.tuning import tune_model
from engine.nets import GeneratorConfig
from engine.nets.border_soften import apply_border_soften, patches, soften_one, soften_problem
from engine.synthesizer import Synthesizer
from nets_util import fan_model_file, tune_inputs

SIZE = 128
LA_ONLY = (0.0, 0.0, 3.0, 0.0, 3.0)  # the atrium's borders with the background and the wall


def heart(la_rows: tuple[int, int] = (80, 105)) -> np.ndarray:
    labels = np.zeros((SIZE, SIZE), np.uint8)
    labels[30:80, 44:84] = MYOCARDIUM
    labels[36:74, 52:76] = LV_CAVITY
    labels[la_rows[0]:la_rows[1], 50:78] = LEFT_ATRIUM
    return labels


def drawn(labels: np.ndarray, seed: int, line: float) -> np.ndarray:
    """(H, W) float image in [-1, 1]: region levels and grain, with a bright line of ``line``
    along the atrium's outline; black outside the default fan."""
    rng = np.random.default_rng(seed)
    levels = np.array([-0.25, -0.45, -0.1, -0.4])[labels]
    image = levels + 0.25 * ndimage.gaussian_filter(rng.standard_normal(labels.shape), 0.7) / 0.4
    atrium = labels == LEFT_ATRIUM
    outline = atrium & ~ndimage.binary_erosion(atrium, iterations=2)
    image = image + line * ndimage.gaussian_filter(outline.astype(float), 0.7) / 0.5
    return np.where(fan_mask(default_fan(), SIZE, SIZE), np.clip(image, -1, 1), -1.0).astype(np.float32)


def test_settings_are_checked_and_need_a_fan_model():
    assert soften_problem(()) is None and soften_problem(LA_ONLY) is None
    assert "needs 5" in soften_problem((1.0, 2.0)) and "list" in soften_problem("1")
    assert "between 0 and" in soften_problem((5.0, 0, 0, 0, 0)) and "between" in soften_problem((True, 0, 0, 0, 0))
    with pytest.raises(ModelFileError, match="border_soften"):
        GeneratorConfig(ngf=4, fan=True, noise_nc=4, border_soften=(-1.0, 0, 0, 0, 0))
    with pytest.raises(ModelFileError, match="border_soften needs a fan model"):
        GeneratorConfig(ngf=4, border_soften=LA_ONLY)


def test_a_drawn_outline_fades_and_the_rest_is_left_as_it_was():
    labels, fan = heart(), default_fan()
    image = drawn(labels, 0, line=0.35)
    out = soften_one(image, labels, fan, LA_ONLY, seed=3)
    grey = lambda x: np.clip((x + 1) * 127.5, 0, 255)  # noqa: E731
    inside = fan_mask(fan, SIZE, SIZE)
    before = border_edge_ratio(grey(image), labels, LEFT_ATRIUM, 0, inside)
    after = border_edge_ratio(grey(out), labels, LEFT_ATRIUM, 0, inside)
    assert after < before - 0.05
    # the LV's own borders were not asked for: far from the atrium nothing changes
    atrium_reach = ndimage.binary_dilation(labels == LEFT_ATRIUM, iterations=12)
    assert np.array_equal(out[~atrium_reach], image[~atrium_reach])
    assert np.array_equal(out[~inside], image[~inside])
    # where nothing is drawn on the border, the regions keep their grey level (to 2.5 grey levels:
    # a step between two regions is softened too)
    plain = drawn(labels, 0, line=0.0)
    kept = soften_one(plain, labels, fan, LA_ONLY, seed=3)
    for value in (LEFT_ATRIUM, MYOCARDIUM, 0):
        assert abs(kept[labels == value].mean() - plain[labels == value].mean()) < 0.02


def test_each_seed_fades_its_own_patches_and_one_seed_always_the_same():
    labels, fan = heart(), default_fan()
    image = drawn(labels, 1, line=0.35)
    first = soften_one(image, labels, fan, LA_ONLY, seed=3)
    assert np.array_equal(first, soften_one(image, labels, fan, LA_ONLY, seed=3))
    assert not np.allclose(first, soften_one(image, labels, fan, LA_ONLY, seed=4))
    field = patches(3, (SIZE, SIZE), 4.0)
    assert field.min() >= 0 and field.max() <= 1 and 0.3 < field.mean() < 0.7
    assert np.array_equal(field, patches(3, (SIZE, SIZE), 4.0))
    batch = np.stack([image, image])[:, None]
    out = apply_border_soften(batch, np.stack([labels, labels]), [fan, fan], LA_ONLY, [3, 3])
    assert np.array_equal(out[0, 0], first) and np.array_equal(out[1, 0], first)
    assert apply_border_soften(batch, np.stack([labels, labels]), [fan, fan], (), [3, 3]) is batch


def test_the_fit_softens_the_border_drawn_too_sharply_and_leaves_the_others():
    labels = np.stack([heart(la_rows=(92, 112))] * 40)  # the atrium apart, so its outline touches no other border
    fans = [default_fan()] * 40
    to_grey = lambda x: np.clip(np.round((x + 1) * 127.5), 0, 255).astype(np.uint8)  # noqa: E731
    real = np.stack([to_grey(drawn(m, i, line=0.0)) for i, m in enumerate(labels)])
    synthetic = np.stack([to_grey(drawn(m, 100 + i, line=0.35)) for i, m in enumerate(labels)])
    fit = fit_strengths(real, synthetic, labels, fans)
    lv_myo, myo_bg, la_bg, lv_la, myo_la = fit["strengths"]
    assert la_bg > 0 and abs(fit["fitted"][2] - fit["real"][2]) < abs(fit["synthetic"][2] - fit["real"][2])
    assert lv_myo == 0 and myo_bg == 0  # drawn as real draws them already


def test_the_synthesizer_applies_it_and_model_files_keep_it(tmp_path):
    source = open_model(fan_model_file(tmp_path / "fan.safetensors", 64))
    labels = heart()[::2, ::2]
    plain = Synthesizer(source, device="cpu").synthesize(labels, seed=5)[0]
    soft = Synthesizer(tune_model(source, border_soften=LA_ONLY), device="cpu").synthesize(labels, seed=5)[0]
    changed = np.abs(soft - plain) > 1e-6
    near = ndimage.binary_dilation(labels == LEFT_ATRIUM, iterations=2) & ~ndimage.binary_erosion(
        labels == LEFT_ATRIUM, iterations=2)
    assert changed[near].any() and not changed[~ndimage.binary_dilation(labels == LEFT_ATRIUM, iterations=8)].any()
    saved = fan_model_file(tmp_path / "soft.safetensors", 64, border_soften=LA_ONLY)
    assert load_model_file(saved).config.border_soften == LA_ONLY


def test_tune_fits_and_removes_the_border_softening(tmp_path, capsys, one_thread):
    source, data, fitted = tune_inputs(tmp_path, 128)
    assert main(["tune", "--model", str(source), "--out", str(fitted), "--fit-border-soften", str(data)]) == 0
    out = capsys.readouterr().out
    expected = fit_model_border_soften(data, open_model(source), "valid")
    assert f"border softening fitted on {expected['images']} valid pairs" in out
    assert load_model_file(fitted).config.border_soften == expected["strengths"]
    cleared = tmp_path / "cleared.safetensors"
    assert main(["tune", "--model", str(fitted), "--out", str(cleared), "--border-soften", "none"]) == 0
    assert load_model_file(cleared).config.border_soften == () and "border softening none" in capsys.readouterr().out


def test_the_panel_names_it_and_the_fit_refuses_models_without_a_fan(tmp_path):
    from cardigan_app.panels.model_summary import summary_text
    from nets_util import plain_model_file

    soft = open_model(fan_model_file(tmp_path / "soft.safetensors", 64, border_soften=LA_ONLY))
    assert "drawn borders faded in patches" in summary_text(soft.summary())
    path = plain_model_file(tmp_path / "plain.safetensors")
    with pytest.raises(CardiganError, match="a border softening needs a model that takes the fan"):
        fit_model_border_soften(tmp_path, open_model(path))
